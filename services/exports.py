"""Data out of the service as CSV, for admins' spreadsheets and analysis scripts.

Each export is a generator of rows (named tuples whose fields are the CSV columns), read from
the database in batches so that a year of answers never sits in memory at once; `write_csv`
turns any of them into CSV. The command line and the admin pages share both.
"""

from __future__ import annotations

import csv
import heapq
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
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
    facilities: sa.Select | None = None,
    connection: sa.Connection | None = None,
) -> Iterator[AnswerRow]:
    """Every answer of a completed check-in, oldest check-in first, in question order.

    `flow_key` keeps one flow's answers; `since` keeps check-ins completed at or after it (a
    date is midnight UTC); `facilities` (a SELECT of facility ids: a console viewer's scope, or
    one CSCom) keeps those facilities' check-ins. `phone` is the phone of the worker who gave
    the answer; `channel` and `completed_at` are those of the submission the answer belongs to.
    Read on `connection` if given (a web download streams on one of its own), else the session.
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
    if facilities is not None:
        query = query.where(Checkin.facility_id.in_(facilities))
    result = (connection or db.session).execute(query)
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
    since: date | datetime | None = None,
    batch_size: int = BATCH_SIZE,
    workers: sa.Select | None = None,
    connection: sa.Connection | None = None,
) -> Iterator[MessageRow]:
    """Every SMS received and sent, oldest first (inbox and outbox merged by time).

    `workers` (a SELECT of worker ids: the people a console viewer may see) keeps the SMS from
    and to them; a number the service knows no worker by is then left out. `connection` as in
    `answer_rows`.
    """
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
    if workers is not None:
        inbound = inbound.where(InboundMessage.worker_id.in_(workers))
        outbound = outbound.where(OutboundMessage.worker_id.in_(workers))
    # Two streaming cursors, one per table; merge keeps the time order without loading either.
    reader = connection or db.session
    streams = [
        reader.execute(q.execution_options(yield_per=batch_size)) for q in (inbound, outbound)
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
    header: bool = True,
) -> int:
    """Write a header and `rows` to `out` as CSV, one row at a time; returns how many rows.

    None is an empty cell and a datetime is ISO 8601 in UTC (2026-03-02T09:15:00Z). Lines end
    in CRLF as RFC 4180 says, unless told otherwise (a bare LF suits a Unix pipe better).
    """
    writer = csv.writer(out, lineterminator=lineterminator)
    if header:
        writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([_cell(value) for value in row])
        count += 1
    return count


def csv_chunks(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], chunk: int = BATCH_SIZE
) -> Iterator[str]:
    """`write_csv`'s text in pieces of `chunk` rows, the header first: what a web response
    streams, so a year of answers never sits in memory whole."""
    iterator, buffer = iter(rows), io.StringIO()
    header = True
    while True:
        batch = list(itertools.islice(iterator, chunk))
        write_csv(buffer, columns, batch, header=header)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        header = False
        if len(batch) < chunk:
            return


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


# -- the console's message log and alerts ---------------------------------------------------------

LOG_PAGE = 100
"""Messages per page of the console's message log."""
LogCursor = tuple[datetime, str, int]
"""Where a page of the log ends: (time, direction, id) of its last message. Newest first
means that order descending; many messages share one time (an invitation to thousands)."""


class LoggedMessage(NamedTuple):
    """One SMS as the console's log shows it: the export's columns and whose and what it is."""

    direction: str
    """"in" (received) or "out" (sent, or to be sent)."""
    id: int
    at: datetime
    phone: str
    person: str | None
    """The worker's name, None for a number the service does not know."""
    person_facility_id: int | None
    kind: str | None
    """The outbox kind (reply, alert, invitation...); None for a received SMS."""
    urgent: bool
    text: str
    encoding: str
    segments: int
    status: str
    cost: str | None
    attempts: int | None
    failure_reason: str | None
    possible_duplicate: bool | None
    dedupe_key: str | None

    @property
    def cursor(self) -> LogCursor:
        return (self.at, self.direction, self.id)


