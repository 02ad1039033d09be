"""POST /sms/delivery: reports move a message forward, and one that arrives before the send
recorded its gateway id is kept and applied then, never dropped."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from models import OutboundMessage, db
from models.base import utcnow
from models.messages import EarlyDeliveryReport
from services.outbox import compose
from tests.workers.fake_gateway import fake_gateway
from workers import outbox
from workers.outbox.sweep import EARLY_REPORTS_KEPT, sweep

PHONE = "+22370000011"
__all__ = ["fake_gateway"]  # the fixture: a provider whose message ids are known in advance


def report(client, gateway_id: str, status: str, reason: str = ""):
    form = {"id": gateway_id, "status": status, "phoneNumber": PHONE, "failureReason": reason}
    return client.post("/sms/delivery", data=form)


def kept() -> list[tuple[str, str]]:
    found = db.session.execute(
        sa.select(EarlyDeliveryReport.gateway_id, EarlyDeliveryReport.status)
    ).all()
    db.session.rollback()
    return [tuple(row) for row in found]


def the_message() -> OutboundMessage:
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboundMessage)).one()


def write_one(app) -> None:
    compose(app.config["SETTINGS"], utcnow(), phone=PHONE, text="Merci", kind="reply")
    db.session.commit()


def test_a_report_before_the_id_is_recorded_is_kept_and_applied_by_the_send(
    app, client, fake_gateway, redis, run_worker
):
    write_one(app)
    # The fake provider numbers its messages FAKE-1, FAKE-2...: the report beats the send.
    answer = report(client, "FAKE-1", "Failed", "UserIsInactive")
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "kept\n")
    assert kept() == [("FAKE-1", "failed")]
    outbox.dispatch(redis)
    run_worker()
    message = the_message()
    assert (message.gateway_id, message.status) == ("FAKE-1", "failed")
    assert message.failure_reason == "UserIsInactive"
    assert kept() == []


def test_early_reports_still_only_move_forward(app, client, fake_gateway, redis, run_worker):
    write_one(app)
    report(client, "FAKE-1", "Success")
    report(client, "FAKE-1", "Submitted")  # late and out of order
    outbox.dispatch(redis)
    run_worker()
    assert the_message().status == "success"


def test_a_report_finds_a_recorded_id_at_once(app, client, fake_gateway, redis, run_worker):
    write_one(app)
    outbox.dispatch(redis)
    run_worker()
    assert report(client, "FAKE-1", "Success").get_data(as_text=True) == "OK\n"
    assert (the_message().status, kept()) == ("success", [])


def test_a_report_kept_after_the_id_was_recorded_is_applied_by_the_webhook(app, client):
    """The race the early table must survive: the worker recorded the id and looked for early
    reports just before this one was stored, so the webhook applies it itself."""
    write_one(app)
    message = the_message()
    message.status, message.gateway_id = "sent", "ATXid_race"
    db.session.commit()
    db.session.add(EarlyDeliveryReport(gateway_id="ATXid_race", status="submitted"))
    db.session.commit()  # a report the worker's look-up missed
    report(client, "ATXid_unknown", "Success")  # any kept report triggers the look-up
    assert (the_message().status, kept()) == ("submitted", [("ATXid_unknown", "success")])


def test_reports_no_message_ever_claims_are_forgotten_after_a_week(app, client, redis):
    report(client, "ATXid_stranger", "Success")
    hour = (utcnow() + EARLY_REPORTS_KEPT).replace(minute=0) + timedelta(hours=1)
    sweep(redis, hour - timedelta(hours=2))  # within the week, on the hour
    assert kept() == [("ATXid_stranger", "success")]
    sweep(redis, hour + timedelta(minutes=1))  # past the week, not on the hour: later
    assert kept() == [("ATXid_stranger", "success")]
    sweep(redis, hour)  # the hourly clean-up
    assert kept() == []


def test_when_the_database_is_unreachable_a_report_is_left_to_the_gateways_retry(
    unreachable_database,
):
    form = {"id": "ATXid_out_1", "status": "Success", "phoneNumber": "+22370000011"}
    assert unreachable_database.post("/sms/delivery", data=form).status_code == 503
