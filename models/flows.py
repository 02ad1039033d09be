"""Flows and their published versions. A version never changes once stored: check-ins and
answers point at the exact text people were asked."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, utcnow


class Flow(db.Model):
    __tablename__ = "flows"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[FlowVersion]] = relationship(
        back_populates="flow", order_by="FlowVersion.version"
    )


class FlowVersion(db.Model):
    __tablename__ = "flow_versions"
    __table_args__ = (sa.UniqueConstraint("flow_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(sa.ForeignKey("flows.id"))
    version: Mapped[int]
    source: Mapped[str] = mapped_column(sa.Text)
    """The YAML exactly as published: what `flows export` gives back."""
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[str | None] = mapped_column(sa.String(254))
    """The console account's email, or None when published from the command line."""
    note: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    """Why this version exists when it is not a plain edit, e.g. a rollback to version 2."""

    flow: Mapped[Flow] = relationship(back_populates="versions")
