"""Trial check-ins: a worker's USSD session or SMS conversation played, for an admin, through
the very step services the webhooks use, inside a database transaction that is always rolled
back.

Why a rolled-back replay rather than trial rows kept with a flag: a trial must complete no real
period, reach no digest, reminder, chart or export, and send nothing to a phone. Rolled back,
nothing of it ever exists for those readers, with no filter to remember in each of them. The
page keeps what was typed and replays it at every step (as the gateway resends a USSD session's
whole input), so each screen is exactly what the worker would see now. Session commits become
savepoints of the one outer transaction (SQLAlchemy's "create_savepoint" mode).

What the step services would have sent (replies, alerts to supervisors) is read from the
outbox before the rollback and shown instead. On PostgreSQL the transaction runs at REPEATABLE
READ, so the outbox rows it sees beyond those at its start are its own, never a message another
process committed meanwhile; SQLite lets one writer in at a time, so the same holds there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm

from config import Settings
from flows.smstext import sms_cost, ussd_limit
from models import Checkin, OutboundMessage, Session, Worker, db
from models.base import utcnow
from services.sms_steps import Inbound, SmsSteps
from services.ussd_steps import UssdSteps

Channel = Literal["ussd", "sms"]
CHANNELS: tuple[Channel, ...] = ("ussd", "sms")
MAX_INPUTS = 40
"""More steps than any flow has, with room for mistakes; beyond it the page asks to start over."""
MAX_INPUT = 480
"""Three SMS segments: longer than any answer, short enough to replay cheaply."""

Preview = TypeVar("Preview")


class TrialError(ValueError):
    """A trial that cannot be played: the console checks for these first and words them."""


@dataclass(frozen=True)
class Screen:
    """What the worker's phone shows after one input: a USSD screen or an SMS reply."""

    input: str | None
    """What was typed for this screen (None for the dial that opened a USSD session)."""
    text: str
    end: bool = False
    units: int = 0
    """Characters as the network counts them (GSM-7 septets or UCS-2 code units)."""
    limit: int = 0
    """A USSD screen's limit for this text; 0 for an SMS."""
    segments: int = 0
    encoding: str = ""


@dataclass(frozen=True)
class Outgoing:
    """An SMS the step services wrote to the outbox: it would have been sent, and is not."""

    phone: str
    name: str
    kind: str
    text: str
    segments: int
    encoding: str
    not_before: datetime


@dataclass(frozen=True)
class Trial(Generic[Preview]):
    channel: Channel
    screens: tuple[Screen, ...]
    outgoing: tuple[Outgoing, ...]
    """Everything but the replies shown as screens: alerts, a colleague's notice, ..."""
    checkin_id: int | None
    """The check-in the last step submitted (an id that exists only inside the trial)."""
    preview: Preview | None = None
    ended: bool = False


def check_inputs(inputs: Sequence[str]) -> list[str]:
    """The inputs, bounded: a clear refusal rather than a long replay."""
    if len(inputs) > MAX_INPUTS:
        raise TrialError(f"more than {MAX_INPUTS} inputs")
    if any(len(entry) > MAX_INPUT for entry in inputs):
        raise TrialError(f"an input longer than {MAX_INPUT} characters")
    return list(inputs)


def play(
    settings: Settings,
    worker_id: int,
    channel: Channel,
    inputs: Sequence[str],
    preview: Callable[[int | None], Preview] | None = None,
) -> Trial[Preview]:
    """Replay `inputs` as `worker_id` on `channel` and roll everything back.

    `preview(checkin_id)` runs inside the transaction before the rollback, so it reads the
    trial's answers as if they were stored (the console draws the facility's run charts with
    the trial's point); its result is returned, the rows it read are not.
    """
    inputs = check_inputs(inputs)
    with rolled_back():
        worker = db.session.get(Worker, worker_id)
        if worker is None or not worker.active:
            raise TrialError(f"no active worker {worker_id}")
        first_message, first_session = _last_id(OutboundMessage), _last_id(Session)
        if channel == "ussd":
            screens = _play_ussd(settings, worker.phone, inputs)
        else:
            screens = _play_sms(settings, worker, inputs)
        checkin_id = _submitted_checkin(first_session)
        outgoing = _outgoing(first_message, worker.id if channel == "sms" else None)
        shown = preview(checkin_id) if preview is not None else None
    return Trial(
        channel=channel,
        screens=tuple(screens),
        outgoing=tuple(outgoing),
        checkin_id=checkin_id,
        preview=shown,
        ended=bool(screens) and screens[-1].end,
    )


