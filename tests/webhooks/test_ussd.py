"""POST /ussd and /ussd/events, as the gateway calls them, on SQLite and PostgreSQL."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from cli.simulate import UssdDial
from models import Answer, Checkin, OutboundMessage, Session, UssdEvent, Worker, db
from services import flow_store
from services.conversation import Conversation
from services.demo import seed_demo
from services.flow_store import publish
from tests.conftest import POSTGRES_URL

FOCAL_POINT = "+22370000011"  # Fatoumata, French, CSCom Malibougou
DTC = "+22370000012"  # Moussa, Bambara, same CSCom
MIDWIFE = "+22370000013"  # not among the weekly flow's roles
WHOLE_CHECKIN = ["1", "6", "2", "40", "38", "1", "2", "Bonne semaine", "1"]
STOCK_FLOW = """
    key: stock
    languages: [fr]
    title: Stock
    questions:
      - key: doses
        type: number
        prompt: "Doses en stock ?"
"""


@pytest.fixture(autouse=True, params=["fast", "careful"])
def way(request, app):
    """Every test runs both ways through a step: the fast way where it applies, and careful only.

    Both must give the same screens and store the same rows (services/ussd_steps.py).
    """
    steps = app.extensions["ussd_steps"]
    steps.fast = request.param == "fast"
    yield request.param
    steps.fast = True


@pytest.fixture
def seeded(app):
    seed_demo()


@pytest.fixture
def post(client):
    def post(path: str, form: dict[str, str]) -> tuple[int, str]:
        response = client.post(path, data=form)
        assert response.mimetype == "text/plain"
        return response.status_code, response.get_data(as_text=True)

    return post


def dial(post, phone: str = FOCAL_POINT, **kwargs) -> UssdDial:
    return UssdDial(post, phone, **kwargs)


def answers() -> dict[str, object]:
    return {a.question_key: a.value for a in db.session.scalars(sa.select(Answer))}


def walk(session: UssdDial, inputs: list[str]) -> str:
    body = ""
    for entry in inputs:
        status, body = session.send(entry)
        assert status == 200
    return body


# -- the whole check-in ---------------------------------------------------------------------------


def test_a_worker_completes_the_weekly_checkin_in_french(seeded, post):
    session = dial(post)
    status, first = session.start()
    assert status == 200
    assert first == "CON L'équipe QI s'est réunie cette semaine ?\n1 Oui\n2 Non"

    last = walk(session, WHOLE_CHECKIN)

    assert last == "END Merci, vos réponses sont enregistrées."
    assert answers() == {
        "met": "yes",
        "attendees": 6,
        "change_status": "being_tested",
        "denominator": 40,
        "numerator": 38,
        "obstacle": "none",
        "support": "no",
        "comment": "Bonne semaine",
    }
    checkin = db.session.scalars(sa.select(Checkin)).one()
    assert (checkin.status, checkin.channel) == ("completed", "ussd")
    assert checkin.completed_by.phone == FOCAL_POINT


def test_a_bambara_speaker_walks_it_in_bambara_written_in_gsm_letters(seeded, post):
    session = dial(post, DTC)
    _, first = session.start()
    assert first.startswith("CON QI jèkulu ye nyògònye kè dògòkun in na wa?\n1 Awò\n2 Ayi")
    last = walk(session, WHOLE_CHECKIN)
    assert last == "END Aw ni ce, aw ka jaabiw sèbènna."
    assert len(answers()) == 8


def test_no_answer_is_stored_before_the_confirmation(seeded, post):
    session = dial(post)
    session.start()
    confirm = walk(session, WHOLE_CHECKIN[:-1])
    assert confirm == (
        "CON Vos réponses: Oui, 6, En test, 40, 38, Aucun, Non, Bonne semaine\n"
        "1 Envoyer\n0 Corriger"
    )
    assert answers() == {}
    assert walk(session, ["1"]).startswith("END Merci")
    assert len(answers()) == 8


def test_each_step_may_reach_a_process_that_has_not_read_the_flow_yet(seeded, post):
    session = dial(post)
    session.start()
    for entry in WHOLE_CHECKIN:
        flow_store.clear_cache()  # a freshly started web process (SQLite: no lock held over)
        status, body = session.send(entry)
        assert status == 200
    assert body == "END Merci, vos réponses sont enregistrées."
    assert len(answers()) == 8


def test_the_draft_is_committed_at_every_step_so_another_process_can_serve_the_next(seeded, post):
    session = dial(post)
    session.start()
    walk(session, ["1", "6"])
    db.session.remove()  # as if the next step reached another web process
    stored = db.session.scalars(sa.select(Session)).one()
    assert stored.state["flow"]["answers"] == {"met": "yes", "attendees": 6}


# -- input handling -------------------------------------------------------------------------------


def test_an_invalid_choice_is_asked_again_with_the_reason(seeded, post):
    session = dial(post)
    session.start()
    body = walk(session, ["7"])
    assert (
        body
        == "CON Choix invalide: tapez 1 à 2.\nL'équipe QI s'est réunie cette semaine ?\n1 Oui\n2 Non"
    )


def test_a_number_out_of_range_is_asked_again_with_the_limit(seeded, post):
    session = dial(post)
    session.start()
    assert (
        walk(session, ["1", "41"])
        == "CON Le maximum est 40.\nCombien de membres étaient présents ?"
    )
    assert walk(session, ["abc"]) == "CON Tapez un nombre.\nCombien de membres étaient présents ?"


def test_the_numerator_cannot_exceed_the_denominator(seeded, post):
    session = dial(post)
    session.start()
    body = walk(session, ["1", "6", "2", "40", "41"])
    assert body.startswith("CON Le maximum est 40.\nParmi eux")


def test_zero_goes_back_on_a_choice_and_double_zero_on_a_number(seeded, post):
    session = dial(post)
    session.start()
    assert walk(session, ["1", "6", "0"]).startswith("CON Combien de membres")
    assert walk(session, ["00"]).startswith("CON L'équipe QI")
    assert walk(session, ["1", "0"]).startswith("CON Idée de changement")  # 0 people is an answer


def test_a_changed_earlier_answer_drops_the_answers_no_longer_asked(seeded, post):
    session = dial(post)
    session.start()
    walk(session, ["1", "6", "00", "00", "2"])  # met: yes, 6 attendees, back twice, met: no
    walk(session, WHOLE_CHECKIN[2:])
    assert answers()["met"] == "no"
    assert "attendees" not in answers()


def test_a_star_typed_inside_an_answer_is_kept(seeded, post):
    session = dial(post)
    session.start()
    walk(session, [*WHOLE_CHECKIN[:7], "rupture *ACT*", "1"])
    assert answers()["comment"] == "rupture *ACT*"


def test_an_emoji_is_a_valid_comment_but_not_a_valid_choice(seeded, post):
    session = dial(post)
    session.start()
    assert walk(session, ["👍"]).startswith("CON Choix invalide")
    walk(session, [*WHOLE_CHECKIN[:7], "merci 👍", "1"])
    assert answers()["comment"] == "merci 👍"


# -- repeats, resume and colleagues ----------------------------------------------------------------


def test_a_repeated_step_gets_the_same_answer_and_records_nothing_twice(seeded, post):
    session = dial(post)
    session.start()
    screen = walk(session, WHOLE_CHECKIN[:3])
    assert session.resend() == (200, screen)
    assert db.session.scalars(sa.select(Session)).one().state["flow"]["trail"] == [
        "met",
        "attendees",
        "change_status",
    ]
    walk(session, WHOLE_CHECKIN[3:])
    final_again = session.resend()
    assert final_again == (200, "END Merci, vos réponses sont enregistrées.")
    assert len(answers()) == 8
    assert db.session.scalar(sa.select(sa.func.count(Checkin.id))) == 1


def test_a_repeated_first_step_gets_the_same_screen_and_one_session(seeded, post):
    session = dial(post)
    first = session.start()
    assert session.resend() == first
    assert db.session.scalar(sa.select(sa.func.count(Session.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Checkin.id))) == 1
    assert walk(session, ["1"]).startswith("CON Combien de membres")


def test_a_dropped_session_is_offered_to_continue_where_it_stopped(seeded, post):
    first = dial(post)
    first.start()
    walk(first, ["1", "6"])
    second = dial(post)
    _, offer = second.start()
    assert (
        offer
        == "CON Vous avez un suivi en cours (Suivi QI de la semaine).\n1 Continuer\n2 Recommencer"
    )
    assert walk(second, ["1"]).startswith("CON Idée de changement")
    assert walk(second, WHOLE_CHECKIN[2:]).startswith("END Merci")
    assert answers()["attendees"] == 6


def test_a_dropped_session_can_be_started_again(seeded, post):
    first = dial(post)
    first.start()
    walk(first, ["1", "6"])
    second = dial(post)
    second.start()
    assert walk(second, ["2"]).startswith("CON L'équipe QI")
    assert walk(second, ["9"]).startswith("CON Choix invalide")


def test_a_session_dropped_before_the_resume_window_starts_afresh(seeded, post, app):
    first = dial(post)
    first.start()
    walk(first, ["1", "6"])
    window = app.config["SETTINGS"].resume_hours
    old = db.session.scalars(sa.select(Session)).one()
    old.updated_at -= timedelta(hours=window, minutes=1)
    db.session.commit()
    _, body = dial(post).start()
    assert body.startswith("CON L'équipe QI")


def test_a_checkin_completed_by_a_colleague_is_reported_with_their_name(seeded, post):
    walk_whole(post, FOCAL_POINT)
    _, body = dial(post, DTC).start()
    assert body == "END QI dògòkun kòlòsili: Fatoumata Diarra y'a ci ka ban. I ni ce."


def test_a_colleague_answering_right_now_is_named_above_the_first_question(seeded, post):
    dial(post, DTC).start()  # Moussa started a moment ago
    _, body = dial(post).start()
    notice, question = body.removeprefix("CON ").split("\n", 1)
    assert notice.startswith("Moussa répond depuis ") and notice.endswith(".")
    assert question.startswith("L'équipe QI s'est réunie cette semaine ?")
    session = db.session.scalars(sa.select(Session).where(Session.worker_id == worker(DTC).id))
    session.one().updated_at -= timedelta(minutes=4)
    db.session.commit()
    assert dial(post).start()[1].startswith("CON L'équipe QI")  # no longer right now


def test_a_person_who_already_sent_is_not_told_their_own_name(seeded, post):
    walk_whole(post, FOCAL_POINT)
    _, body = dial(post).start()
    assert body == "END Suivi QI de la semaine: vous avez déjà envoyé pour cette période. Merci."


def test_when_two_colleagues_answer_at_once_both_are_kept_and_the_first_is_the_reference(
    seeded, post
):
    one, other = dial(post, FOCAL_POINT), dial(post, DTC)
    one.start()
    other.start()
    walk(other, WHOLE_CHECKIN[:-1])
    walk(one, WHOLE_CHECKIN)
    late = walk(other, ["1"])
    assert late == "END Fatoumata Diarra tun y'a ci ka ban. I ka jaabiw fana marala. I ni ce."
    stored = db.session.scalars(sa.select(Answer)).all()
    assert len(stored) == 16
    assert {a.worker_id for a in stored if a.reference} == {worker(FOCAL_POINT).id}
    assert {a.worker_id for a in stored if not a.reference} == {worker(DTC).id}
    checkin = db.session.scalars(sa.select(Checkin)).one()
    assert checkin.completed_by.phone == FOCAL_POINT


def test_a_later_colleagues_urgent_request_still_reaches_the_supervisor(seeded, post):
    first, late = dial(post, FOCAL_POINT), dial(post, DTC)
    first.start()
    late.start()
    walk(late, ["1", "6", "2", "40", "38", "1", "1", "RAS"])  # support needed: urgent
    walk(first, WHOLE_CHECKIN)  # no alert
    assert walk(late, ["1"]).startswith("END Fatoumata Diarra tun y'a ci")
    alert = db.session.scalars(sa.select(OutboundMessage)).one()
    assert (alert.kind, alert.urgent, alert.phone) == ("alert", True, "+22370000001")


def test_an_answer_that_raises_an_alert_writes_it_with_the_answers(seeded, post):
    session = dial(post)
    session.start()
    # support needed (urgent alert); the others raise none
    assert walk(session, ["1", "6", "2", "40", "38", "1", "1", "RAS", "1"]).startswith("END Merci")
    alert = db.session.scalars(sa.select(OutboundMessage)).one()
    assert (alert.phone, alert.kind, alert.urgent) == ("+22370000001", "alert", True)
    assert alert.text.startswith("URGENT CSCom Malibougou: l'équipe QI demande l'appui du CSRef")
    assert len(answers()) == 8


def test_a_checkin_without_alert_writes_no_message(seeded, post):
    assert walk_whole(post, FOCAL_POINT).startswith("END Merci")
    assert db.session.scalar(sa.select(sa.func.count(OutboundMessage.id))) == 0


def walk_whole(post, phone: str) -> str:
    session = dial(post, phone)
    session.start()
    return walk(session, WHOLE_CHECKIN)


def worker(phone: str) -> Worker:
    return db.session.scalars(sa.select(Worker).where(Worker.phone == phone)).one()


def test_a_session_begun_after_a_publish_asks_the_new_version(seeded, post):
    """Sessions under way finish on their version; the first confirmed gives the check-in its."""
    under_way = dial(post, DTC)
    under_way.start()  # opens this week's check-in on version 1
    source = (Path(__file__).parents[2] / "flows" / "weekly_qi.yaml").read_text()
    renamed = source.replace(
        "L'équipe QI s'est réunie cette semaine ?", "Réunion QI tenue cette semaine ?"
    )
    assert renamed != source
    publish(renamed)
    db.session.commit()
    session = dial(post)
    _, first = session.start()  # below the notice that Moussa is answering
    assert "\nRéunion QI tenue cette semaine ?" in first
    assert walk(session, WHOLE_CHECKIN).startswith("END Merci")
    checkin = db.session.scalars(sa.select(Checkin)).one()
    assert checkin.flow_version.version == 2
    assert walk(under_way, WHOLE_CHECKIN).startswith("END ")  # on version 1, kept as well
    db.session.expire_all()
    assert db.session.scalars(sa.select(Checkin)).one().flow_version.version == 2


def test_several_open_flows_are_offered_as_a_numbered_menu(seeded, post):
    publish(textwrap.dedent(STOCK_FLOW))
    db.session.commit()
    session = dial(post)
    _, menu = session.start()
    assert menu == "CON Choisissez le suivi:\n1 Stock\n2 Suivi QI de la semaine"
    assert walk(session, ["2"]).startswith("CON L'équipe QI")
    assert walk(session, ["00"]).startswith("CON Choisissez le suivi")
    assert walk(session, ["1", "12", "1"]) == "END Stock"
    assert answers() == {"doses": 12}


def test_a_code_dialled_with_every_answer_stores_them_with_their_session(seeded, post):
    publish(textwrap.dedent(STOCK_FLOW))
    db.session.commit()
    assert dial(post, inputs=["1", "12", "1"]).start() == (200, "END Stock")
    stored = db.session.scalars(sa.select(Answer)).one()
    session = db.session.scalars(sa.select(Session)).one()
    assert (stored.question_key, stored.value, stored.session_id) == ("doses", 12, session.id)


def test_a_worker_with_nothing_open_is_told_so(seeded, post):
    assert dial(post, MIDWIFE).start() == (
        200,
        "END Kòlòsili si tè i ye sisan. I ni ce.",
    )


def test_an_unknown_or_inactive_number_gets_a_clear_end_and_nothing_is_stored(seeded, post):
    worker(DTC).active = False
    db.session.commit()
    for phone in ("+22376999999", DTC):
        status, body = dial(post, phone).start()
        assert (status, body) == (200, "END Ce numéro n'est pas enregistré. Contactez votre CSRef.")
    assert db.session.scalar(sa.select(sa.func.count(Session.id))) == 0


def test_a_code_dialled_with_extra_digits_answers_the_first_screen(seeded, post):
    session = dial(post, inputs=["1"])
    assert session.start()[1].startswith("CON Combien de membres")


# -- bad requests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["sessionId", "phoneNumber", "text"])
def test_a_request_missing_a_gateway_field_is_refused_with_400(seeded, client, missing):
    form = {"sessionId": "s1", "phoneNumber": FOCAL_POINT, "text": ""}
    del form[missing]
    response = client.post("/ussd", data=form)
    assert response.status_code == 400
    assert missing in response.get_data(as_text=True)


def test_a_malformed_phone_number_is_refused_with_400(seeded, client):
    response = client.post("/ussd", data={"sessionId": "s1", "phoneNumber": "12ab", "text": ""})
    assert response.status_code == 400
    assert "phone number" in response.get_data(as_text=True)


def test_invalid_utf8_is_refused_with_400_and_nothing_stored(seeded, client):
    body = b"sessionId=s1&phoneNumber=%2B22370000011&text=1%2A%FF%FE"
    response = client.post("/ussd", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "UTF-8" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Session.id))) == 0


def test_a_10kb_text_ends_the_session_with_a_reason_and_records_nothing(seeded, post):
    session = dial(post)
    session.start()
    status, body = session.send("1" * 10_000)
    assert (status, body) == (200, "END Réponse trop longue. Recomposez le code.")
    stored = db.session.scalars(sa.select(Session)).one()
    assert stored.state["flow"]["answers"] == {}


def test_an_unknown_session_with_a_long_history_is_ended_politely(seeded, post):
    session = dial(post, inputs=["1", "6", "2", "40", "38"])
    assert session.start() == (200, "END Session interrompue. Recomposez le code pour reprendre.")
    assert answers() == {}


def test_a_text_that_does_not_extend_the_session_ends_it(seeded, post):
    session = dial(post)
    session.start()
    walk(session, ["1", "6"])
    session.inputs = ["2", "3"]
    assert session.resend() == (200, "END Session interrompue. Recomposez le code pour reprendre.")


def test_a_session_id_sent_from_another_number_does_not_reach_that_session(seeded, post):
    session = dial(post)
    session.start()
    before = walk(session, ["1"])
    for inputs in (["1", "6"], ["1"]):  # a new step, and a copy of the owner's last one
        intruder = dial(post, DTC, session_id=session.session_id, inputs=inputs)
        assert intruder.resend() == (200, "END Baara tigèra. Kode wele tugun ka taa a fè.")
    stored = db.session.scalars(sa.select(Session)).one()
    assert (stored.last_input, stored.last_reply) == ("1", before.removeprefix("CON "))
    assert stored.state["flow"]["trail"] == ["met"]
    assert session.send("6")[1].startswith("CON Idée de changement (PDSA)")


def test_a_worker_deactivated_mid_session_is_not_served_further(seeded, post):
    session = dial(post)
    session.start()
    walk(session, ["1"])
    worker(FOCAL_POINT).active = False
    db.session.commit()
    assert session.send("6") == (
        200,
        "END Ce numéro n'est pas enregistré. Contactez votre CSRef.",
    )
    assert db.session.scalars(sa.select(Session)).one().state["flow"]["trail"] == ["met"]


# -- token, events, health --------------------------------------------------------------------------


def test_with_a_webhook_token_a_request_without_it_is_forbidden(seeded, app, client, monkeypatch):
    monkeypatch.setitem(
        app.config, "SETTINGS", replace(app.config["SETTINGS"], webhook_token="s3cret")
    )
    form = {"sessionId": "s1", "phoneNumber": FOCAL_POINT, "text": ""}
    assert client.post("/ussd", data=form).status_code == 403
    assert client.post("/ussd?token=wrong", data=form).status_code == 403
    assert client.post("/ussd?token=s3cret", data=form).status_code == 200
    assert client.post("/ussd/events", data={"sessionId": "s1"}).status_code == 403


def test_the_end_of_session_notification_is_stored_once(seeded, client):
    form = {
        "date": "2026-11-27 10:00:00",
        "sessionId": "ATUid_1",
        "serviceCode": "*384*1#",
        "networkCode": "99999",
        "phoneNumber": FOCAL_POINT,
        "status": "Incomplete",
        "cost": "XOF 10",
        "durationInMillis": "41000",
        "hopsCount": "3",
        "input": "1*6",
        "lastAppResponse": "CON Idée de changement",
        "errorMessage": "",
    }
    for _ in range(2):
        assert client.post("/ussd/events", data=form).status_code == 200
    event = db.session.scalars(sa.select(UssdEvent)).one()
    assert (event.status, event.duration_ms, event.input) == ("Incomplete", 41000, "1*6")


def test_ussd_keeps_answering_when_redis_is_down(seeded, app, post):
    from workers.queues import connect

    monkey_redis = connect("redis://127.0.0.1:1/0")
    app.extensions["redis"], real = monkey_redis, app.extensions["redis"]
    try:
        session = dial(post)
        session.start()
        assert walk(session, WHOLE_CHECKIN).startswith("END Merci")
    finally:
        app.extensions["redis"] = real


def test_a_step_is_answered_when_postgresql_cut_every_connection(seeded, app, post):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a restart is simulated by terminating PostgreSQL backends")
    session = dial(post)
    session.start()
    walk(session, ["1"])
    db.session.commit()  # the test holds no connection either
    name = db.engine.url.query["application_name"]
    with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True) as admin:
        cut = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s",
            (name,),
        ).fetchone()[0]
    assert cut >= 1  # the pool's idle connections are dead now
    assert session.send("6")[1].startswith("CON Idée de changement (PDSA)")
    assert db.session.scalars(sa.select(Session)).one().state["flow"]["trail"] == [
        "met",
        "attendees",
    ]


def test_health_reports_database_and_redis(seeded, app, client):
    report = client.get("/healthz").get_json()
    assert (report["status"], report["database"], report["redis"]) == ("ok", "ok", "ok")
    from workers.queues import connect

    app.extensions["redis"], real = connect("redis://127.0.0.1:1/0"), app.extensions["redis"]
    try:
        response = client.get("/healthz")
    finally:
        app.extensions["redis"] = real
    assert response.status_code == 200
    assert response.get_json()["status"] == "degraded"
    assert response.get_json()["redis"].startswith("down")


def test_an_unexpected_error_ends_with_an_apology_in_the_persons_language(
    seeded, post, monkeypatch, caplog
):
    def broken(*_args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Conversation, "begin", broken)
    assert dial(post, DTC).start() == (
        200,
        "END Baara tè taa sisan. Aw ye segin a kan sòòni.",
    )
    failure = next(r for r in caplog.records if r.levelname == "ERROR")
    assert failure.exc_info is not None  # logged with its traceback
    assert dial(post).start()[1].startswith("END Service indisponible.")


def test_when_the_database_is_unreachable_the_person_gets_an_apology(unreachable_database):
    form = {"sessionId": "s1", "phoneNumber": FOCAL_POINT, "text": "1", "serviceCode": "*1#"}
    response = unreachable_database.post("/ussd", data=form)
    assert (response.status_code, response.get_data(as_text=True)) == (
        200,
        "END Service indisponible. Réessayez dans quelques minutes.",
    )
