"""Check-ins, the conversations that fill them, and the answers they produce."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, utcnow
from models.directory import Facility, Worker
from models.flows import FlowVersion

CHECKIN_STATUSES = ("open", "completed", "missed")
CHANNELS = ("ussd", "sms")


class Checkin(db.Model):
    """One expected report: a facility's (or a worker's) answers to a flow for one period.

    The partial unique indexes make "one check-in per facility, flow and period" a database
    rule, so two colleagues dialling at once cannot open or complete it twice.
    """

    __tablename__ = "checkins"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {CHECKIN_STATUSES}", name="status"),
        sa.Index(
            "uq_checkins_facility_period",
            "flow_id",
            "facility_id",
            "period",
            unique=True,
            sqlite_where=sa.text("worker_id IS NULL"),
            postgresql_where=sa.text("worker_id IS NULL"),
        ),
        sa.Index(
            "ix_checkins_open_closes_at",
            "closes_at",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        ),
        sa.Index(
            "uq_checkins_worker_period",
            "flow_id",
            "worker_id",
            "period",
            unique=True,
            sqlite_where=sa.text("worker_id IS NOT NULL"),
            postgresql_where=sa.text("worker_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(sa.ForeignKey("flows.id"))
    flow_version_id: Mapped[int] = mapped_column(sa.ForeignKey("flow_versions.id"))
    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facilities.id"), index=True)
    worker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("workers.id"))
    """Set for per-worker and on-demand check-ins; NULL when the facility answers as a team."""
    period: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("workers.id"))
    channel: Mapped[str | None] = mapped_column(sa.String(8))

    flow_version: Mapped[FlowVersion] = relationship()
    facility: Mapped[Facility] = relationship()
    completed_by: Mapped[Worker | None] = relationship(foreign_keys=[completed_by_id])


class Session(db.Model):
    """A conversation on one channel; its `state` is the engine's state, so any web process
    can serve the next step, and a dropped session can be resumed on the next dial."""

    __tablename__ = "sessions"
    __table_args__ = (
        sa.UniqueConstraint("channel", "gateway_session_id"),
        sa.Index("ix_sessions_worker_status", "worker_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(8))
    gateway_session_id: Mapped[str | None] = mapped_column(sa.String(100))
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("workers.id"))
    checkin_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checkins.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    """active (waiting for input), submitted, ended, or replaced (resumed elsewhere)."""
    state: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    last_input: Mapped[str] = mapped_column(sa.Text, default="")
    """The gateway's cumulative `text` already handled: a repeat is answered from `last_reply`."""
    last_reply: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    worker: Mapped[Worker] = relationship()
    checkin: Mapped[Checkin | None] = relationship()


class Answer(db.Model):
    """One answer of one submission. A check-in's first completed submission is its reference
    (what digests, DETAIL and run charts read); a colleague's later one is kept whole beside it.
    """

    __tablename__ = "answers"
    __table_args__ = (
        sa.Index(
            "uq_answers_reference",
            "checkin_id",
            "question_key",
            unique=True,
            sqlite_where=sa.text("reference"),
            postgresql_where=sa.text("reference"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(sa.ForeignKey("checkins.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sessions.id"))
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("workers.id"))
    reference: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    """Part of the check-in's first completed submission."""
    question_key: Mapped[str] = mapped_column(sa.String(64))
    value_text: Mapped[str | None] = mapped_column(sa.Text)
    value_number: Mapped[int | None] = mapped_column(sa.BigInteger)
    raw: Mapped[str] = mapped_column(sa.Text, default="")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def value(self) -> str | int | None:
        return self.value_number if self.value_number is not None else self.value_text

    @classmethod
    def of(cls, question_key: str, value: str | int, **columns: object) -> Answer:
        """An answer with `value` in its type's column (numbers compare as numbers), as typed."""
        number = value if isinstance(value, int) else None
        text = None if number is not None else str(value)
        return cls(
            question_key=question_key,
            value_number=number,
            value_text=text,
            raw=str(value),
            **columns,
        )


class UssdEvent(db.Model):
    """The gateway's end-of-session notification, kept as it came for support and billing."""

    __tablename__ = "ussd_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway_session_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    status: Mapped[str] = mapped_column(sa.String(32), default="")
    input: Mapped[str] = mapped_column(sa.Text, default="")
    last_app_response: Mapped[str] = mapped_column(sa.Text, default="")
    error_message: Mapped[str] = mapped_column(sa.Text, default="")
    duration_ms: Mapped[int | None]
    cost: Mapped[str] = mapped_column(sa.String(32), default="")
    gateway_date: Mapped[str] = mapped_column(sa.String(32), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
