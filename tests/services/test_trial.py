"""A trial plays a worker's check-in through the webhooks' step services and leaves nothing:
no check-in, session, answer, inbound or outbound row survives it, whatever it did inside."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models import Answer, Checkin, InboundMessage, OutboundMessage, Session, Worker, db
from services import trial
from services.trial import TrialError, play
from services.ussd_steps import UssdSteps
from tests.supervision.districts import (
    COMPACT,
    DTC,
    FOCAL_POINT,
    SUPERVISOR,
    seed_districts,
    update_worker,
    worker,
)

WEEKLY_INPUTS = ["1", "6", "2", "40", "38", "1", "2", "RAS", "1"]
"""Met with 6 people, testing a change, 38 of 40, no obstacle, no support asked, confirmed."""
TABLES = (Checkin, Session, Answer, InboundMessage, OutboundMessage)


@pytest.fixture
def settings(app):
    seed_districts()
    return app.config["SETTINGS"]


def counts() -> dict[str, int]:
    db.session.commit()
    return {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in TABLES
    }


def test_a_ussd_trial_walks_the_real_flow_and_stores_nothing(settings):
    before = counts()
    found = play(settings, worker(FOCAL_POINT).id, "ussd", WEEKLY_INPUTS)
    assert counts() == before
    assert found.screens[0].input is None  # the dial
    assert "réunie" in found.screens[0].text
    assert [screen.input for screen in found.screens[1:]] == WEEKLY_INPUTS
    assert found.ended and "enregistr" in found.screens[-1].text
    assert found.checkin_id is not None  # it existed inside the trial only
    assert db.session.get(Checkin, found.checkin_id) is None


def test_each_screen_carries_its_length_against_the_ussd_limit(settings):
    found = play(settings, worker(FOCAL_POINT).id, "ussd", ["1"])
    for screen in found.screens:
        assert screen.units == len(screen.text)  # French prompts are GSM-7 here
        assert screen.limit == 182
        assert screen.encoding == "GSM-7"


def test_alerts_are_shown_not_sent(settings):
    asks_support = [*WEEKLY_INPUTS[:6], "1", "RAS", "1"]
    found = play(settings, worker(FOCAL_POINT).id, "ussd", asks_support)
    alerts = [message for message in found.outgoing if message.kind == "alert"]
    assert [alert.phone for alert in alerts] == [SUPERVISOR]
    assert alerts[0].text.startswith("URGENT")
    assert alerts[0].name  # the supervisor, by name
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboundMessage)) == 0


def test_an_sms_trial_shows_the_replies_and_stores_nothing(settings):
    before = counts()
    found = play(settings, worker(DTC).id, "sms", [COMPACT])
    assert counts() == before
    assert [screen.input for screen in found.screens] == [COMPACT]
    assert found.screens[0].text  # the confirmation, in Bambara
    assert found.screens[0].segments >= 1
    assert found.checkin_id is not None


def test_an_sms_conversation_is_replayed_message_by_message(settings):
    found = play(settings, worker(FOCAL_POINT).id, "sms", ["QI", "1"])
    assert [screen.input for screen in found.screens] == ["QI", "1"]
    assert "réunie" in found.screens[0].text
    assert "présents" in found.screens[1].text


def test_the_preview_reads_the_trial_answers_before_the_rollback(settings):
    def answers(checkin_id):
        rows = db.session.execute(
            sa.select(Answer.question_key, Answer.value_number).where(
                Answer.checkin_id == checkin_id
            )
        )
        return {key: value for key, value in rows}

    found = play(settings, worker(FOCAL_POINT).id, "ussd", WEEKLY_INPUTS, preview=answers)
    assert found.preview["numerator"] == 38 and found.preview["denominator"] == 40
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0


def test_the_request_session_works_after_a_trial(settings):
    person = worker(FOCAL_POINT)
    play(settings, person.id, "ussd", ["1"])
    assert person.name == "Fatoumata Diarra"  # loaded before, still readable
    assert db.session.get(Worker, person.id).phone == FOCAL_POINT


def test_a_trial_starts_from_the_real_state(settings):
    """After the focal point's real report, a trial as her colleague hears that it was sent."""
    real = UssdSteps(settings)
    for count in range(len(WEEKLY_INPUTS) + 1):
        real.step("real-session", FOCAL_POINT, "*".join(WEEKLY_INPUTS[:count]))
    assert counts()["answers"] == 8
    found = play(settings, worker(DTC).id, "ussd", [])
    assert "Fatoumata" in found.screens[0].text
    assert counts()["answers"] == 8


def test_an_inactive_worker_cannot_be_tried(settings):
    update_worker(FOCAL_POINT, active=False)
    with pytest.raises(TrialError):
        play(settings, worker(FOCAL_POINT).id, "ussd", ["1"])


@pytest.mark.parametrize(
    "inputs",
    [["1"] * (trial.MAX_INPUTS + 1), ["x" * (trial.MAX_INPUT + 1)]],
    ids=["too many", "too long"],
)
def test_oversized_inputs_are_refused_before_any_replay(settings, inputs):
    with pytest.raises(TrialError):
        play(settings, worker(FOCAL_POINT).id, "ussd", inputs)


def test_a_supervisor_can_be_tried_too_and_coaching_is_shown_not_sent(settings):
    """The same services answer a viewer: MANQUANTS lists the CSComs, R writes a coaching SMS."""
    found = play(
        settings, worker(SUPERVISOR).id, "sms", ["MANQUANTS", "R CSCOM-MLB Bravo pour la réunion"]
    )
    assert "CSCOM-MLB" in found.screens[0].text
    coaching = [message for message in found.outgoing if message.kind == "coaching"]
    assert {message.phone for message in coaching} >= {FOCAL_POINT}
    assert counts()["outbox"] == 0
