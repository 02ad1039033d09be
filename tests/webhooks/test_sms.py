"""POST /sms/incoming and /sms/delivery, as the gateway calls them, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from models import Answer, Checkin, InboundMessage, OutboundMessage, Session, Worker, db
from services.conversation import Conversation
from services.demo import seed_demo

FOCAL_POINT = "+22370000011"  # Fatoumata, French, CSCom Malibougou
DTC = "+22370000012"  # Moussa, Bambara
SUPERVISOR = "+22370000001"
COMPACT = "QI 1 6 2 45 40 1 2 tout va bien"
_ids = itertools.count(1)


@pytest.fixture
def seeded(app):
    seed_demo()


@pytest.fixture
def sms(client):
    def sms(text: str, sender: str = FOCAL_POINT, gateway_id: str | None = None) -> int:
        form = {
            "from": sender,
            "to": "12345",
            "text": text,
            "date": "2026-11-27 10:00:00",
            "id": gateway_id or f"ATXid_in_{next(_ids)}",
            "linkId": "",
            "networkCode": "99999",
        }
        return client.post("/sms/incoming", data=form).status_code

    return sms


def replies(phone: str = FOCAL_POINT) -> list[str]:
    query = (
        sa.select(OutboundMessage.text)
        .where(OutboundMessage.phone == phone)
        .order_by(OutboundMessage.id)
    )
    return list(db.session.scalars(query))


def answers() -> dict[str, object]:
    return {a.question_key: a.value for a in db.session.scalars(sa.select(Answer))}


def worker(phone: str) -> Worker:
    db.session.expire_all()
    return db.session.scalars(sa.select(Worker).where(Worker.phone == phone)).one()


def test_a_worker_completes_the_checkin_one_question_per_sms(seeded, sms):
    assert sms("qi") == 200
    assert replies()[-1] == "L'équipe QI s'est réunie cette semaine ?\n1 Oui\n2 Non"
    for entry in ["1", "6", "2", "40", "38", "1", "2", "RAS"]:
        sms(entry)
    assert replies()[-1] == (
        "Vos réponses: Oui, 6, En test, 40, 38, Aucun, Non, RAS\n1 Envoyer\n0 Corriger"
    )
    assert answers() == {}
    sms("1")
    assert replies()[-1] == "Merci, vos réponses sont enregistrées."
    assert answers()["comment"] == "RAS"
    assert db.session.scalars(sa.select(Checkin.channel)).one() == "sms"


def test_back_keys_and_reasons_work_as_on_ussd(seeded, sms):
    sms("QI")
    sms("5")
    assert replies()[-1].startswith("Choix invalide: tapez 1 à 2.\nL'équipe QI")
    sms("1")
    sms("00")
    assert replies()[-1].startswith("L'équipe QI")


def test_a_long_last_comment_is_named_by_its_place_in_the_flow_not_by_word_count(seeded, sms):
    words = " ".join(["trop"] * 30)  # the comment takes the rest of the message: 150 characters
    sms(f"QI 1 6 2 45 40 1 2 {words}")
    assert replies()[-1].startswith("Réponse 8 sur 8 (Commentaire")
    sms("QI 2 2 45 40 1 2 RAS merci")  # no meeting: 7 answers, the comment takes "RAS merci"
    assert answers()["comment"] == "RAS merci"


def test_the_compact_form_answers_everything_in_one_message(seeded, sms):
    sms(COMPACT)
    assert replies() == ["Merci, vos réponses sont enregistrées."]
    assert answers() == {
        "met": "yes",
        "attendees": 6,
        "change_status": "being_tested",
        "denominator": 45,
        "numerator": 40,
        "obstacle": "none",
        "support": "no",
        "comment": "tout va bien",
    }


def test_a_wrong_compact_answer_is_named_and_nothing_is_stored(seeded, sms):
    sms("QI 1 6 2 45 50 1 2")
    assert replies() == [
        "Réponse 5 sur 8 (Parmi eux, combien ont bénéficié de...): Le maximum est 45. "
        "Rien n'est enregistré."
    ]
    assert answers() == {}
    sms("QI 1 6")
    assert (
        replies()[-1] == "Il manque la réponse 3 sur 8 (Idée de changement (PDSA): où en...). "
        "Rien n'est enregistré."
    )


def test_a_repeated_callback_changes_nothing(seeded, sms, client):
    assert sms(COMPACT, gateway_id="ATXid_same") == 200
    assert sms(COMPACT, gateway_id="ATXid_same") == 200
    assert db.session.scalar(sa.select(sa.func.count(InboundMessage.id))) == 1
    assert len(replies()) == 1
    assert len(answers()) == 8


def test_stop_opts_out_with_one_confirmation_then_silence(seeded, sms):
    sms("ARRÊT")
    assert worker(FOCAL_POINT).opted_out
    assert replies() == ["Vous ne recevrez plus de SMS du suivi QI. Envoyez START pour revenir."]
    sms("stop")
    sms("QI")
    assert len(replies()) == 1
    sms("Start")
    assert not worker(FOCAL_POINT).opted_out
    assert replies()[-1].startswith("Vous recevez de nouveau les SMS")


def test_stop_is_honoured_in_the_middle_of_a_checkin(seeded, sms):
    sms("QI")
    sms("1")
    sms("STOP")
    assert worker(FOCAL_POINT).opted_out
    assert replies()[-1].startswith("Vous ne recevrez plus")


@pytest.mark.parametrize("word", ["AIDE", "help", "Aide"])
def test_help_explains_the_keywords(seeded, sms, word):
    sms(word)
    assert replies() == [
        "QI: répondre au suivi. QI et toutes les réponses: en 1 SMS. 00: retour. STOP: plus de SMS. FR/BM: langue."
    ]


def test_a_worker_can_switch_language(seeded, sms):
    sms("BM")
    assert worker(FOCAL_POINT).language == "bm"
    sms("QI")
    assert replies()[-1].startswith("QI jèkulu ye nyògònye kè")


def test_an_unknown_sender_gets_one_polite_reply_a_day(seeded, sms):
    stranger = "+22376000099"
    sms("QI", sender=stranger)
    sms("bonjour ?", sender=stranger)
    assert replies(stranger) == ["Ce numéro n'est pas enregistré. Contactez votre CSRef."]
    assert db.session.scalar(sa.select(sa.func.count(InboundMessage.id))) == 2


def test_a_message_without_a_conversation_gets_a_hint(seeded, sms):
    sms("bonjour")
    assert replies() == ["Envoyez QI pour répondre au suivi, AIDE pour l'aide."]


def test_an_answer_that_needs_support_alerts_the_supervisor_at_once(seeded, sms):
    sms("QI 2 2 45 40 3 1")
    alerts = db.session.scalars(
        sa.select(OutboundMessage).where(OutboundMessage.kind == "alert")
    ).all()
    texts = {a.text: a.urgent for a in alerts}
    assert texts == {
        "CSCom Malibougou: pas de réunion QI cette semaine (Fatoumata Diarra, +22370000011)": False,
        "URGENT CSCom Malibougou: l'équipe QI demande l'appui du CSRef (Fatoumata Diarra, +22370000011)": True,
    }
    assert {a.phone for a in alerts} == {SUPERVISOR}


def test_a_request_without_the_gateway_fields_is_refused(seeded, client):
    assert client.post("/sms/incoming", data={"from": FOCAL_POINT, "text": "QI"}).status_code == 400
    assert client.post("/sms/delivery", data={"status": "Success"}).status_code == 400


# -- delivery reports -------------------------------------------------------------------------------


@pytest.fixture
def sent_message(seeded, sms):
    sms("AIDE")
    message = db.session.scalars(sa.select(OutboundMessage)).one()
    message.status, message.gateway_id = "sent", "ATXid_out_1"
    db.session.commit()
    return message


def report(client, status: str, reason: str = "", gateway_id: str = "ATXid_out_1") -> int:
    form = {
        "id": gateway_id,
        "status": status,
        "phoneNumber": FOCAL_POINT,
        "networkCode": "99999",
        "failureReason": reason,
        "retryCount": "0",
    }
    return client.post("/sms/delivery", data=form).status_code


def status_of(message: OutboundMessage) -> tuple[str, str | None]:
    db.session.expire_all()
    row = db.session.get(OutboundMessage, message.id)
    return row.status, row.failure_reason


def test_delivery_status_moves_forward_only(client, sent_message):
    assert report(client, "Submitted") == 200
    assert report(client, "Success") == 200
    assert report(client, "Sent") == 200  # late and out of order
    assert report(client, "Success") == 200  # repeated
    assert status_of(sent_message) == ("success", None)


def test_a_failure_keeps_its_reason(client, sent_message):
    report(client, "Buffered")
    report(client, "Failed", "UserIsInactive")
    assert status_of(sent_message) == ("failed", "UserIsInactive")


def test_a_report_for_an_unknown_message_is_acknowledged(client, sent_message):
    assert report(client, "Success", gateway_id="ATXid_never_sent") == 200
    assert status_of(sent_message) == ("sent", None)


# -- one person's messages, and failures --------------------------------------------------------


def test_qi_during_a_checkin_offers_to_continue_it(seeded, sms):
    sms("QI")
    sms("1")
    sms("6")
    sms("QI")
    assert replies()[-1] == (
        "Vous avez un suivi en cours (Suivi QI de la semaine).\n1 Continuer\n2 Recommencer"
    )
    sms("1")
    assert replies()[-1].startswith("Idée de changement (PDSA)")
    for entry in ["2", "45", "40", "1", "2", "RAS", "1"]:
        sms(entry)
    assert replies()[-1] == "Merci, vos réponses sont enregistrées."
    assert answers()["attendees"] == 6


def test_sms_of_one_worker_handled_at_once_all_count(seeded, sms, app):
    sms("QI")
    sms("1")  # from here "2" is a valid answer to each of the next seven questions
    at_once = 6
    barrier = threading.Barrier(at_once)

    def send(number: int) -> int:
        with app.app_context():
            barrier.wait()
            return sms("2", gateway_id=f"ATXid_at_once_{number}")

    with ThreadPoolExecutor(at_once) as pool:
        statuses = list(pool.map(send, range(at_once)))
    assert statuses == [200] * at_once
    db.session.expire_all()
    session = db.session.scalars(sa.select(Session).where(Session.status == "active")).one()
    assert len(session.state["flow"]["trail"]) == 1 + at_once
    assert len(replies()) == 2 + at_once


def test_a_message_whose_handling_fails_is_kept_and_its_sender_told(seeded, sms, monkeypatch):
    def broken(*_args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Conversation, "begin", broken)
    assert sms("QI", gateway_id="ATXid_broken") == 200
    assert replies() == ["Service indisponible. Réessayez dans quelques minutes."]
    assert db.session.scalars(sa.select(InboundMessage.text)).all() == ["QI"]
    assert sms("QI", gateway_id="ATXid_broken") == 200  # the gateway's retry changes nothing
    assert len(replies()) == 1


def test_when_the_database_is_unreachable_the_gateway_is_asked_to_retry(unreachable_database):
    form = {"from": FOCAL_POINT, "to": "12345", "text": "QI", "id": "ATXid_later", "date": ""}
    response = unreachable_database.post("/sms/incoming", data=form)
    assert response.status_code == 503
