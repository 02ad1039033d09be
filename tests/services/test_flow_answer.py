"""The USSD hot path: an answer inside a flow, served from the session row, or declined."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cli.simulate import UssdDial
from models import Answer, Checkin, Session, Worker, db
from services import flow_answer, step_store
from services.demo import seed_demo

FOCAL_POINT = "+22370000011"
DTC = "+22370000012"
TO_CONFIRM = ["1", "6", "2", "40", "38", "1", "2", "RAS"]


@pytest.fixture
def dial(app, client):
    seed_demo()

    def post(path: str, form: dict[str, str]) -> tuple[int, str]:
        response = client.post(path, data=form)
        return response.status_code, response.get_data(as_text=True)

    def dial(phone: str = FOCAL_POINT, inputs: list[str] | None = None) -> UssdDial:
        session = UssdDial(post, phone)
        session.start()
        for entry in inputs or []:
            session.send(entry)
        return session

    return dial


def answer(app, dialled: UssdDial, text: str, phone: str = FOCAL_POINT, stored=None):
    db.session.commit()
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        stored = stored or step_store.load(connection, dialled.session_id)
        connection.commit()
        return flow_answer.answer(connection, app.config["SETTINGS"], stored, phone, text)


def load(dialled: UssdDial) -> step_store.StoredStep:
    with db.engine.connect() as connection:
        return step_store.load(connection, dialled.session_id)


def trail() -> list[str]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Session)).one().state["flow"]["trail"]


def test_an_answer_is_stored_with_the_next_screen(app, dial):
    dialled = dial(inputs=["1"])
    reply = answer(app, dialled, "1*6")
    assert reply.text.startswith("Idée de changement (PDSA): où en est-elle ?\n1 Pas commencée")
    assert not reply.end
    assert trail() == ["met", "attendees"]
    assert db.session.scalars(sa.select(Session)).one().last_input == "1*6"


def test_a_repeated_step_gets_the_stored_reply_and_changes_nothing(app, dial):
    dialled = dial(inputs=["1", "6"])
    before = load(dialled)
    reply = answer(app, dialled, "1*6")
    assert (reply.text, reply.end) == (before.last_reply, False)
    assert trail() == ["met", "attendees"]


def test_it_declines_a_session_of_another_number(app, dial):
    dialled = dial(inputs=["1"])
    assert answer(app, dialled, "1*6", phone=DTC) is None
    assert trail() == ["met"]


def test_it_declines_when_another_step_was_stored_since_the_read(app, dial):
    dialled = dial(inputs=["1"])
    stale = load(dialled)
    dialled.send("6")  # another web process answered meanwhile
    assert answer(app, dialled, "1*7", stored=stale) is None
    assert trail() == ["met", "attendees"]


def test_it_declines_a_text_that_does_not_extend_the_last(app, dial):
    dialled = dial(inputs=["1", "6"])
    assert answer(app, dialled, "2*6*2") is None


def test_the_confirmation_stores_every_answer_at_once(app, dial):
    dialled = dial(inputs=TO_CONFIRM)
    reply = answer(app, dialled, "*".join([*TO_CONFIRM, "1"]))
    assert (reply.text, reply.end) == ("Merci, vos réponses sont enregistrées.", True)
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 8
    assert db.session.scalars(sa.select(Checkin)).one().status == "completed"
    assert db.session.scalars(sa.select(Session)).one().status == "submitted"


def test_a_confirmation_that_raises_an_alert_is_left_to_the_careful_way(app, dial):
    inputs = ["1", "6", "2", "40", "38", "1", "1", "RAS"]  # support needed: an urgent alert
    dialled = dial(inputs=inputs)
    assert answer(app, dialled, "*".join([*inputs, "1"])) is None
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0
    assert db.session.scalars(sa.select(Session)).one().status == "active"


def test_a_checkin_a_colleague_completed_first_is_left_to_the_careful_way(app, dial):
    late = dial(inputs=TO_CONFIRM)
    dial(DTC, inputs=[*TO_CONFIRM, "1"])
    assert answer(app, late, "*".join([*TO_CONFIRM, "1"])) is None
    dtc = db.session.scalars(sa.select(Worker).where(Worker.phone == DTC)).one()
    assert {a.worker_id for a in db.session.scalars(sa.select(Answer))} == {dtc.id}
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 8


def test_a_confirmation_that_lost_the_race_stores_nothing(app, dial):
    dialled = dial(inputs=TO_CONFIRM)
    stale = load(dialled)
    dialled.send("0")  # "correct", answered by another web process meanwhile
    assert answer(app, dialled, "*".join([*TO_CONFIRM, "1"]), stored=stale) is None
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0
    assert db.session.scalars(sa.select(Checkin)).one().status == "open"
    assert db.session.scalars(sa.select(Session)).one().status == "active"
