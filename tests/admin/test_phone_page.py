"""The phone in the page: an admin tries a worker's check-in screen by screen; the page shows
each screen with its length, the answers and what would have been sent, and nothing is stored
or sent. Starting the trial is recorded in the audit log; the steps leave no trace."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models import Answer, AuditEntry, Checkin, OutboundMessage, Session, db
from tests.admin.conftest import ADMIN, csrf_token, page_text
from tests.services.test_trial import WEEKLY_INPUTS
from tests.supervision.districts import COMPACT, DTC, FOCAL_POINT, update_worker, worker

STORED = (Checkin, Session, Answer, OutboundMessage, AuditEntry)


def rows() -> dict[str, int]:
    db.session.commit()
    return {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in STORED
    }


@pytest.fixture
def admin(signed_in):
    return signed_in(ADMIN)


def start(client, phone: str, channel: str):
    form = {"worker_id": worker(phone).id, "channel": channel}
    return client.post(
        "/admin/phone", data={**form, "csrf_token": csrf_token(client, "/admin/phone")}
    )


def send(client, sent: list[str], entry: str):
    form = {"sent": sent, "entry": entry, "csrf_token": csrf_token(client, "/admin/phone")}
    return client.post("/admin/phone/try", data=form)


def test_the_admin_finds_a_worker_by_name_phone_or_facility(admin):
    for query in ("fatou", "70000011", "CSCOM-MLB"):
        text = page_text(admin.get("/admin/phone", query_string={"q": query}))
        assert "Fatoumata Diarra" in text, query
    assert "Fatoumata" not in page_text(admin.get("/admin/phone", query_string={"q": "zzz"}))


def test_starting_a_trial_is_audited_as_who_tried_what_as_whom(admin):
    before = rows()["audit_log"]
    response = start(admin, FOCAL_POINT, "ussd")
    assert response.status_code == 302 and response.location.endswith("/admin/phone/try")
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert rows()["audit_log"] == before + 1
    assert (entry.actor, entry.action) == (ADMIN.email, "trial.start")
    assert entry.target == f"worker:{worker(FOCAL_POINT).id}"
    assert entry.after["channel"] == "ussd" and entry.after["worker"] == "Fatoumata Diarra"


def test_a_whole_ussd_check_in_in_the_page_stores_and_sends_nothing(admin):
    start(admin, FOCAL_POINT, "ussd")
    first = page_text(admin.get("/admin/phone/try"))
    assert "L'équipe QI s'est réunie cette semaine ?" in first
    assert "/ 182 caractères" in first
    before = rows()
    sent: list[str] = []
    for entry in WEEKLY_INPUTS:
        response = send(admin, sent, entry)
        assert response.status_code == 200
        sent.append(entry)
    text = page_text(response)
    assert "Merci" in text and "session terminée" in text
    assert "Résultat de l'essai" in text
    assert "Parmi eux, combien ont bénéficié de la bonne pratique ?" in text
    assert "<td>En test</td>" in text and "<td>being_tested</td>" not in text  # by its label
    result = text.split("Résultat de l'essai", 1)[1]
    assert "<svg" in result and "essai" in result  # the run chart, with the trial's point ringed
    assert rows() == before  # no check-in, answer, message or audit row


def test_alerts_are_shown_in_the_page_instead_of_sent(admin):
    start(admin, FOCAL_POINT, "ussd")
    asks_support = [*WEEKLY_INPUTS[:6], "1", "RAS", "1"]
    response = send(admin, asks_support[:-1], asks_support[-1])
    text = page_text(response)
    assert "Ce qui serait envoyé" in text
    assert "URGENT CSCom Malibougou" in text and "Dr Awa Traoré" in text
    assert rows()["outbox"] == 0


def test_an_sms_conversation_in_the_page(admin):
    start(admin, DTC, "sms")
    text = page_text(send(admin, [], COMPACT))
    assert COMPACT in text
    assert "SMS · GSM-7" in text  # Bambara goes out transliterated
    assert "Résultat de l'essai" in text


def test_an_empty_answer_is_refused_and_what_was_typed_stays(admin):
    start(admin, FOCAL_POINT, "ussd")
    response = send(admin, ["1"], "  ")
    assert response.status_code == 422
    text = page_text(response)
    assert "Tapez une réponse avant d'envoyer." in text
    assert 'name="sent" value="1"' in response.get_data(as_text=True)
    assert "Combien de membres étaient présents ?" in text


def test_an_over_long_answer_is_refused(admin):
    start(admin, FOCAL_POINT, "ussd")
    response = send(admin, [], "9" * 481)
    assert response.status_code == 422
    assert "au plus 480 caractères" in page_text(response)


def test_without_a_started_trial_the_page_asks_whom_to_try(admin):
    response = admin.get("/admin/phone/try")
    assert response.status_code == 302 and response.location.endswith("/admin/phone")


def test_a_deactivated_worker_cannot_be_tried(admin):
    start(admin, FOCAL_POINT, "ussd")
    update_worker(FOCAL_POINT, active=False)
    response = send(admin, [], "1")
    assert response.status_code == 302 and response.location.endswith("/admin/phone")
    assert "Fatoumata" not in page_text(admin.get("/admin/phone"))
