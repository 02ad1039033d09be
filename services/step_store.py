"""A USSD session's stored step, read and saved with one statement each.

Most USSD steps answer the current question of a flow and touch one row. Loading that row
through the ORM (identity map, unit of work, a locking SELECT, then a flush) cost several times
the whole bare Flask request (bench/ussd.py). Here the step is one SELECT joined to the worker
and one UPDATE that only applies if nobody else handled the session meanwhile (optimistic: the
`last_input` it read must still be there), each autocommitted on PostgreSQL. A step that loses
that race, or needs more than the session row, goes the careful way through `Conversation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from models import Session, Worker

_sessions = Session.__table__
_workers = Worker.__table__

_LOAD = (
    sa.select(
        _sessions.c.id,
        _sessions.c.worker_id,
        _sessions.c.checkin_id,
        _sessions.c.status,
        _sessions.c.state,
        _sessions.c.last_input,
        _sessions.c.last_reply,
        _workers.c.phone,
        _workers.c.active,
        _workers.c.language,
    )
    .join(_workers, _workers.c.id == _sessions.c.worker_id)
    .where(
        _sessions.c.channel == "ussd",
        _sessions.c.gateway_session_id == sa.bindparam("gateway_session_id"),
    )
)

_SAVE = (
    sa.update(_sessions)
    .where(
        _sessions.c.id == sa.bindparam("session_id"),
        _sessions.c.status == "active",
        _sessions.c.last_input == sa.bindparam("handled"),
    )
    .values(
        status=sa.bindparam("status"),
        state=sa.bindparam("state"),
        last_input=sa.bindparam("text"),
        last_reply=sa.bindparam("reply"),
        updated_at=sa.bindparam("now"),
    )
)


@dataclass(frozen=True)
class StoredStep:
    """What the last step of a USSD session left, and who the session belongs to."""

    session_id: int
    worker_id: int
    checkin_id: int | None
    status: str
    state: dict
    last_input: str
    last_reply: str
    phone: str
    worker_active: bool
    language: str

    @property
    def ended(self) -> bool:
        return self.status != "active"


_LOCKED_LOAD = _LOAD.with_for_update(of=_sessions)


def load(
    connection: sa.Connection, gateway_session_id: str, lock: bool = False
) -> StoredStep | None:
    """The session's row and its owner; `lock` holds the row until the caller's commit."""
    query = _LOCKED_LOAD if lock else _LOAD
    row = connection.execute(query, {"gateway_session_id": gateway_session_id}).first()
    return None if row is None else StoredStep(*row)


def new_input(handled: str, text: str) -> str | None:
    """What the person typed since the last step: the gateway sends everything, `*`-joined."""
    if not handled:
        return text
    if not text.startswith(handled + "*"):
        return None
    return text[len(handled) + 1 :]


def save(
    connection: sa.Connection,
    step: StoredStep,
    text: str,
    reply: str,
    state: dict,
    now: datetime,
    status: str = "active",
) -> bool:
    """Store the next step; False when another request handled the session since `load`."""
    result = connection.execute(
        _SAVE,
        {
            "session_id": step.session_id,
            "status": status,
            "handled": step.last_input,
            "state": state,
            "text": text,
            "reply": reply,
            "now": now,
        },
    )
    return result.rowcount == 1
