"""Who and where: the facility hierarchy and the people who answer or supervise."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, utcnow

FACILITY_KINDS = ("region", "csref", "cscom")
ROLES = ("qi_focal_point", "dtc", "midwife", "nurse", "supervisor", "regional", "other")
VIEWER_ROLES = ("supervisor", "regional")
"""People who oversee CSComs (a CSRef's district, a region) rather than answer check-ins."""
LANGUAGES = ("fr", "bm")


class Facility(db.Model):
    __tablename__ = "facilities"
    __table_args__ = (sa.CheckConstraint(f"kind IN {FACILITY_KINDS}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[str] = mapped_column(sa.String(16))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("facilities.id"))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    """A closed facility is deactivated, not deleted: its check-ins and answers stay readable."""

    parent: Mapped[Facility | None] = relationship(remote_side=[id])


class Worker(db.Model):
    """A health worker or supervisor, identified by the phone they use."""

    __tablename__ = "workers"
    __table_args__ = (
        sa.CheckConstraint(f"role IN {ROLES}", name="role"),
        sa.CheckConstraint(f"language IN {LANGUAGES}", name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)
    """E.164, normalised by models.phone before it is stored."""
    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facilities.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(32))
    language: Mapped[str] = mapped_column(sa.String(3), default="fr")
    active: Mapped[bool] = mapped_column(default=True)
    opted_out: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    facility: Mapped[Facility] = relationship()
