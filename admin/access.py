"""Who may open what: signed-in people only, admins for admin pages, and each viewer within
the scope services/scope.py gives them (the one scoping function, shared with SMS and USSD).

Every route of the console requires a signed-in, active account unless listed in PUBLIC, and
every POST is an admin's unless listed in VIEWERS_MAY_POST, so a new page is protected by
default.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import abort, request
from flask_login import current_user

from admin import bp, login_manager
from models import Account, Facility, db
from services.scope import cscoms_in_scope

PUBLIC = frozenset({"admin.login", "admin.static"})
VIEWERS_MAY_POST = frozenset({"admin.login", "admin.logout"})
"""Supervisors and regional viewers read only: any other POST of theirs is refused (403), so
a new form that changes data is the admins' unless it is listed here."""
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@login_manager.user_loader
def load_account(account_id: str) -> Account | None:
    """The signed-in account, read on each request: a deactivated one is signed out at once."""
    account = db.session.get(Account, int(account_id)) if account_id.isdigit() else None
    return account if account is not None and account.active else None


@bp.before_request
def require_login() -> Any:
    if request.endpoint not in PUBLIC and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.before_request
def viewers_read_only() -> None:
    if (
        request.method in UNSAFE_METHODS
        and request.endpoint not in VIEWERS_MAY_POST
        and current_user.is_authenticated
        and current_user.role != "admin"
    ):
        abort(403)


def admin_only(view: Callable) -> Callable:
    """Pages that change configuration or show everyone's actions: admins only, else 403."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if current_user.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return guarded


def scope() -> sa.Select:
    """The ids of the CSComs the signed-in person may see."""
    return cscoms_in_scope(current_user.role, current_user.facility_id)


def facility_or_abort(facility_id: int, within: sa.Select, kind: str | None = None) -> Facility:
    """The facility `facility_id` if the person may open it: 404 if there is none (or it is not
    of `kind`), 403 if its id is not among `within` (the ids of a scope; an admin's is all)."""
    facility = db.session.get(Facility, facility_id)
    if facility is None or kind not in (None, facility.kind):
        abort(404)
    if not reaches(facility.id, within):
        abort(403)
    return facility


def reaches(facility_id: int, within: sa.Select) -> bool:
    """Whether the signed-in person may open the facility: an admin any, a viewer those of
    `within`."""
    if current_user.role == "admin":
        return True
    query = sa.select(Facility.id).where(Facility.id == facility_id, Facility.id.in_(within))
    return db.session.scalar(query) is not None


def district_or_abort(district_id: int) -> Facility:
    """The CSRef `district_id` if the person may see it: 404 if there is none, 403 if outside.

    A district is within reach when one of its CSComs is in the person's scope (an admin's
    scope is every CSCom, and an admin may also open a district that has none yet).
    """
    district = db.session.get(Facility, district_id)
    if district is None or district.kind != "csref":
        abort(404)
    if current_user.role == "admin":
        return district
    reachable = sa.select(Facility.id).where(
        Facility.parent_id == district_id, Facility.id.in_(scope())
    )
    if not db.session.scalar(sa.select(reachable.exists())):
        abort(403)
    return district
