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
from workers.outbox.sweep import SweepReport


@dataclass(frozen=True)
class TickReport:
    opened: int
    missed: int
    outbox: SweepReport
    nudged: bool

    def __str__(self) -> str:
        dispatch = "dispatch nudged" if self.nudged else "Redis unavailable, the outbox waits"
        return (
            f"{self.opened} check-ins opened, {self.missed} missed; outbox: "
            f"{self.outbox.requeued} requeued, {self.outbox.resent} interrupted sent again, "
            f"{dispatch}"
        )


def tick(now: datetime, timezone: str, redis: Redis) -> TickReport:
    """Open due check-ins, close missed ones, repair the outbox and nudge its dispatch.

    The tick does not send: a worker dispatches what is due (so a row held by quiet hours or
    a backoff leaves within a minute of its time, and a Redis outage is caught up here).
    """
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
    repaired = outbox.sweep(redis, now)
    return TickReport(after - before, missed, repaired, outbox.nudge(redis))