def message_log(
    workers: sa.Select | None = None,
    before: LogCursor | None = None,
    limit: int = LOG_PAGE,
    kinds: Sequence[str] | None = None,
) -> list[LoggedMessage]:
    """The newest `limit` SMS received and sent, older than `before` (a page's last message).

    `workers` as in `message_rows`; `kinds` keeps only sent SMS of those kinds. Two statements
    (each table's newest `limit`), merged here; bench/pages.py times them beside one UNION.
    """
    outbound = (
        sa.select(
            sa.literal("out").label("direction"),
            OutboundMessage.id,
            OutboundMessage.created_at.label("at"),
            OutboundMessage.phone,
            Worker.name,
            Worker.facility_id,
            OutboundMessage.kind,
            OutboundMessage.urgent,
            OutboundMessage.text,
            OutboundMessage.encoding,
            OutboundMessage.segments,
            OutboundMessage.status,
            OutboundMessage.cost,
            OutboundMessage.attempts,
            OutboundMessage.failure_reason,
            OutboundMessage.possible_duplicate,
            OutboundMessage.dedupe_key,
        )
        .outerjoin(Worker, Worker.id == OutboundMessage.worker_id)
        .order_by(OutboundMessage.created_at.desc(), OutboundMessage.id.desc())
        .limit(limit)
    )
    inbound = (
        sa.select(
            sa.literal("in").label("direction"),
            InboundMessage.id,
            InboundMessage.received_at.label("at"),
            InboundMessage.phone,
            Worker.name,
            Worker.facility_id,
            sa.null(),
            sa.false(),
            InboundMessage.text,
            InboundMessage.encoding,
            InboundMessage.segments,
            sa.literal("received"),
            sa.null(),
            sa.null(),
            sa.null(),
            sa.null(),
            sa.null(),
        )
        .outerjoin(Worker, Worker.id == InboundMessage.worker_id)
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(limit)
    )
    if workers is not None:
        outbound = outbound.where(OutboundMessage.worker_id.in_(workers))
        inbound = inbound.where(InboundMessage.worker_id.in_(workers))
    if kinds is not None:
        outbound = outbound.where(OutboundMessage.kind.in_(kinds))
    if before is not None:
        at, direction, last = before
        # Descending (time, direction, id): at one time, sent messages ("out" sorts after
        # "in") come before received ones.
        outbound = outbound.where(
            sa.or_(
                OutboundMessage.created_at < at,
                sa.and_(
                    OutboundMessage.created_at == at,
                    OutboundMessage.id < last if direction == "out" else sa.false(),
                ),
            )
        )
        inbound = inbound.where(
            sa.or_(
                InboundMessage.received_at < at,
                sa.and_(
                    InboundMessage.received_at == at,
                    InboundMessage.id < last if direction == "in" else sa.true(),
                ),
            )
        )
    found = [LoggedMessage(*row) for row in db.session.execute(outbound)]
    if kinds is None:
        found += [LoggedMessage(*row) for row in db.session.execute(inbound)]
    found.sort(key=lambda message: message.cursor, reverse=True)
    return found[:limit]


ALERT_KINDS = ("alert", "escalation")


@dataclass(frozen=True)
class Recipient:
    name: str | None
    phone: str
    status: str
    failure_reason: str | None


@dataclass(frozen=True)
class AlertEvent:
    """An alert a check-in's answers raised, or an escalation of a district's missing CSComs,
    with every supervisor it was sent to."""

    at: datetime
    kind: str
    urgent: bool
    text: str
    period: str | None
    facility_id: int | None
    """The CSCom that answered (an alert), or the district (an escalation)."""
    facility_kind: str | None
    facility_name: str | None
    recipients: tuple[Recipient, ...]


def alert_events(messages: Sequence[LoggedMessage]) -> list[AlertEvent]:
    """Alert and escalation messages (newest first) as events, one per alert and district.

    An alert goes to each supervisor of the CSCom's district, an escalation to each supervisor
    of its district: their outbox rows share a dedupe key but for the person's id at its end.
    The CSCom of an alert is that of the check-in its key names (services/submissions.py).
    """
    groups: dict[tuple[str, int | None], list[LoggedMessage]] = {}
    for message in messages:
        event = (message.dedupe_key or f"#{message.id}").rsplit(":", 1)[0]
        groups.setdefault((event, message.person_facility_id), []).append(message)
    checkin_ids = {_key_part(key, 1) for key, _ in groups if key.startswith("alert:")}
    checkins = {
        row.id: row
        for row in db.session.execute(
            sa.select(Checkin.id, Checkin.period, Checkin.facility_id).where(
                Checkin.id.in_(checkin_ids - {None})
            )
        )
    }
    places: dict[tuple[str, int | None], tuple[str | None, int | None]] = {}
    for key, district in groups:
        if key.startswith("alert:") and _key_part(key, 1) in checkins:
            checkin = checkins[_key_part(key, 1)]
            places[(key, district)] = (checkin.period, checkin.facility_id)
        elif key.startswith("escalate:"):
            places[(key, district)] = (key.split(":")[2] if key.count(":") >= 2 else None, district)
        else:
            places[(key, district)] = (None, None)
    facilities = {
        row.id: row
        for row in db.session.execute(
            sa.select(Facility.id, Facility.kind, Facility.name).where(
                Facility.id.in_({facility for _, facility in places.values()} - {None})
            )
        )
    }
    events = []
    for group, sent in groups.items():
        period, facility_id = places[group]
        facility = facilities.get(facility_id)
        first = sent[0]
        events.append(
            AlertEvent(
                first.at,
                first.kind or "",
                first.urgent,
                first.text,
                period,
                facility_id if facility else None,
                facility.kind if facility else None,
                facility.name if facility else None,
                tuple(Recipient(m.person, m.phone, m.status, m.failure_reason) for m in sent),
            )
        )
    return events


def _key_part(key: str, index: int) -> int | None:
    parts = key.split(":")
    return int(parts[index]) if len(parts) > index and parts[index].isdigit() else None
