"""Supervisors and regional viewers through the gateway's webhooks (POST /sms/incoming, /ussd),
on SQLite and PostgreSQL: they learn who is missing, read a CSCom's answers and coach it, by SMS
and by USSD, and learn nothing about another district."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cli.simulate import UssdDial
from flows.smstext import GSM7
from models import InboundMessage, OutboundMessage, db
from tests.supervision.districts import (
    COMPACT,
    FOCAL_POINT,
    KLB_FOCAL_POINT,
    LATE_EVENING,
    REGIONAL,
    SUPERVISOR,
    WEDNESDAY,
    seed_districts,
    update_worker,
)

_ids = itertools.count(1)


@pytest.fixture
def districts(app):
    seed_districts()


@pytest.fixture
def clock(monkeypatch):
    """The moment both webhooks take as now; tests move it."""
    moment = {"now": WEDNESDAY}
    monkeypatch.setattr("webhooks.sms.utcnow", lambda: moment["now"])
    monkeypatch.setattr("services.ussd_steps.utcnow", lambda: moment["now"])
    return moment


@pytest.fixture
def sms(client, clock):
    def sms(sender: str, text: str, gateway_id: str | None = None) -> int:
        form = {
            "from": sender,
            "to": "12345",
            "text": text,
            "date": "2026-12-02 10:00:00",
            "id": gateway_id or f"ATXid_sup_{next(_ids)}",
            "linkId": "",
            "networkCode": "61001",
        }
        return client.post("/sms/incoming", data=form).status_code

    return sms


@pytest.fixture
def dial(client, clock):
    def post(path: str, form: dict[str, str]) -> tuple[int, str]:
        response = client.post(path, data=form)
        return response.status_code, response.get_data(as_text=True)

    def dial(phone: str) -> UssdDial:
        return UssdDial(post, phone)

    return dial


def last_reply(phone: str) -> str:
    return db.session.scalars(
        sa.select(OutboundMessage.text)
        .where(OutboundMessage.phone == phone, OutboundMessage.kind == "reply")
        .order_by(OutboundMessage.id.desc())
    ).first()


def coaching(phone: str) -> list[OutboundMessage]:
    query = sa.select(OutboundMessage).where(
        OutboundMessage.phone == phone, OutboundMessage.kind == "coaching"
    )
    return list(db.session.scalars(query.order_by(OutboundMessage.id)))


def test_a_supervisor_learns_who_is_missing_by_sms(districts, sms):
    assert sms(FOCAL_POINT, COMPACT) == 200
    assert sms(SUPERVISOR, "manquants") == 200
    assert last_reply(SUPERVISOR) == (
        "S49 Suivi QI de la semaine: 2 CSCom sans réponse: "
        "CSCOM-KTD CSCom Kati Dar Salam, CSCOM-SNB CSCom Sanankoroba"
    )


def test_by_sms_another_districts_code_reads_as_an_unknown_one(districts, sms):
    sms(KLB_FOCAL_POINT, COMPACT)
    sms(SUPERVISOR, "DETAIL CSCOM-KLB")
    other = last_reply(SUPERVISOR)
    sms(SUPERVISOR, "DETAIL CSCOM-NOPE")
    assert other.replace("CSCOM-KLB", "?") == last_reply(SUPERVISOR).replace("CSCOM-NOPE", "?")
    sms(SUPERVISOR, "R CSCOM-KLB Bonjour")
    assert last_reply(SUPERVISOR) == other
    assert coaching(KLB_FOCAL_POINT) == []


def test_coaching_in_quiet_hours_waits_and_the_answer_comes_back(districts, sms, clock):
    clock["now"] = LATE_EVENING
    sms(SUPERVISOR, "R CSCOM-MLB Bravo pour la réunion")
    assert last_reply(SUPERVISOR) == (
        "Message pour Fatoumata Diarra (CSCOM-MLB): il partira à 07:00, après les heures calmes."
    )
    [note] = coaching(FOCAL_POINT)
    assert note.not_before == LATE_EVENING.replace(hour=7) + timedelta(days=1)
    clock["now"] = WEDNESDAY + timedelta(days=1)
    sms(FOCAL_POINT, "r Merci docteur, c'est noté")
    assert last_reply(FOCAL_POINT) == "Message envoyé à Dr Awa Traoré."
    [answer] = coaching(SUPERVISOR)
    assert answer.text == "Réponse de Fatoumata Diarra (CSCOM-MLB): Merci docteur, c'est noté"
    assert answer.not_before == clock["now"]


def test_a_repeated_callback_coaches_once(districts, sms):
    sms(SUPERVISOR, "R CSCOM-MLB Bravo", gateway_id="ATXid_same")
    sms(SUPERVISOR, "R CSCOM-MLB Bravo", gateway_id="ATXid_same")
    assert len(coaching(FOCAL_POINT)) == 1
    assert db.session.scalar(sa.select(sa.func.count(InboundMessage.id))) == 1


def test_an_overflowing_note_is_cut_to_two_segments(districts, sms):
    sms(SUPERVISOR, "R CSCOM-MLB " + "Pensez à mettre à jour le registre des CPN. " * 10)
    assert last_reply(SUPERVISOR).endswith("Texte coupé à 2 SMS.")
    [note] = coaching(FOCAL_POINT)
    assert (note.encoding, note.segments) == (GSM7, 2)


def test_an_opted_out_focal_point_is_not_coached(districts, sms):
    sms(FOCAL_POINT, "STOP")
    sms(SUPERVISOR, "R CSCOM-MLB Bravo")
    assert (
        last_reply(SUPERVISOR) == "CSCOM-MLB: le point focal QI a envoyé STOP. Message non envoyé."
    )
    assert coaching(FOCAL_POINT) == []


def test_hostile_commands_get_short_answers(districts, sms):
    assert sms(SUPERVISOR, "DETAIL " + "X" * 4_000) == 200
    assert last_reply(SUPERVISOR) == f"Code {'X' * 20} inconnu. Envoyez MANQUANTS ou AIDE."
    assert sms(SUPERVISOR, "R CSCOM-MLB " + "🙂" * 2_000) == 200
    [note] = coaching(FOCAL_POINT)
    assert note.segments == 2


@pytest.mark.parametrize("phone", [SUPERVISOR, REGIONAL])
def test_viewers_help_lists_their_keywords(districts, sms, phone):
    sms(phone, "Aide")
    assert last_reply(phone).startswith("MANQUANTS: CSCom sans réponse. DETAIL code:")


def test_a_supervisor_walks_the_menu_by_ussd(districts, sms, dial):
    sms(FOCAL_POINT, COMPACT)
    session = dial(SUPERVISOR)
    status, menu = session.start()
    assert (status, menu) == (
        200,
        "CON CSRef de Kati\n1 CSCom manquants\n2 Alertes de la semaine\n3 Réponses d'un CSCom",
    )
    assert session.send("1")[1].startswith("CON S49 Suivi QI de la semaine: 2 CSCom sans réponse:")
    assert session.send("0")[1] == menu
    assert session.send("3")[1] == "CON Code du CSCom ?\n0 Retour"
    assert session.send("CSCOM-MLB")[1].startswith(
        "CON CSCOM-MLB S49 par Fatoumata Diarra: met=Oui"
    )
    assert session.resend()[1].startswith("CON CSCOM-MLB S49")  # a repeated step: the same screen


def test_by_ussd_another_districts_code_reads_as_an_unknown_one(districts, sms, dial):
    sms(KLB_FOCAL_POINT, COMPACT)
    session = dial(SUPERVISOR)
    session.start()
    session.send("3")
    _, other = session.send("CSCOM-KLB")
    _, unknown = session.send("CSCOM-NOPE")
    assert other.replace("CSCOM-KLB", "?") == unknown.replace("CSCOM-NOPE", "?")
    assert "Assitan" not in other


def test_a_regional_viewer_in_bambara_by_ussd(districts, sms, dial):
    update_worker(REGIONAL, language="bm")
    sms(KLB_FOCAL_POINT, COMPACT)
    session = dial(REGIONAL)
    assert session.start()[1] == (
        "CON Région de Koulikoro\n1 CSCom minnu ma jaabi ci\n2 Dògòkun lasòminiw\n3 CSCom ka jaabiw"
    )
    session.send("3")
    assert session.send("cscom-klb")[1].startswith("CON CSCOM-KLB S49, Assitan Coulibaly ye a ci:")
