"""People who use the admin console in a browser, and the audit log of what they changed.

An account is not a Worker: workers are phones that answer check-ins; an account is an email
and a password. A supervisor's account names their CSRef and a regional viewer's their region,
exactly as `create-admin` checks, so that services/scope.py can decide what either may see.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, utcnow
from models.directory import Facility

ACCOUNT_ROLES = ("admin", "supervisor", "regional")
FACILITY_KIND_OF_ROLE = {"supervisor": "csref", "regional": "region"}
"""The kind of facility each viewer role names; an admin names none."""


class Account(db.Model):
    __tablename__ = "accounts"
    __table_args__ = (
        sa.CheckConstraint(f"role IN {ACCOUNT_ROLES}", name="role"),
        sa.CheckConstraint("(role = 'admin') = (facility_id IS NULL)", name="facility"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    """Stored lower-case (admin.accounts.normal_email), so lookups need no function index."""
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))
    facility_id: Mapped[int | None] = mapped_column(sa.ForeignKey("facilities.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    facility: Mapped[Facility | None] = relationship()

    # Flask-Login's user interface: what the login manager asks of a signed-in person.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class AuditEntry(db.Model):
    """One change: who, what, when, and the changed thing before and after (JSON)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    """NULL when the change came from the command line."""
    actor: Mapped[str] = mapped_column(sa.String(254))
    """The account's email at the time (or "cli"): kept even if the account changes later."""
    action: Mapped[str] = mapped_column(sa.String(64))
    target: Mapped[str] = mapped_column(sa.String(254), default="")
    before: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    after: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
