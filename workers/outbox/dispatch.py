"""Dispatch: due `pending` rows become `queued` and their ids go to RQ in send jobs.

Nobody drains the outbox inside a request: a webhook or the clock calls `nudge`, which puts
one dispatch job on the queue, and a worker runs `dispatch`. RQ carries ids only; the row is
the message, so a lost queue loses nothing (the sweeper puts its rows back to `pending`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from models import OutboundMessage, db
from models.base import utcnow
from workers.outbox.retry import job_retry
from workers.outbox.send import send_batch
from workers.queues import queue

log = logging.getLogger(__name__)

DISPATCH_PAGE = 5_000
MIXED_JOB_SIZE = 200
"""Rows per job when texts differ: each is its own request, sent a wave at a time."""
NUDGE_KEY = "outbox:nudged"
NUDGE_TTL = 15
"""Seconds a nudge stands for the ones after it, in case its job is lost before it runs."""


def nudge(redis: Redis) -> bool:
    """Ask a worker to dispatch the outbox; returns False when Redis is down.

    Many nudges in a row make one job: the first sets a short-lived key, the job deletes it
    before it reads the outbox, so a nudge after that point makes a new job. At the front of
    the queue, so a reply is not stuck behind a large fan-out. Redis down: nothing to do,
    the clock's next tick nudges again.
    """
    try:
        if redis.set(NUDGE_KEY, 1, nx=True, ex=NUDGE_TTL):
            queue(redis).enqueue(
                dispatch_job, at_front=True, result_ttl=0, failure_ttl=3600, retry=job_retry()
            )
    except RedisError as exc:
        log.warning("outbox: Redis unavailable (%s); the next tick dispatches", exc)
        return False
    return True


def dispatch_job() -> int:
    """The RQ job a nudge enqueues."""
    redis = current_app.extensions["redis"]
    redis.delete(NUDGE_KEY)
    return dispatch(redis)


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
        try:
            _enqueue(queue(redis), _jobs(rows, batch_size))
        except RedisError as exc:
            log.warning("outbox: Redis unavailable (%s); %d messages wait", exc, len(rows))
            _back_to_pending([r.id for r in rows], now)
            return queued
        queued += len(rows)


def _jobs(rows: Sequence[sa.Row], batch_size: int) -> list[list[int]]:
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


def _enqueue(target: Queue, jobs: list[list[int]]) -> None:
    with target.connection.pipeline() as pipe:
        target.enqueue_many(
            [
                Queue.prepare_data(send_batch, (ids,), timeout=600, result_ttl=0, retry=job_retry())
                for ids in jobs
            ],
            pipeline=pipe,
        )
        pipe.execute()


def _back_to_pending(ids: list[int], now: datetime) -> None:
    db.session.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.id.in_(ids), OutboundMessage.status == "queued")
        .values(status="pending", updated_at=now)
    )
    db.session.commit()
