"""Writing the messages the service starts (invitations, reminders, escalations, digests).

They are held by quiet hours (services/outbox.py sets when each may leave) and by the daily
limit here: `DAILY_SMS_LIMIT` messages the service starts for one person in one local day;
replies and alerts are never held and do not count.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from config import Settings
from models import OutboundMessage
from services.outbox import SERVICE_STARTED
from services.quiet_hours import release_time

_outbox = OutboundMessage.__table__
DAILY_LIMIT = "held by the daily limit"
LIMITED = tuple(kind for kind in SERVICE_STARTED if kind != "coaching")
"""What the daily limit counts and holds: the service's own messages. A supervisor's note to a
team waits for quiet hours to end, but it is a person's message: it neither counts nor waits."""


def write(
    connection: sa.Connection,
    settings: Settings,
    rows: list[dict],
    closes_at: datetime | None = None,
) -> int:
    """Insert service-started rows within each person's daily limit; returns how many are new.

    A message over `DAILY_SMS_LIMIT` for its person and local day waits for the next day's
    first hour outside quiet hours; if its period (`closes_at`) has closed by then it is kept,
    skipped, with that reason. A row whose dedupe key exists already is not written again.
    """
    if not rows:
        return 0
    _within_daily_limit(connection, settings, rows, closes_at)
    if connection.dialect.name == "postgresql":
        # One INSERT ... SELECT of the rows as arrays: a national opening's thousands of rows
        # as one statement of a few parameters (an executemany is a statement per row on the
        # server; RETURNING's multi-row VALUES, a huge text psycopg parses anew each time).
        insert = postgresql_insert(_outbox).from_select(list(rows[0]), _unnested(rows))
        return _count(connection, insert)
    return _count(connection, sqlite_insert(_outbox), rows)


def _count(connection: sa.Connection, insert, rows: list[dict] | None = None) -> int:
    """Execute the INSERT (an executemany with `rows`); how many rows it added."""
    statement = insert.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return connection.execute(statement.execution_options(preserve_rowcount=True), rows).rowcount


def _unnested(rows: list[dict]) -> sa.Select:
    """The rows (all with the same columns) as one SELECT: the columns that vary as arrays
    unnested side by side, the others as one value (a national invitation's text, kind and
    times are the same for all: sending them once spares psycopg dumping thousands)."""
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    varying = [name for name, values in columns.items() if values.count(values[0]) < len(values)]
    selected = []
    for name, values in columns.items():
        kind = _outbox.c[name].type
        if name in (varying or [next(iter(columns))]):
            array = sa.bindparam(f"{name}_values", values, type_=postgresql.ARRAY(kind))
            selected.append(sa.func.unnest(array))
        else:
            selected.append(sa.bindparam(f"{name}_value", values[0], type_=kind))
    return sa.select(*selected)


def _within_daily_limit(
    connection: sa.Connection, settings: Settings, rows: list[dict], closes_at: datetime | None
) -> None:
    zone = ZoneInfo(settings.timezone)
    day_of = lambda moment: moment.astimezone(zone).date()  # noqa: E731
    days = {day_of(row["not_before"]) for row in rows}
    first = datetime.combine(min(days), datetime.min.time(), zone)
    last = datetime.combine(max(days) + timedelta(days=2), datetime.min.time(), zone)
    counted = Counter(
        (worker_id, day_of(not_before))
        for worker_id, not_before in connection.execute(
            # Everyone's, not only these people's: a constant statement, where thousands of
            # ids made a long one to render and parse (the outbox has no index on worker_id).
            sa.select(_outbox.c.worker_id, _outbox.c.not_before).where(
                _outbox.c.kind.in_(LIMITED),
                _outbox.c.status != "cancelled",
                _outbox.c.not_before >= first,
                _outbox.c.not_before < last,
            )
        )
    )
    for row in rows:
        row.setdefault("status", "pending")  # every row of one INSERT has the same columns
        row.setdefault("failure_reason", None)
        if row["kind"] not in LIMITED:
            continue
        day = day_of(row["not_before"])
        while counted[(row["worker_id"], day)] >= settings.daily_sms_limit:
            day += timedelta(days=1)
            midnight = datetime.combine(day, datetime.min.time(), zone)
            row["not_before"] = release_time(midnight, settings.quiet_hours, settings.timezone)
            row["failure_reason"] = DAILY_LIMIT
        if closes_at is not None and row["not_before"] >= closes_at:
            row["status"], row["failure_reason"] = "cancelled", f"{DAILY_LIMIT}; period closed"
        else:
            counted[(row["worker_id"], day)] += 1
