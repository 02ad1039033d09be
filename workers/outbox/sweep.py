"""The sweeper: what a lost queue or a dead worker left behind goes back into the outbox.

- `queued` rows whose job is gone: back to `pending`, simply sent later (they never left).
  A job is gone when it has waited far too long, or at once when Redis lost its data (a
  restart without persistence): the sweeper keeps a marker key, and a missing marker means
  every job enqueued before is lost. Putting back a row whose job still exists is harmless:
  the claim is atomic, so only one job can send it.
- `sending` rows a worker never finished: their request may have reached the gateway, so
  they are sent again (after the retry policy's backoff) marked possible duplicates.
- Early delivery reports that no message ever claimed are forgotten after a week.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from redis import Redis
from redis.exceptions import RedisError

from models import OutboundMessage, db
from models.messages import EarlyDeliveryReport
from workers.outbox.retry import after_failure

log = logging.getLogger(__name__)

STALE_QUEUED = timedelta(minutes=3)
"""A `queued` row older than this is put back to be dispatched again: its job may have died
with a killed worker. Early is safe: a row is claimed atomically before it is sent, so a row
in two jobs is still sent once."""
STALE_SENDING = timedelta(minutes=2)
"""Far longer than a wave can take (its requests time out after AT_TIMEOUT seconds)."""
EARLY_REPORTS_KEPT = timedelta(days=7)
QUEUE_MARKER = "outbox:queue-marker"
INTERRUPTED = "worker stopped mid-request; sent again"


@dataclass(frozen=True)
class SweepReport:
    requeued: int
    """`queued` rows put back to `pending`: their job was lost before it sent them."""
    resent: int
    """`sending` rows put back to be sent again (or given up), as possible duplicates."""


def sweep(redis: Redis, now: datetime) -> SweepReport:
    """Repair rows left behind by a lost queue or a dead worker; commits."""
    lost_queue = _queue_was_lost(redis)
    requeued = _requeue_queued(now if lost_queue else now - STALE_QUEUED, now)
    resent = _resend_sending(now - STALE_SENDING, now)
    if now.minute == 0:  # once an hour is enough for reports kept a week; idle minutes stay cheap
        db.session.execute(
            sa.delete(EarlyDeliveryReport).where(
                EarlyDeliveryReport.received_at < now - EARLY_REPORTS_KEPT
            )
        )
    db.session.commit()
    if requeued or resent:
        log.warning("outbox: %d queued rows requeued, %d interrupted rows resent", requeued, resent)
    return SweepReport(requeued, resent)


def _queue_was_lost(redis: Redis) -> bool:
    """True when Redis no longer has the marker the last sweep left (or this is the first)."""
    try:
        return bool(redis.set(QUEUE_MARKER, 1, nx=True))
    except RedisError:
        return False  # nothing is sent while Redis is down; the next sweep looks again


def _requeue_queued(before: datetime, now: datetime) -> int:
    return db.session.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.status == "queued", OutboundMessage.updated_at <= before)
        .values(status="pending", updated_at=now)
    ).rowcount


def _resend_sending(before: datetime, now: datetime) -> int:
    stuck = db.session.execute(
        sa.select(OutboundMessage.id, OutboundMessage.attempts).where(
            OutboundMessage.status == "sending", OutboundMessage.updated_at < before
        )
    ).all()
    if stuck:
        changes = [
            {"id": row_id, **after_failure(attempts, INTERRUPTED, now, in_doubt=True)}
            for row_id, attempts in stuck
        ]
        db.session.execute(sa.update(OutboundMessage), changes)
    return len(stuck)
