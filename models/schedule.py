"""What the periodic tick has already done, so that an idle minute costs almost nothing."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, db, utcnow


class ScheduleRun(db.Model):
    """One piece of scheduled work done once, e.g. `remind:3:2026-W49:1` (flow 3's first reminder
    of week 49). Outbox rows carry their own dedupe keys, so two clocks at once still send
    nothing twice; this row only lets later ticks skip the work without looking at the outbox."""

    __tablename__ = "schedule_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
