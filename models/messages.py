"""SMS in and out. An outbound SMS is a row here before it is queued: the outbox is the truth,
Redis only carries ids, so a lost queue or a dead worker loses nothing."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, db, utcnow

OUTBOX_STATUSES = (
    "pending",  # waiting: for the queue, quiet hours to end, or a retry (failure_reason says)
    "queued",  # its id is in an RQ job
    "sending",  # claimed by one worker, its request under way
    "sent",  # the gateway accepted it (100, 101, 102)
    "submitted",  # delivery reports, moving forward only
    "buffered",
    "success",
    "failed",
    "rejected",
    "expired",
    "absent",
    "cancelled",  # never sent: the person opted out before it left
)
FINAL_STATUSES = ("success", "failed", "rejected", "cancelled")
KINDS = (
    "reply",
    "alert",
    "reminder",
    "invitation",
    "digest",
    "broadcast",
    "system",
    "escalation",  # to supervisors: the CSComs still missing after `escalate_after`
    "coaching",  # a supervisor's `R <code> <text>` to a CSCom's QI focal point(s)
)


STARTED_KINDS = "kind IN ('reminder', 'invitation', 'digest', 'broadcast', 'escalation')"
"""The service's own messages, which the daily limit counts (services/started_messages.py)."""


class OutboundMessage(db.Model):
    __tablename__ = "outbox"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {OUTBOX_STATUSES}", name="status"),
        sa.CheckConstraint(f"kind IN {KINDS}", name="kind"),
        # Partial indexes: the few rows waiting or in flight, never the millions already sent.
        # (A full index on status misleads the planner: `queued` rows come and go too fast for
        # its statistics, and the claim by id scanned every queued row.)
        sa.Index(
            "ix_outbox_due",
            "not_before",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
        sa.Index(
            "ix_outbox_started_not_before",
            "not_before",
            sqlite_where=sa.text(STARTED_KINDS),
            postgresql_where=sa.text(STARTED_KINDS),
        ),
        sa.Index(
            "ix_outbox_in_flight",
            "updated_at",
            sqlite_where=sa.text("status IN ('queued', 'sending')"),
            postgresql_where=sa.text("status IN ('queued', 'sending')"),
        ),
        # The console's message log: newest first, paged by (time, id).
        sa.Index("ix_outbox_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    worker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("workers.id"))
    text: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str] = mapped_column(sa.String(3), default="fr")
    encoding: Mapped[str] = mapped_column(sa.String(8))
    segments: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(16))
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    gateway_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    cost: Mapped[str | None] = mapped_column(sa.String(32))
    failure_reason: Mapped[str | None] = mapped_column(sa.String(64))
    """Why the row is not (yet) sent: held by quiet hours, skipped by a rule, or the last
    attempt's error; cleared when the gateway accepts it."""
    possible_duplicate: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    """Put back to be sent again after a request that may have reached the gateway (a worker
    killed while it was out, a timeout once it had left): the person may get it twice."""
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    """Set for messages that must exist once (a reminder for a check-in, an alert)."""
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboundMessage(db.Model):
    __tablename__ = "inbox"
    __table_args__ = (sa.Index("ix_inbox_received_at_id", "received_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    """The gateway's `id`: it retries for minutes, and a repeat must change nothing."""
    phone: Mapped[str] = mapped_column(sa.String(32), index=True)
    to: Mapped[str] = mapped_column(sa.String(32), default="")
    text: Mapped[str] = mapped_column(sa.Text)
    link_id: Mapped[str | None] = mapped_column(sa.String(100))
    network_code: Mapped[str | None] = mapped_column(sa.String(16))
    gateway_date: Mapped[str | None] = mapped_column(sa.String(40))
    worker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("workers.id"))
    encoding: Mapped[str] = mapped_column(sa.String(8))
    segments: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EarlyDeliveryReport(db.Model):
    """A delivery report that arrived before the send recorded its gateway id.

    The gateway answers a send and may report delivery within milliseconds, before the
    worker has written the id it was answered; it never repeats an acknowledged report. The
    report waits here and is applied when the id is recorded (workers/outbox/reports.py).
    """

    __tablename__ = "early_delivery_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway_id: Mapped[str] = mapped_column(sa.String(100), index=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    failure_reason: Mapped[str | None] = mapped_column(sa.String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
