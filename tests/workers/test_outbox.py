"""The outbox: every message leaves, through the real SDK, against the stand-in; only a request
that may have reached the gateway is ever sent twice, and then it is marked."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from models import OutboundMessage, Worker, db
from models.base import utcnow
from services.demo import seed_demo
from services.outbox import compose
from services.tick import tick
from workers import outbox
from workers.outbox.dispatch import NUDGE_KEY
from workers.outbox.retry import MAX_ATTEMPTS
from workers.outbox.send import send_batch
from workers.outbox.sweep import QUEUE_MARKER, STALE_QUEUED, STALE_SENDING, sweep
from workers.queues import connect, queue

NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # Bamako is UTC+0
NIGHT = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)


@pytest.fixture
def settings(app):
    return app.config["SETTINGS"]


def write(settings, phones, text="Rappel: suivi QI", kind="reply", now=None, **kw):
    now = now or utcnow()
    rows = [compose(settings, now, phone=p, text=text, kind=kind, **kw) for p in phones]
    db.session.commit()
    return rows


def statuses() -> dict[str, str]:
    found = {m.phone: m.status for m in db.session.scalars(sa.select(OutboundMessage))}
    db.session.rollback()  # hold no SQLite lock while a worker runs in this thread
    return found


def phones(n: int, start: int = 0) -> list[str]:
    return [f"+2237100{i:04d}" for i in range(start, start + n)]


def test_identical_texts_go_in_one_request_and_each_message_once(
    app, settings, standin, redis, run_worker
):
    write(settings, phones(5))
    assert outbox.dispatch(redis) == 5
    run_worker()
    sent = standin.messages()
    assert sorted(m.number for m in sent) == phones(5)
    assert len(standin.state.requests()) == 1
    rows = db.session.scalars(sa.select(OutboundMessage)).all()
    assert {r.status for r in rows} == {"sent"}
    assert {r.gateway_id for r in rows} == {m.id for m in sent}
    assert all(r.attempts == 1 for r in rows)


def test_the_batch_size_setting_splits_requests(
    app, settings, standin, redis, run_worker, monkeypatch
):
    monkeypatch.setitem(app.config, "SETTINGS", replace(settings, at_batch_size=2))
    write(settings, phones(5))
    outbox.dispatch(redis)
    run_worker()
    assert len(standin.messages()) == 5
    assert sorted(len(r["to"].split(",")) for r in standin.state.requests()) == [1, 2, 2]


def test_personalised_texts_are_one_request_each(app, settings, standin, redis, run_worker):
    for i, phone in enumerate(phones(3)):
        write(settings, [phone], text=f"Bonjour {i}")
    outbox.dispatch(redis)
    run_worker()
    assert sorted(m.text for m in standin.messages()) == ["Bonjour 0", "Bonjour 1", "Bonjour 2"]


def test_a_job_run_twice_sends_nothing_twice(app, settings, standin, redis, run_worker):
    rows = write(settings, phones(3))
    ids = [r.id for r in rows]
    outbox.dispatch(redis)
    run_worker()
    send_batch(ids)  # as if RQ, or the sweeper, ran the same job again
    assert len(standin.messages()) == 3


def test_a_gateway_outage_is_retried_with_backoff_then_sent_once(
    app, settings, standin, redis, run_worker
):
    write(settings, phones(2))
    standin.control("faults", {"http_status": 500, "count": 1})
    outbox.dispatch(redis)
    run_worker()
    rows = db.session.scalars(sa.select(OutboundMessage)).all()
    assert {(r.status, r.attempts) for r in rows} == {("pending", 1)}
    assert all(r.not_before > utcnow() + timedelta(seconds=20) for r in rows)
    assert outbox.dispatch(redis) == 0  # not before the backoff
    outbox.dispatch(redis, now=utcnow() + timedelta(minutes=1))
    run_worker()
    assert statuses() == dict.fromkeys(phones(2), "sent")
    assert len(standin.messages()) == 2


def test_a_slow_gateway_times_out_and_the_resend_is_marked_a_possible_duplicate(
    app, settings, standin, redis, run_worker
):
    write(settings, phones(1))
    standin.control("faults", {"delay_seconds": 3, "count": 1})
    outbox.dispatch(redis)
    run_worker()
    row = db.session.scalars(sa.select(OutboundMessage)).one()
    assert (row.status, row.attempts, row.possible_duplicate) == ("pending", 1, True)
    assert "request to gateway failed" in row.failure_reason
    time.sleep(1.5)  # the gateway ends up taking the request the worker gave up on
    outbox.dispatch(redis, now=utcnow() + timedelta(minutes=1))
    run_worker()
    db.session.refresh(row)
    assert (row.status, row.attempts, row.possible_duplicate) == ("sent", 2, True)
    assert [m.number for m in standin.messages()] == phones(1) * 2  # the real duplicate


def test_a_gateway_that_cannot_be_reached_is_retried_without_a_mark(
    app, settings, redis, run_worker
):
    from gateway.africastalking import AfricasTalkingGateway

    closed = AfricasTalkingGateway("sandbox", "key", api_url="http://127.0.0.1:9", timeout=1)
    real, app.extensions["gateway"] = app.extensions["gateway"], closed
    try:
        write(settings, phones(1))
        outbox.dispatch(redis)
        run_worker()
    finally:
        app.extensions["gateway"] = real
    row = db.session.scalars(sa.select(OutboundMessage)).one()
    assert (row.status, row.attempts, row.possible_duplicate) == ("pending", 1, False)


def test_a_blacklisted_number_is_final_and_the_others_go(app, settings, standin, redis, run_worker):
    numbers = phones(3)
    standin.control("faults", {"reject": {numbers[1]: 406}})
    write(settings, numbers)
    outbox.dispatch(redis)
    run_worker()
    rows = {r.phone: r for r in db.session.scalars(sa.select(OutboundMessage))}
    assert (rows[numbers[1]].status, rows[numbers[1]].failure_reason) == (
        "failed",
        "UserInBlacklist",
    )
    assert rows[numbers[0]].status == rows[numbers[2]].status == "sent"


def test_a_per_number_5xx_is_retried_and_gives_up_after_the_last_attempt(
    app, settings, standin, redis, run_worker
):
    number = phones(1)
    standin.control("faults", {"reject": {number[0]: 502}})
    write(settings, number)
    moment = utcnow()
    for _ in range(MAX_ATTEMPTS):
        moment += timedelta(hours=2)
        outbox.dispatch(redis, now=moment)
        run_worker()
    row = db.session.scalars(sa.select(OutboundMessage)).one()
    assert row.status == "failed"
    assert row.attempts == MAX_ATTEMPTS
    assert row.failure_reason.startswith(f"gave up after {MAX_ATTEMPTS} attempts")
    assert row.possible_duplicate is False  # the gateway answered every time


def test_when_redis_is_down_messages_wait_as_pending(app, settings):
    write(settings, phones(2))
    assert outbox.dispatch(connect("redis://127.0.0.1:1/0")) == 0
    assert set(statuses().values()) == {"pending"}


def test_many_nudges_make_one_dispatch_job_and_a_worker_sends(
    app, settings, standin, redis, run_worker
):
    write(settings, phones(3))
    assert all(outbox.nudge(redis) for _ in range(5))
    assert queue(redis).count == 1
    assert set(statuses().values()) == {"pending"}  # a nudge sends nothing by itself
    run_worker()
    assert set(statuses().values()) == {"sent"}
    assert redis.get(NUDGE_KEY) is None  # the job took the nudge: the next one makes a job
    outbox.nudge(redis)
    assert queue(redis).count == 1


def test_a_nudge_with_redis_down_returns_quietly_and_the_tick_catches_up(
    app, settings, redis, run_worker, standin
):
    write(settings, phones(2))
    assert outbox.nudge(connect("redis://127.0.0.1:1/0")) is False
    report = tick(utcnow(), settings, redis)
    assert report.nudged
    assert "dispatch nudged" in str(report)
    run_worker()
    assert set(statuses().values()) == {"sent"}


def age(rows, status: str, by: timedelta) -> None:
    for row in rows:
        row.status, row.updated_at = status, utcnow() - by
    db.session.commit()


def test_the_sweeper_requeues_rows_whose_job_was_lost(app, settings, redis):
    redis.set(QUEUE_MARKER, 1)  # Redis kept its data: only jobs waiting far too long are lost
    lost, waiting = write(settings, phones(2))
    age([lost], "queued", STALE_QUEUED + timedelta(minutes=1))
    age([waiting], "queued", timedelta(minutes=1))
    assert sweep(redis, utcnow()).requeued == 1
    assert statuses() == {lost.phone: "pending", waiting.phone: "queued"}
    db.session.refresh(lost)
    assert lost.possible_duplicate is False  # it never left


def test_when_redis_lost_its_data_every_queued_row_is_requeued_at_once(app, settings, redis):
    rows = write(settings, phones(2))
    age(rows, "queued", timedelta(seconds=5))
    assert redis.get(QUEUE_MARKER) is None  # as after a restart without persistence
    assert sweep(redis, utcnow()).requeued == 2
    assert set(statuses().values()) == {"pending"}
    age(rows, "queued", timedelta(seconds=5))
    assert sweep(redis, utcnow()).requeued == 0  # the marker is back: their jobs exist


def test_the_sweeper_resends_an_interrupted_request_as_a_possible_duplicate(app, settings, redis):
    interrupted, recent, spent = write(settings, phones(3))
    for row, attempts in ((interrupted, 1), (recent, 1), (spent, MAX_ATTEMPTS)):
        row.attempts = attempts
    age([interrupted, spent], "sending", STALE_SENDING + timedelta(minutes=1))
    age([recent], "sending", timedelta(seconds=10))  # a live worker is still waiting on it
    now = utcnow()
    assert sweep(redis, now).resent == 2
    db.session.expire_all()
    assert (interrupted.status, interrupted.possible_duplicate) == ("pending", True)
    assert interrupted.not_before == now + outbox.retry.backoff(1)
    assert recent.status == "sending"
    assert (spent.status, spent.possible_duplicate) == ("failed", False)
    assert spent.failure_reason.startswith(f"gave up after {MAX_ATTEMPTS} attempts")


def test_quiet_hours_hold_reminders_but_not_replies_or_urgent_alerts(app, settings):
    reminder, reply, urgent, alert = (
        write(settings, [p], kind=k, now=NIGHT, **kw)[0]
        for p, k, kw in zip(
            phones(4),
            ["reminder", "reply", "alert", "alert"],
            [{}, {}, {"urgent": True}, {}],
            strict=True,
        )
    )
    morning = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    assert (reminder.not_before, reminder.failure_reason) == (morning, "held by quiet hours")
    assert (alert.not_before, alert.failure_reason) == (morning, "held by quiet hours")
    assert reply.not_before == urgent.not_before == NIGHT
    assert reply.failure_reason is urgent.failure_reason is None
    assert write(settings, phones(1, 9), kind="reminder", now=NOON)[0].not_before == NOON


def test_an_opted_out_worker_gets_no_reminder_even_one_written_before(
    app, settings, standin, redis, run_worker
):
    seed_demo()
    worker = db.session.scalars(sa.select(Worker).where(Worker.phone == "+22370000011")).one()
    early = write(settings, [worker.phone], kind="reminder", worker=worker, now=NOON)[0]
    worker.opted_out = True
    db.session.commit()
    assert write(settings, [worker.phone], kind="digest", worker=worker, now=NOON) == [None]
    outbox.dispatch(redis, now=NOON)
    run_worker()
    assert standin.messages() == []
    db.session.refresh(early)
    assert (early.status, early.failure_reason) == ("cancelled", "opted out")


def test_cost_is_computed_once_and_stored(app, settings):
    gsm, bambara, long = write(settings, phones(1), text="Merci")[0], None, None
    bambara = write(settings, phones(1, 1), text="I ni ce, ɲɛ", language="bm")[0]
    long = write(settings, phones(1, 2), text="x" * 161)[0]
    assert (gsm.encoding, gsm.segments) == ("GSM-7", 1)
    assert (bambara.text, bambara.encoding) == ("I ni ce, nyè", "GSM-7")  # transliterated
    assert (long.encoding, long.segments) == ("GSM-7", 2)
