"""Sending the outbox through the gateway, exactly once per message.

- `dispatch` moves due `pending` rows to `queued` and enqueues their ids (RQ carries ids only;
  the row is the message). Redis down? The rows go back to `pending` for the next tick.
- `send_batch` (the RQ job) claims rows with an atomic `queued -> sending` change before each
  wave of requests, so a job run twice, or two workers, can never send a row twice. Identical
  texts go in one request (up to the batch size); a wave's requests go out concurrently.
- `sweep` repairs what a dead worker or a lost queue left: stale `queued` rows go back to
  `pending`; stale `sending` rows become `unknown` and are never sent again, because the
  gateway may already have them (a duplicate SMS costs the person and confuses them).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from gateway.africastalking import GatewayError, RecipientResult
from models import OutboundMessage, Worker, db
from models.base import utcnow

log = logging.getLogger(__name__)

DISPATCH_PAGE = 5_000
MIXED_JOB_SIZE = 200
"""Rows per job when texts differ: each is its own request, sent a wave at a time."""
WAVE_REQUESTS = 64
MAX_ATTEMPTS = 6
STALE_QUEUED = timedelta(minutes=10)
STALE_SENDING = timedelta(minutes=2)
"""Far longer than a wave can take (its requests time out after AT_TIMEOUT seconds)."""


@dataclass(frozen=True)
class _Row:
    id: int
    phone: str
    text: str


def dispatch(redis: Redis, now: datetime | None = None) -> int:
    """Queue every due `pending` message; returns how many were queued."""
    now = now or utcnow()
    batch_size = current_app.config["SETTINGS"].at_batch_size
    queued = 0
    while True:
        due = (
            sa.select(OutboundMessage.id)
            .where(OutboundMessage.status == "pending", OutboundMessage.not_before <= now)
            .order_by(OutboundMessage.id)
            .limit(DISPATCH_PAGE)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        rows = db.session.execute(
            sa.update(OutboundMessage)
            .where(OutboundMessage.id.in_(due))
            .values(status="queued", updated_at=now)
            .returning(OutboundMessage.id, OutboundMessage.text)
        ).all()
        db.session.commit()
        if not rows:
            return queued
        jobs = _jobs(rows, batch_size)
        try:
            _enqueue(Queue("default", connection=redis), jobs)
        except RedisError as exc:
            log.warning("outbox: Redis unavailable (%s); %d messages wait", exc, len(rows))
            _set_status([r.id for r in rows], "queued", "pending", now)
            return queued
        queued += len(rows)


def _jobs(rows, batch_size: int) -> list[list[int]]:
    """Ids per job: identical texts together (one request each batch), the rest in mixed jobs."""
    by_text: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_text[row.text].append(row.id)
    jobs, mixed = [], []
    for ids in by_text.values():
        if len(ids) == 1:
            mixed.extend(ids)
        else:
            jobs += [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]
    jobs += [mixed[i : i + MIXED_JOB_SIZE] for i in range(0, len(mixed), MIXED_JOB_SIZE)]
    return jobs


def _enqueue(queue: Queue, jobs: list[list[int]]) -> None:
    with queue.connection.pipeline() as pipe:
        queue.enqueue_many(
            [Queue.prepare_data(send_batch, (ids,), timeout=600, result_ttl=0) for ids in jobs],
            pipeline=pipe,
        )
        pipe.execute()


def send_batch(ids: list[int]) -> int:
    """The RQ job: send the still-`queued` rows among `ids`; returns how many were claimed."""
    settings = current_app.config["SETTINGS"]
    gateway = current_app.extensions["gateway"]
    rows = [
        _Row(*r)
        for r in db.session.execute(
            sa.select(OutboundMessage.id, OutboundMessage.phone, OutboundMessage.text)
            .where(OutboundMessage.id.in_(ids), OutboundMessage.status == "queued")
            .order_by(OutboundMessage.id)
        )
    ]
    db.session.rollback()
    requests = _requests(rows, settings.at_batch_size)
    claimed = 0
    for start in range(0, len(requests), WAVE_REQUESTS):
        wave, attempts = _claim(requests[start : start + WAVE_REQUESTS])
        claimed += len(attempts)
        outcomes = gateway.send_all([(r[0].text, [row.phone for row in r]) for r in wave])
        _record(wave, outcomes, attempts)
    return claimed


def _requests(rows: list[_Row], batch_size: int) -> list[list[_Row]]:
    """Group rows into gateway requests: one text each, at most `batch_size` numbers."""
    requests: list[list[_Row]] = []
    open_by_text: dict[str, list[_Row]] = {}
    for row in rows:
        current = open_by_text.get(row.text)
        if current is None or len(current) >= batch_size:
            current = open_by_text[row.text] = []
            requests.append(current)
        current.append(row)
    return requests


def _claim(wave: list[list[_Row]]) -> tuple[list[list[_Row]], dict[int, int]]:
    """Atomically take the wave's rows (`queued` -> `sending`), dropping opted-out people's.

    Returns the requests left and each taken row's attempt count.
    """
    ids = [r.id for request in wave for r in request]
    now = utcnow()
    opted_out = sa.select(Worker.id).where(Worker.opted_out.is_(True)).scalar_subquery()
    db.session.execute(
        sa.update(OutboundMessage)
        .where(
            OutboundMessage.id.in_(ids),
            OutboundMessage.status == "queued",
            OutboundMessage.kind != "reply",
            OutboundMessage.worker_id.in_(opted_out),
        )
        .values(status="cancelled", failure_reason="opted out", updated_at=now)
    )
    attempts = dict(
        db.session.execute(
            sa.update(OutboundMessage)
            .where(OutboundMessage.id.in_(ids), OutboundMessage.status == "queued")
            .values(status="sending", attempts=OutboundMessage.attempts + 1, updated_at=now)
            .returning(OutboundMessage.id, OutboundMessage.attempts)
        ).all()
    )
    db.session.commit()
    return [
        kept for request in wave if (kept := [r for r in request if r.id in attempts])
    ], attempts


def _record(wave: list[list[_Row]], outcomes: list, attempts: dict[int, int]) -> None:
    now = utcnow()
    changes = []
    for request, outcome in zip(wave, outcomes, strict=True):
        # The adapter answers one result per number, in the order given.
        results = [None] * len(request) if isinstance(outcome, GatewayError) else outcome
        for row, result in zip(request, results, strict=True):
            changes.append(_change(row.id, result, outcome, attempts[row.id], now))
    db.session.execute(sa.update(OutboundMessage), changes)
    db.session.commit()


def _change(row_id: int, result: RecipientResult | None, outcome, attempts: int, now) -> dict:
    if result is not None and result.outcome == "sent":
        return {
            "id": row_id,
            "status": "sent",
            "gateway_id": result.message_id,
            "cost": result.cost,
            "failure_reason": None,
            "sent_at": now,
            "updated_at": now,
        }
    if result is not None and result.outcome == "final":
        return {
            "id": row_id,
            "status": "failed",
            "failure_reason": result.status,
            "updated_at": now,
        }
    reason = result.status if result is not None else _reason(outcome)
    if attempts >= MAX_ATTEMPTS:
        return {
            "id": row_id,
            "status": "failed",
            "failure_reason": f"gave up after {attempts} attempts: {reason}"[:64],
            "updated_at": now,
        }
    return {
        "id": row_id,
        "status": "pending",
        "failure_reason": reason[:64],
        "not_before": now + backoff(attempts),
        "updated_at": now,
    }


def _reason(outcome) -> str:
    return str(outcome) if isinstance(outcome, GatewayError) else "missing from the answer"


def backoff(attempts: int) -> timedelta:
    """30 s, 2 min, 8 min, 32 min, then hourly: a gateway outage is not hammered."""
    return min(timedelta(seconds=30 * 4 ** (attempts - 1)), timedelta(hours=1))


def sweep(now: datetime | None = None) -> tuple[int, int]:
    """Repair rows left behind by a lost queue or a dead worker; returns (requeued, unknown)."""
    now = now or utcnow()
    requeued = _set_status_older("queued", "pending", now - STALE_QUEUED, now, None)
    unknown = _set_status_older(
        "sending",
        "unknown",
        now - STALE_SENDING,
        now,
        "worker stopped during the request; not resent",
    )
    db.session.commit()
    return requeued, unknown


def _set_status_older(old: str, new: str, before: datetime, now: datetime, reason: str | None):
    values = {"status": new, "updated_at": now}
    if reason:
        values["failure_reason"] = reason
    return db.session.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.status == old, OutboundMessage.updated_at < before)
        .values(**values)
    ).rowcount


def _set_status(ids: list[int], old: str, new: str, now: datetime) -> None:
    db.session.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.id.in_(ids), OutboundMessage.status == old)
        .values(status=new, updated_at=now)
    )
    db.session.commit()
