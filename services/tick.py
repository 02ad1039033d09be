"""The periodic work, run once "as if at" a moment: `flask tick --now …` and the clock both call it.

Taking `now` as an argument (never reading the clock inside) makes every schedule testable and
lets an admin replay a missed run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from redis import Redis

from models import Checkin, Worker, db
from services import checkins
from workers import outbox


@dataclass(frozen=True)
class TickReport:
    opened: int
    missed: int
    requeued: int
    unknown: int
    queued: int

    def __str__(self) -> str:
        return (
            f"{self.opened} check-ins opened, {self.missed} missed; outbox: {self.queued} queued, "
            f"{self.requeued} requeued, {self.unknown} left unknown"
        )


def tick(now: datetime, timezone: str, redis: Redis) -> TickReport:
    """Open due check-ins, close missed ones, then repair and drain the outbox."""
    missed = db.session.execute(
        sa.update(Checkin)
        .where(Checkin.status == "open", Checkin.closes_at.is_not(None), Checkin.closes_at <= now)
        .values(status="missed")
        .execution_options(synchronize_session=False)
    ).rowcount
    before = db.session.scalar(sa.select(sa.func.count(Checkin.id)))
    for worker in db.session.scalars(sa.select(Worker).where(Worker.active.is_(True))):
        checkins.options_for(worker, now, timezone)
    after = db.session.scalar(sa.select(sa.func.count(Checkin.id)))
    db.session.commit()
    requeued, unknown = outbox.sweep(now)
    queued = outbox.dispatch(redis, now)
    return TickReport(after - before, missed, requeued, unknown, queued)
