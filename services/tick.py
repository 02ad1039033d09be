"""The periodic work, run once "as if at" a moment: `flask tick --now …` and the clock both call it.

Taking `now` as an argument (never reading the clock inside) makes every schedule testable and
lets an admin replay a missed run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from redis import Redis

from config import Settings
from models import Checkin, db
from services import scheduled
from workers import outbox
from workers.outbox.sweep import SweepReport


@dataclass(frozen=True)
class TickReport:
    written: Counter[str]
    """Messages the scheduled work wrote, per kind (invitation, reminder, escalation, digest)."""
    missed: int
    outbox: SweepReport
    nudged: bool

    def __str__(self) -> str:
        written = ", ".join(f"{kind}: {n}" for kind, n in sorted(self.written.items()) if n)
        dispatch = "dispatch nudged" if self.nudged else "Redis unavailable, the outbox waits"
        return (
            f"scheduled: {written or 'nothing due'}; {self.missed} check-ins missed; outbox: "
            f"{self.outbox.requeued} requeued, {self.outbox.resent} interrupted sent again, "
            f"{dispatch}"
        )


def tick(now: datetime, settings: Settings, redis: Redis) -> TickReport:
    """Close missed check-ins, do the scheduled work due, repair the outbox and nudge it.

    The tick does not send: a worker dispatches what is due (so a row held by quiet hours or
    a backoff leaves within a minute of its time, and a Redis outage is caught up here).
    """
    missed = db.session.execute(
        sa.update(Checkin)
        .where(Checkin.status == "open", Checkin.closes_at.is_not(None), Checkin.closes_at <= now)
        .values(status="missed")
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    written = scheduled.run(settings, now)
    repaired = outbox.sweep(redis, now)
    return TickReport(written, missed, repaired, outbox.nudge(redis))
