"""Data out of the service as CSV, for admins' spreadsheets and analysis scripts.

Each export is a generator of rows (named tuples whose fields are the CSV columns), read from
the database in batches so that a year of answers never sits in memory at once; `write_csv`
turns any of them into CSV. The command line and the admin pages share both.
"""

from __future__ import annotations

import csv
import heapq
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, NamedTuple, TextIO

import sqlalchemy as sa

from models import (
    Answer,
    Checkin,
    Facility,
    Flow,
    FlowVersion,
    InboundMessage,
    OutboundMessage,
    Session,
    Worker,
    db,
)

BATCH_SIZE = 1_000


class AnswerRow(NamedTuple):
    """One stored answer of a completed check-in (the `export answers` contract's columns)."""

    facility_code: str
    period: str
    flow_key: str
    flow_version: int
    question_key: str
    value: str | int | None
    phone: str
    channel: str | None
    completed_at: datetime | None
    reference: str
    """"yes" for the check-in's first completed submission (what digests and charts read), "no"
    for a colleague's later one, kept whole."""


ANSWER_COLUMNS = AnswerRow._fields


def since_datetime(day: date | datetime) -> datetime:
    """The start of `day` in UTC: `--since 2026-03-02` means from 2026-03-02T00:00:00Z.

    A datetime is kept as it is, in UTC when it has no timezone."""
    if isinstance(day, datetime):
        return day.astimezone(UTC) if day.tzinfo else day.replace(tzinfo=UTC)
    return datetime.combine(day, time.min, tzinfo=UTC)


def answer_rows(
    flow_key: str | None = None,
    since: date | datetime | None = None,
    batch_size: int = BATCH_SIZE,
) -> Iterator[AnswerRow]:
    """Every answer of a completed check-in, oldest check-in first, in question order.

    `flow_key` keeps one flow's answers; `since` keeps check-ins completed at or after it (a
    date is midnight UTC). `phone` is the phone of the worker who gave the answer; `channel`
    and `completed_at` are those of the submission the answer belongs to.
    """
    query = (
        sa.select(
            Facility.code,
            Checkin.period,
            Flow.key,
            FlowVersion.version,
            Answer.question_key,
            Answer.value_text,
            Answer.value_number,
            Worker.phone,
            sa.func.coalesce(Session.channel, Checkin.channel),
            sa.case((Answer.reference, Checkin.completed_at), else_=Answer.answered_at),
            sa.case((Answer.reference, "yes"), else_="no"),
        )
        .select_from(Answer)
        .join(Checkin, Checkin.id == Answer.checkin_id)
        .outerjoin(Session, Session.id == Answer.session_id)
        .join(Facility, Facility.id == Checkin.facility_id)
        .join(Flow, Flow.id == Checkin.flow_id)
        .join(FlowVersion, FlowVersion.id == Checkin.flow_version_id)
        .join(Worker, Worker.id == Answer.worker_id)
        .where(Checkin.status == "completed")
        .order_by(Checkin.completed_at, Checkin.id, Answer.reference.desc(), Answer.id)
        .execution_options(yield_per=batch_size)
    )
    if flow_key is not None:
        query = query.where(Flow.key == flow_key)
    if since is not None:
        query = query.where(Checkin.completed_at >= since_datetime(since))
    result = db.session.execute(query)
    try:
        for row in result:
            (code, period, key, version, question, text, number, *rest) = row
            value = number if number is not None else text
            yield AnswerRow(code, period, key, version, question, value, *rest)
    finally:
        result.close()


class MessageRow(NamedTuple):
    """One SMS in or out (the `export messages` contract's columns)."""

    direction: str
    phone: str
    text: str
    encoding: str
    segments: int
    status: str
    gateway_id: str | None
    failure_reason: str | None
    attempts: int | None
    created_at: datetime
    possible_duplicate: str | None
    """"yes" when put back to be sent again after a request that may have reached the gateway
    (the person may get it twice), "no" otherwise, empty for a received SMS."""
    cost: str | None
    """What the gateway said the message cost when it accepted it, as it wrote it ("XOF 25");
    empty for a received SMS and one the gateway has not accepted."""


MESSAGE_COLUMNS = MessageRow._fields


def message_rows(
    since: date | datetime | None = None, batch_size: int = BATCH_SIZE
) -> Iterator[MessageRow]:
    """Every SMS received and sent, oldest first (inbox and outbox merged by time)."""
    inbound = sa.select(
        sa.literal("in"),
        InboundMessage.phone,
        InboundMessage.text,
        InboundMessage.encoding,
        InboundMessage.segments,
        sa.literal("received"),
        InboundMessage.gateway_id,
        sa.null(),
        sa.null(),
        InboundMessage.received_at,
        sa.null(),
        sa.null(),
    ).order_by(InboundMessage.received_at, InboundMessage.id)
    outbound = sa.select(
        sa.literal("out"),
        OutboundMessage.phone,
        OutboundMessage.text,
        OutboundMessage.encoding,
        OutboundMessage.segments,
        OutboundMessage.status,
        OutboundMessage.gateway_id,
        OutboundMessage.failure_reason,
        OutboundMessage.attempts,
        OutboundMessage.created_at,
        sa.case((OutboundMessage.possible_duplicate, "yes"), else_="no"),
        OutboundMessage.cost,
    ).order_by(OutboundMessage.created_at, OutboundMessage.id)
    if since is not None:
        inbound = inbound.where(InboundMessage.received_at >= since_datetime(since))
        outbound = outbound.where(OutboundMessage.created_at >= since_datetime(since))
    # Two streaming cursors, one per table; merge keeps the time order without loading either.
    streams = [
        db.session.execute(q.execution_options(yield_per=batch_size)) for q in (inbound, outbound)
    ]
    try:
        created_at = MESSAGE_COLUMNS.index("created_at")
        rows = heapq.merge(*streams, key=lambda row: row[created_at])
        yield from (MessageRow(*row) for row in rows)
    finally:
        for stream in streams:
            stream.close()


def write_csv(
    out: TextIO,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    lineterminator: str = "\r\n",
) -> int:
    """Write a header and `rows` to `out` as CSV, one row at a time; returns how many rows.

    None is an empty cell and a datetime is ISO 8601 in UTC (2026-03-02T09:15:00Z). Lines end
    in CRLF as RFC 4180 says, unless told otherwise (a bare LF suits a Unix pipe better).
    """
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([_cell(value) for value in row])
        count += 1
    return count


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, str) and _FORMULA.match(value) and not _NUMBER.fullmatch(value):
        # Typed by a health worker and opened by a district admin in a spreadsheet: text that
        # looks like a formula (=HYPERLINK(...), @SUM, -1+1) is kept as text, not run.
        return "'" + value
    return value


_FORMULA = re.compile(r"[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
"""Phone numbers (+223…) and signed figures stay as they are: a spreadsheet reads them as data."""