@contextmanager
def rolled_back() -> Iterator[None]:
    """`db.session` on one connection whose transaction is rolled back whatever happens.

    The request's own session is closed first (what it loaded stays readable, detached), and
    a fresh one is in place again afterwards.
    """
    db.session.remove()
    connection = db.engine.connect()
    if connection.dialect.name == "postgresql":
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
    transaction = connection.begin()
    db.session.registry.set(orm.Session(bind=connection, join_transaction_mode="create_savepoint"))
    try:
        yield
    finally:
        db.session.remove()
        transaction.rollback()
        connection.close()


def _play_ussd(settings: Settings, phone: str, inputs: list[str]) -> list[Screen]:
    """Each prefix of the inputs sent as the gateway sends a session's cumulative text."""
    steps = UssdSteps(settings, fast=False)  # the careful way: every statement on db.session
    session_id = f"essai-{uuid.uuid4().hex}"
    screens = []
    for count in range(len(inputs) + 1):
        reply = steps.step(session_id, phone, "*".join(inputs[:count])).reply
        typed = inputs[count - 1] if count else None
        screens.append(_screen(typed, reply.text, reply.end, ussd_limit(reply.text)))
        if reply.end:
            break
    return screens


def _screen(typed: str | None, text: str, end: bool = False, limit: int = 0) -> Screen:
    """A screen measured as the network counts it (a USSD screen also against its limit)."""
    cost = sms_cost(text)
    return Screen(typed, text, end, cost.units, limit, cost.segments, cost.encoding)


def _play_sms(settings: Settings, worker: Worker, inputs: list[str]) -> list[Screen]:
    """Each message received as the SMS webhook receives it; its replies are the screens."""
    steps, now, screens = SmsSteps(settings), utcnow(), []
    for text in inputs:
        before = _last_id(OutboundMessage)
        steps.receive(Inbound(f"essai-{uuid.uuid4().hex}", worker.phone, text), now)
        replies = db.session.scalars(
            sa.select(OutboundMessage)
            .where(OutboundMessage.id > before, OutboundMessage.worker_id == worker.id)
            .order_by(OutboundMessage.id)
        ).all()
        if not replies:  # an opted-out person, say: nothing comes back
            screens.append(Screen(text, ""))
        for index, reply in enumerate(replies):
            screens.append(_screen(text if index == 0 else None, reply.text))
    return screens


def _last_id(model: type[OutboundMessage] | type[Session]) -> int:
    """The newest row's id: the trial's own rows are the ones after it (see the module doc)."""
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(model.id), 0)))


def _outgoing(after: int, shown_worker: int | None) -> list[Outgoing]:
    """The trial's outbox rows but the SMS to the worker, already shown as screens."""
    query = (
        sa.select(OutboundMessage, Worker.name)
        .outerjoin(Worker, Worker.id == OutboundMessage.worker_id)
        .where(OutboundMessage.id > after)
        .order_by(OutboundMessage.id)
    )
    if shown_worker is not None:
        query = query.where(
            sa.or_(OutboundMessage.worker_id.is_(None), OutboundMessage.worker_id != shown_worker)
        )
    return [
        Outgoing(
            row.phone,
            name or "",
            row.kind,
            row.text,
            row.segments,
            row.encoding,
            row.not_before,
        )
        for row, name in db.session.execute(query)
    ]


def _submitted_checkin(after_session: int) -> int | None:
    """The check-in a session of this trial submitted, if any (the newest)."""
    return db.session.scalar(
        sa.select(Checkin.id)
        .join(Session, Session.checkin_id == Checkin.id)
        .where(Session.id > after_session, Session.status == "submitted")
        .order_by(Session.id.desc())
        .limit(1)
    )
