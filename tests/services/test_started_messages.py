"""The daily limit on messages the service starts (DAILY_SMS_LIMIT, default 3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import sqlalchemy as sa

from models import OutboundMessage, Worker, db
from services.demo import seed_demo
from services.outbox import message_row
from services.started_messages import write

MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Bamako is UTC
TUESDAY_7 = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # the end of quiet hours


def rows_for(settings, worker: Worker, count: int, kind: str = "reminder") -> list[dict]:
    return [
        message_row(
            settings,
            MONDAY_9,
            phone=worker.phone,
            text=f"message {n}",
            kind=kind,
            worker_id=worker.id,
            dedupe_key=f"test:{kind}:{n}:{worker.id}",
        )
        for n in range(count)
    ]


def stored() -> list[tuple[str, str, datetime, str | None]]:
    db.session.expire_all()
    return db.session.execute(
        sa.select(
            OutboundMessage.text,
            OutboundMessage.status,
            OutboundMessage.not_before,
            OutboundMessage.failure_reason,
        ).order_by(OutboundMessage.id)
    ).all()


def test_past_the_limit_a_message_waits_for_the_next_mornings_first_hour(app):
    seed_demo()
    settings = app.config["SETTINGS"]
    worker = db.session.scalars(sa.select(Worker)).first()
    assert write(db.session.connection(), settings, rows_for(settings, worker, 4)) == 4
    db.session.commit()
    waits = [when for _, _, when, _ in stored()]
    assert waits == [MONDAY_9] * 3 + [TUESDAY_7]


def test_earlier_messages_of_the_day_count_and_replies_do_not(app):
    seed_demo()
    settings = replace(app.config["SETTINGS"], daily_sms_limit=2)
    worker = db.session.scalars(sa.select(Worker)).first()
    connection = db.session.connection()
    write(connection, settings, rows_for(settings, worker, 3, kind="reply"))
    write(connection, settings, rows_for(settings, worker, 1, kind="invitation"))
    write(connection, settings, rows_for(settings, worker, 2, kind="reminder"))
    db.session.commit()
    assert [when for _, _, when, _ in stored()] == [MONDAY_9] * 5 + [TUESDAY_7]


def test_a_message_that_would_wait_past_its_period_is_kept_as_skipped_with_the_reason(app):
    seed_demo()
    settings = replace(app.config["SETTINGS"], daily_sms_limit=1)
    worker = db.session.scalars(sa.select(Worker)).first()
    closes = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    write(db.session.connection(), settings, rows_for(settings, worker, 2), closes)
    db.session.commit()
    (_, first, _, _), (_, second, _, reason) = stored()
    assert (first, second, reason) == (
        "pending",
        "cancelled",
        "held by the daily limit; period closed",
    )


def test_a_row_written_twice_is_stored_once(app):
    seed_demo()
    settings = app.config["SETTINGS"]
    worker = db.session.scalars(sa.select(Worker)).first()
    connection = db.session.connection()
    assert write(connection, settings, rows_for(settings, worker, 2)) == 2
    assert write(connection, settings, rows_for(settings, worker, 2)) == 0
    db.session.commit()
    assert len(stored()) == 2


def test_a_supervisors_note_neither_counts_nor_waits_for_the_daily_limit(app):
    seed_demo()
    settings = replace(app.config["SETTINGS"], daily_sms_limit=1)
    worker = db.session.scalars(sa.select(Worker)).first()
    connection = db.session.connection()
    write(connection, settings, rows_for(settings, worker, 2, kind="coaching"))
    write(connection, settings, rows_for(settings, worker, 1, kind="reminder"))
    db.session.commit()
    assert [when for _, _, when, _ in stored()] == [MONDAY_9] * 3


def test_the_daily_limits_index_covers_exactly_the_kinds_it_counts():
    from models.messages import STARTED_KINDS
    from services.started_messages import LIMITED

    assert f"kind IN {LIMITED}" == STARTED_KINDS  # same list, same order: PostgreSQL uses it
