"""The send job: a job's rows through the gateway, claimed one wave at a time.

A wave is as many requests as the gateway has in flight at once (`Gateway.concurrency`), and
its rows are claimed (`queued -> sending`, atomically) just before it goes: a row is
`sending` only while its request is really on its way. So a worker killed mid-wave leaves
`sending` exactly the rows that may have reached the gateway (the sweeper sends them again,
marked possible duplicates) and `queued` the rows it never sent (simply sent later). The
atomic claim also means a job run twice, or two workers, never send a row twice on their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from gateway.base import Gateway, GatewayError, RecipientResult
from models import OutboundMessage, Worker, db
from models.base import utcnow
from workers.outbox.reports import apply_early
from workers.outbox.retry import after_failure


@dataclass(frozen=True)
class _Row:
    id: int
    phone: str
    text: str


Request = list[_Row]


@dataclass(frozen=True)
class _Answered:
    """A wave the gateway answered, whose rows are still `sending` until it is recorded."""

    requests: list[Request]
    outcomes: list[list[RecipientResult] | GatewayError]
    attempts: dict[int, int]


def send_batch(ids: list[int]) -> int:
    """The RQ job: send the still-`queued` rows among `ids`; returns how many were claimed.

    One transaction between two waves records the last wave's answers, applies delivery
    reports that were waiting for ids recorded before, and claims the next wave.
    """
    gateway: Gateway = current_app.extensions["gateway"]
    batch_size = current_app.config["SETTINGS"].at_batch_size
    answered: _Answered | None = None
    claimed = 0
    for wave in _waves(_requests(_queued(ids), batch_size), gateway.concurrency):
        now = utcnow()
        _record(answered, now)
        apply_early(now)
        requests, attempts = _claim(wave, now)
        db.session.commit()
        answered = None
        if requests:
            claimed += len(attempts)
            outcomes = gateway.send_all([(r[0].text, [row.phone for row in r]) for r in requests])
            answered = _Answered(requests, outcomes, attempts)
    _record(answered, utcnow())
    db.session.commit()
    apply_early(utcnow())  # for the ids just committed
    db.session.commit()
    return claimed


def _queued(ids: list[int]) -> list[_Row]:
    rows = db.session.execute(
        sa.select(OutboundMessage.id, OutboundMessage.phone, OutboundMessage.text)
        .where(OutboundMessage.id.in_(ids), OutboundMessage.status == "queued")
        .order_by(OutboundMessage.id)
    )
    found = [_Row(*row) for row in rows]
    db.session.rollback()  # hold no snapshot (or SQLite read lock) while the gateway answers
    return found


def _requests(rows: list[_Row], batch_size: int) -> list[Request]:
    """Group rows into gateway requests: one text each, at most `batch_size` numbers."""
    requests: list[Request] = []
    open_by_text: dict[str, Request] = {}
    for row in rows:
        current = open_by_text.get(row.text)
        if current is None or len(current) >= batch_size:
            current = open_by_text[row.text] = []
            requests.append(current)
        current.append(row)
    return requests


def _waves(requests: list[Request], size: int) -> Iterator[list[Request]]:
    for start in range(0, len(requests), size):
        yield requests[start : start + size]


def _claim(wave: list[Request], now: datetime) -> tuple[list[Request], dict[int, int]]:
    """Take the wave's rows (`queued` -> `sending`, in one UPDATE), cancelling opted-out
    people's on the way (a reply still goes: it answers what they just sent).

    Returns the requests left and each taken row's attempt count.
    """
    ids = [r.id for request in wave for r in request]
    opted_out = sa.select(Worker.id).where(Worker.opted_out.is_(True))
    cancel = sa.and_(OutboundMessage.kind != "reply", OutboundMessage.worker_id.in_(opted_out))
    taken = db.session.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.id.in_(ids), OutboundMessage.status == "queued")
        .values(
            status=sa.case((cancel, "cancelled"), else_="sending"),
            attempts=sa.case(
                (cancel, OutboundMessage.attempts), else_=OutboundMessage.attempts + 1
            ),
            failure_reason=sa.case((cancel, "opted out"), else_=OutboundMessage.failure_reason),
            updated_at=now,
        )
        .returning(OutboundMessage.id, OutboundMessage.status, OutboundMessage.attempts)
    ).all()
    attempts = {row_id: tries for row_id, status, tries in taken if status == "sending"}
    kept = [[r for r in request if r.id in attempts] for request in wave]
    return [request for request in kept if request], attempts


def _record(answered: _Answered | None, now: datetime) -> None:
    """Write each row's outcome (the caller commits)."""
    if answered is None:
        return
    changes = []
    for request, outcome in zip(answered.requests, answered.outcomes, strict=True):
        if isinstance(outcome, GatewayError):
            changes += [
                {"id": row.id, **_failed_request(outcome, answered.attempts[row.id], now)}
                for row in request
            ]
        else:  # the adapter answers one result per number, in the order given
            changes += [
                {"id": row.id, **_change(result, answered.attempts[row.id], now)}
                for row, result in zip(request, outcome, strict=True)
            ]
    db.session.execute(sa.update(OutboundMessage), changes)


def _failed_request(error: GatewayError, attempts: int, now: datetime) -> dict[str, Any]:
    """A row's new columns when its whole request failed."""
    return after_failure(attempts, str(error), now, in_doubt=error.may_have_reached)


def _change(result: RecipientResult, attempts: int, now: datetime) -> dict[str, Any]:
    """A row's new columns after the gateway answered for its number."""
    if result.outcome == "sent":
        return {
            "status": "sent",
            "gateway_id": result.message_id,
            "cost": result.cost,
            "failure_reason": None,
            "sent_at": now,
            "updated_at": now,
        }
    if result.outcome == "final":
        return {"status": "failed", "failure_reason": result.status, "updated_at": now}
    return after_failure(attempts, result.status, now, in_doubt=result.may_have_reached)
