"""Supervisors and regional viewers by SMS: MANQUANTS, DETAIL, R (coaching), AIDE; and the
focal point's `R` answer. Through services/sms_steps.py, as the webhook calls it, at set times."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from flows.smstext import GSM7, UCS2
from models import Answer, OutboundMessage, db
from services.outbox import QUIET_HOURS
from services.sms_steps import Inbound
from tests.supervision.districts import (
    COMPACT,
    DTC,
    FOCAL_POINT,
    KLB_FOCAL_POINT,
    KTD_FOCAL_POINT,
    LATE_EVENING,
    OTHER_SUPERVISOR,
    REGIONAL,
    SGU_FOCAL_POINT,
    SNB_FOCAL_POINT,
    SUPERVISOR,
    WEDNESDAY,
    facility_by_code,
    seed_districts,
    update_worker,
    worker,
)

_ids = itertools.count(1)
HELP = (
    "MANQUANTS: CSCom sans réponse. DETAIL code: réponses d'un CSCom. R code texte: message au "
    "point focal QI. STOP: plus de SMS. FR/BM: langue."
)
MLB_DETAIL = (
    "CSCOM-MLB S49 par Fatoumata Diarra: met=Oui, attendees=6, change_status=En test, "
    "denominator=45, numerator=40, obstacle=Aucun, support=Non, comment=RAS"
)


@pytest.fixture
def districts(app):
    seed_districts()


@pytest.fixture
def sms(app):
    """Send an SMS at `now` through the service; returns the replies to its sender it wrote."""

    def sms(sender: str, text: str, now: datetime = WEDNESDAY) -> list[str]:
        before = _last_id()
        steps = app.extensions["sms_steps"]
        steps.receive(Inbound(f"ATXid_{next(_ids)}", sender, text), now)
        return [row.text for row in rows(since=before, phone=sender, kind="reply")]

    return sms


def _last_id() -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(OutboundMessage.id), 0)))


def rows(since: int = 0, phone: str | None = None, kind: str | None = None):
    query = sa.select(OutboundMessage).where(OutboundMessage.id > since)
    if phone is not None:
        query = query.where(OutboundMessage.phone == phone)
    if kind is not None:
        query = query.where(OutboundMessage.kind == kind)
    return list(db.session.scalars(query.order_by(OutboundMessage.id)))


def coaching(phone: str | None = None):
    return rows(phone=phone, kind="coaching")


def one(replies: list[str]) -> str:
    assert len(replies) == 1, replies
    return replies[0]


# -- MANQUANTS --------------------------------------------------------------------------------------


def test_missing_lists_the_districts_cscoms_yet_to_report_this_period(districts, sms):
    sms(FOCAL_POINT, COMPACT)
    sms(KLB_FOCAL_POINT, COMPACT)  # the other district reports: not this supervisor's business
    assert one(sms(SUPERVISOR, "MANQUANTS")) == (
        "S49 Suivi QI de la semaine: 2 CSCom sans réponse: "
        "CSCOM-KTD CSCom Kati Dar Salam, CSCOM-SNB CSCom Sanankoroba"
    )


def test_missing_says_so_when_every_expected_cscom_has_reported(districts, sms):
    for phone in (FOCAL_POINT, KTD_FOCAL_POINT, SNB_FOCAL_POINT):
        sms(phone, COMPACT)
    assert one(sms(SUPERVISOR, "missing")) == "S49 Suivi QI de la semaine: les 3 CSCom ont répondu."


def test_a_regional_viewer_sees_every_district_of_the_region_and_no_other(districts, sms):
    sms(FOCAL_POINT, COMPACT)
    text = one(sms(REGIONAL, "Manquants."))
    assert text.startswith("S49 Suivi QI de la semaine: 3 CSCom sans réponse: ")
    assert ["CSCOM-KLB" in text, "CSCOM-KTD" in text, "CSCOM-SNB" in text] == [True] * 3
    assert "CSCOM-SGU" not in text and "CSCOM-MLB" not in text


def test_missing_in_bambara_is_spelt_for_basic_phones(districts, sms):
    update_worker(SUPERVISOR, language="bm")
    for phone in (FOCAL_POINT, KTD_FOCAL_POINT, SNB_FOCAL_POINT):
        sms(phone, COMPACT)
    text = one(sms(SUPERVISOR, "MANQUANTS"))
    assert text.startswith("S49 QI dògòkun ")  # the flow's Bambara title
    assert text.endswith(": CSCom 3 bèè ye jaabi ci.")
    assert not set("ɛɔɲŋ") & set(text)


def test_a_long_missing_list_keeps_the_codes_within_two_segments(districts, sms):
    kati = facility_by_code("CSREF-KATI")
    from models import Facility, Worker

    for number in range(40):
        cscom = Facility(code=f"CSCOM-K{number:02d}", name=f"CSCom numéro {number}", kind="cscom")
        cscom.parent = kati
        db.session.add(cscom)
        db.session.add(
            Worker(
                name=f"Agent {number}", phone=f"+2237100{number:04d}", facility=cscom, role="dtc"
            )
        )
    db.session.commit()
    text = one(sms(SUPERVISOR, "MANQUANTS"))
    sent = rows(phone=SUPERVISOR)[-1]
    assert (sent.encoding, sent.segments) == (GSM7, 2)
    assert text.startswith("S49 Suivi QI de la semaine: 43 CSCom sans réponse: CSCOM-K00 CSCOM-K01")
    assert "CSCom numéro" not in text  # names give way to codes, which DETAIL and R need
    assert text.endswith(" autres")


def test_without_a_scheduled_flow_missing_says_there_is_none(app, sms):
    seed_districts()
    db.session.execute(sa.text("UPDATE flows SET active = false"))
    db.session.commit()
    from services import flow_store

    flow_store.forget_active_flows()
    assert one(sms(SUPERVISOR, "MANQUANTS")) == "Aucun suivi programmé en ce moment."


# -- DETAIL -----------------------------------------------------------------------------------------


def test_detail_gives_the_latest_checkin_in_short(districts, sms):
    sms(FOCAL_POINT, COMPACT)
    assert one(sms(SUPERVISOR, "DETAIL cscom-mlb")) == MLB_DETAIL


def test_detail_reads_the_reference_submission_not_a_later_one(districts, sms):
    sms(FOCAL_POINT, COMPACT)
    checkin_id = db.session.scalar(sa.select(Answer.checkin_id))
    moussa = worker(DTC).id
    db.session.add(
        Answer(
            checkin_id=checkin_id,
            worker_id=moussa,
            question_key="met",
            value_text="no",
            reference=False,
        )
    )
    db.session.commit()
    assert one(sms(SUPERVISOR, "DETAIL CSCOM-MLB")) == MLB_DETAIL


def test_detail_in_bambara_uses_the_flows_bambara_labels(districts, sms):
    update_worker(SUPERVISOR, language="bm")
    sms(FOCAL_POINT, COMPACT)
    text = one(sms(SUPERVISOR, "Détail CSCOM-MLB"))
    assert text.startswith("CSCOM-MLB S49, Fatoumata Diarra ye a ci: met=Awò, attendees=6, ")
    assert "support=Ayi" in text


def test_detail_of_a_cscom_that_never_answered(districts, sms):
    assert one(sms(SUPERVISOR, "DETAIL CSCOM-KTD")) == "CSCOM-KTD: pas encore de réponse."


def test_another_districts_code_gets_the_same_answer_as_an_unknown_code(districts, sms):
    sms(KLB_FOCAL_POINT, COMPACT)  # it exists, and it has answers
    other = one(sms(SUPERVISOR, "DETAIL CSCOM-KLB"))
    unknown = one(sms(SUPERVISOR, "DETAIL CSCOM-XYZ"))
    assert other == "Code CSCOM-KLB inconnu. Envoyez MANQUANTS ou AIDE."
    assert other.replace("KLB", "XYZ") == unknown


def test_a_regional_viewer_reads_any_district_of_the_region_but_not_another_region(districts, sms):
    sms(KLB_FOCAL_POINT, COMPACT)
    sms(SGU_FOCAL_POINT, COMPACT)
    assert one(sms(REGIONAL, "DETAIL CSCOM-KLB")).startswith("CSCOM-KLB S49 par Assitan Coulibaly:")
    assert (
        one(sms(REGIONAL, "DETAIL CSCOM-SGU"))
        == "Code CSCOM-SGU inconnu. Envoyez MANQUANTS ou AIDE."
    )


def test_detail_without_a_code_says_how_to_ask(districts, sms):
    assert one(sms(SUPERVISOR, "DETAIL")) == (
        "Envoyez DETAIL et le code du CSCom, ex.: DETAIL CSCOM-MLB"
    )


# -- R: coaching ------------------------------------------------------------------------------------


def test_r_sends_one_signed_message_to_the_focal_point_and_confirms_at_once(districts, sms):
    assert one(sms(SUPERVISOR, "R CSCOM-MLB Bravo pour la réunion, continuez")) == (
        "Message envoyé à Fatoumata Diarra (CSCOM-MLB)."
    )
    [message] = coaching()
    assert message.phone == FOCAL_POINT
    assert message.text == (
        "Message de Dr Awa Traoré: Bravo pour la réunion, continuez\n"
        "Pour répondre: R et votre texte"
    )
    assert (message.not_before, message.status, message.failure_reason) == (
        WEDNESDAY,
        "pending",
        None,
    )
    assert coaching(DTC) == []  # the DTC is not the QI focal point


def test_in_quiet_hours_the_note_waits_and_the_confirmation_says_until_when(districts, sms):
    reply = one(sms(SUPERVISOR, "R CSCOM-MLB Pensez au registre", now=LATE_EVENING))
    assert reply == (
        "Message pour Fatoumata Diarra (CSCOM-MLB): il partira à 07:00, après les heures calmes."
    )
    [message] = coaching()
    assert message.not_before == LATE_EVENING.replace(hour=7) + timedelta(days=1)
    assert message.failure_reason == QUIET_HOURS
    assert rows(phone=SUPERVISOR)[-1].not_before == LATE_EVENING  # the confirmation is a reply


def test_every_active_focal_point_of_the_cscom_gets_it_in_their_own_language(districts, sms):
    update_worker(DTC, role="qi_focal_point")  # Moussa, Bambara
    assert one(sms(SUPERVISOR, "R CSCOM-MLB Bravo")) == (
        "Message envoyé à Fatoumata Diarra, Moussa Coulibaly (CSCOM-MLB)."
    )
    texts = {message.phone: message.text for message in coaching()}
    assert texts[DTC] == "Cikan Dr Awa Traoré fè: Bravo\nK'a jaabi: R ni i ka kuma ci"
    assert texts[FOCAL_POINT].startswith("Message de Dr Awa Traoré: Bravo")


@pytest.mark.parametrize(
    ("change", "code", "why"),
    [
        (
            {"opted_out": True},
            "CSCOM-MLB",
            "CSCOM-MLB: le point focal QI a envoyé STOP. Message non envoyé.",
        ),
        (
            {"active": False},
            "CSCOM-MLB",
            "CSCOM-MLB: aucun point focal QI actif. Message non envoyé.",
        ),
        ({}, "CSCOM-KLB", "Code CSCOM-KLB inconnu. Envoyez MANQUANTS ou AIDE."),  # another district
    ],
    ids=["opted-out", "no-active-focal-point", "another-district"],
)
def test_when_the_note_cannot_go_nothing_is_sent_and_the_supervisor_is_told_why(
    districts, sms, change, code, why
):
    if change:
        update_worker(FOCAL_POINT, **change)
    assert one(sms(SUPERVISOR, f"R {code} Bravo")) == why
    assert coaching() == []


def test_with_one_of_two_focal_points_opted_out_it_goes_to_the_other(districts, sms):
    update_worker(DTC, role="qi_focal_point")
    update_worker(FOCAL_POINT, opted_out=True)
    assert one(sms(SUPERVISOR, "R CSCOM-MLB Bravo")) == (
        "Message envoyé à Moussa Coulibaly (CSCOM-MLB)."
    )
    assert [message.phone for message in coaching()] == [DTC]


def test_a_note_over_two_segments_is_cut_and_the_supervisor_told(districts, sms):
    note = "Merci pour le rapport de la semaine. " * 12  # 444 characters
    reply = one(sms(SUPERVISOR, f"R CSCOM-MLB {note}"))
    assert reply == "Message envoyé à Fatoumata Diarra (CSCOM-MLB). Texte coupé à 2 SMS."
    [message] = coaching()
    assert (message.encoding, message.segments) == (GSM7, 2)
    assert message.text.endswith("...\nPour répondre: R et votre texte")
    assert len(message.text) > 290  # cut to the budget, not far below it


def test_a_note_that_needs_unicode_is_cut_to_two_unicode_segments(districts, sms):
    note = "Très bien 👍 " + "continuez ainsi " * 20
    assert one(sms(SUPERVISOR, f"R CSCOM-MLB {note}")).endswith("Texte coupé à 2 SMS.")
    [message] = coaching()
    assert (message.encoding, message.segments) == (UCS2, 2)
    assert "👍" in message.text


def test_r_without_a_text_says_how_to_write_it(districts, sms):
    assert one(sms(SUPERVISOR, "R CSCOM-MLB")) == (
        "Envoyez R, le code du CSCom puis le message, ex.: R CSCOM-MLB Bravo"
    )
    assert coaching() == []


def test_a_regional_viewer_coaches_any_cscom_of_the_region(districts, sms):
    assert one(sms(REGIONAL, "R CSCOM-KLB Bonne continuation")) == (
        "Message envoyé à Assitan Coulibaly (CSCOM-KLB)."
    )
    assert coaching(KLB_FOCAL_POINT)[0].text.startswith("Message de Dr Seydou Diallo: Bonne")


# -- the focal point's answer ------------------------------------------------------------------------


def test_the_focal_points_r_answer_goes_to_the_supervisor_who_coached(districts, sms):
    sms(SUPERVISOR, "R CSCOM-MLB Bravo")
    assert one(sms(FOCAL_POINT, "R Merci, réunion jeudi")) == "Message envoyé à Dr Awa Traoré."
    [answer] = coaching(SUPERVISOR)
    assert answer.text == "Réponse de Fatoumata Diarra (CSCOM-MLB): Merci, réunion jeudi"


def test_the_answer_goes_to_whoever_coached_the_cscom_last(districts, sms):
    sms(SUPERVISOR, "R CSCOM-MLB Bravo")
    sms(REGIONAL, "R CSCOM-MLB Félicitations de la région")
    sms(DTC, "R Aw ni ce")  # a colleague of the focal point may answer too
    assert coaching(SUPERVISOR) == []
    assert coaching(REGIONAL)[0].text == "Réponse de Moussa Coulibaly (CSCOM-MLB): Aw ni ce"


def test_an_answer_in_quiet_hours_waits_too(districts, sms):
    sms(SUPERVISOR, "R CSCOM-MLB Bravo")
    assert one(sms(FOCAL_POINT, "R Merci", now=LATE_EVENING)) == (
        "Message pour Dr Awa Traoré: il partira à 07:00, après les heures calmes."
    )


def test_without_r_or_without_coaching_the_message_is_handled_as_before(districts, sms):
    hint = "Envoyez QI pour répondre au suivi, AIDE pour l'aide."
    assert one(sms(FOCAL_POINT, "R Merci")) == hint  # nobody coached this CSCom
    sms(SUPERVISOR, "R CSCOM-MLB Bravo")
    assert one(sms(FOCAL_POINT, "Merci docteur")) == hint
    assert one(sms(FOCAL_POINT, "R A S")) == hint
    assert coaching(SUPERVISOR) == []


def test_an_answer_to_a_supervisor_who_opted_out_is_handled_as_before(districts, sms):
    sms(SUPERVISOR, "R CSCOM-MLB Bravo")
    update_worker(SUPERVISOR, opted_out=True)
    assert one(sms(FOCAL_POINT, "R Merci")) == (
        "Envoyez QI pour répondre au suivi, AIDE pour l'aide."
    )
    assert coaching(SUPERVISOR) == []


# -- AIDE, STOP, language, and who the keywords are for ------------------------------------------------


@pytest.mark.parametrize("phone", [SUPERVISOR, REGIONAL])
def test_help_for_viewers_lists_their_keywords(districts, sms, phone):
    assert one(sms(phone, "AIDE")) == HELP


def test_help_in_bambara(districts, sms):
    update_worker(SUPERVISOR, language="bm")
    assert one(sms(SUPERVISOR, "help")).startswith(
        "MANQUANTS: CSCom minnu ma jaabi ci. DETAIL kode"
    )


def test_a_viewers_message_that_is_no_command_gets_the_list_of_commands(districts, sms):
    assert one(sms(SUPERVISOR, "Bonjour, qui manque ?")) == HELP
    assert one(sms(SUPERVISOR, "QI")) == "Aucun suivi ouvert pour vous en ce moment. Merci."


def test_a_health_workers_help_and_missing_are_as_before(districts, sms):
    assert one(sms(FOCAL_POINT, "AIDE")).startswith("QI: répondre au suivi.")
    assert one(sms(FOCAL_POINT, "MANQUANTS")) == (
        "Envoyez QI pour répondre au suivi, AIDE pour l'aide."
    )
    assert one(sms(FOCAL_POINT, "DETAIL CSCOM-MLB")) == (
        "Envoyez QI pour répondre au suivi, AIDE pour l'aide."
    )


def test_stop_start_and_language_still_work_for_viewers(districts, sms):
    assert one(sms(SUPERVISOR, "STOP")).startswith("Vous ne recevrez plus de SMS")
    assert sms(SUPERVISOR, "MANQUANTS") == []  # opted out: silence
    assert one(sms(SUPERVISOR, "START")).startswith("Vous recevez de nouveau")
    assert one(sms(SUPERVISOR, "BM")) == "Kan: bamanankan. QI ci ka jaabi di."
    assert one(sms(SUPERVISOR, "AIDE")).startswith("MANQUANTS: CSCom minnu ma jaabi ci.")


def test_another_districts_supervisor_sees_only_their_own(districts, sms):
    sms(FOCAL_POINT, COMPACT)
    assert one(sms(OTHER_SUPERVISOR, "MANQUANTS")) == (
        "S49 Suivi QI de la semaine: 1 CSCom sans réponse: CSCOM-KLB CSCom Koulikoro Gare"
    )
    assert one(sms(OTHER_SUPERVISOR, "DETAIL CSCOM-MLB")).startswith("Code CSCOM-MLB inconnu.")
