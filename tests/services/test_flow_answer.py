"""The USSD fast way: an answer inside a flow, served from the session row, or declined.

Whose session it is and repeats are judged before (tests/services/test_ussd_steps.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cli.simulate import UssdDial
from models import Answer, Checkin, OutboundMessage, Session, Worker, db
from services import flow_answer, step_store
from services.demo import seed_demo
from services.step_store import new_input

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


def answer(app, dialled: UssdDial, text: str, stored=None):
    """The fast way's step for `text`, as services/ussd_steps.py calls it once judged."""
    db.session.commit()
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        stored = stored or step_store.load(connection, dialled.session_id)
        connection.commit()
        entry = new_input(stored.last_input, text)
        return flow_answer.answer(connection, app.config["SETTINGS"], stored, text, entry)


def load(dialled: UssdDial) -> step_store.StoredStep:
    with db.engine.connect() as connection:
        return step_store.load(connection, dialled.session_id)


def trail() -> list[str]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Session)).one().state["flow"]["trail"]


def test_an_answer_is_stored_with_the_next_screen(app, dial):
    dialled = dial(inputs=["1"])
    reply = answer(app, dialled, "1*6").reply
    assert reply.text.startswith("Idée de changement (PDSA): où en est-elle ?\n1 Pas commencée")
    assert not reply.end
    assert trail() == ["met", "attendees"]
    assert db.session.scalars(sa.select(Session)).one().last_input == "1*6"


def test_it_declines_when_another_step_was_stored_since_the_read(app, dial):
    dialled = dial(inputs=["1"])
    stale = load(dialled)
    dialled.send("6")  # another web process answered meanwhile
    assert answer(app, dialled, "1*7", stored=stale) is None
    assert trail() == ["met", "attendees"]


def test_it_declines_a_step_outside_a_flow(app, dial):
    dialled = dial()
    db.session.execute(sa.update(Session).values(state={"stage": "menu", "options": []}))
    assert answer(app, dialled, "1") is None


def test_the_confirmation_stores_every_answer_at_once(app, dial):
    dialled = dial(inputs=TO_CONFIRM)
    step = answer(app, dialled, "*".join([*TO_CONFIRM, "1"]))
    assert (step.reply.text, step.reply.end, step.messages) == (
        "Merci, vos réponses sont enregistrées.",
        True,
        0,
    )
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 8
    assert db.session.scalars(sa.select(Checkin)).one().status == "completed"
    assert db.session.scalars(sa.select(Session)).one().status == "submitted"


def test_a_confirmation_that_raises_an_alert_writes_it_with_the_answers(app, dial):
    inputs = ["1", "6", "2", "40", "38", "1", "1", "RAS"]  # support needed: an urgent alert
    dialled = dial(inputs=inputs)
    step = answer(app, dialled, "*".join([*inputs, "1"]))
    assert step.messages == 1
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 8
    alert = db.session.scalars(sa.select(OutboundMessage)).one()
    assert (alert.kind, alert.urgent, alert.phone) == ("alert", True, "+22370000001")


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
