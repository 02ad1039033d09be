"""The console's pages: login and logout, the completion roll-up, a district's grid, the audit
log. Each view stays thin: the reading is in rollup.py, the rules in access.py and audit.py."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from admin import audit, bp, login_manager, rollup
from admin.access import admin_only, district_or_abort, scope
from admin.accounts import authenticate
from admin.forms import LoginForm
from admin.security import record_number
from admin.throttle import LoginThrottle, ThrottleUnavailable
from models import AuditEntry, Facility, db

login_manager.login_view = "admin.login"
login_manager.login_message = _l("Connectez-vous pour ouvrir cette page.")
login_manager.login_message_category = "info"

AUDIT_PAGE = 100


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("admin.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("admin/login.html", form=form)
    throttle = LoginThrottle(current_app.extensions["redis"])
    email, address = form.email.data, request.remote_addr or "?"
    try:
        wait = throttle.wait(email, address)
        if wait:
            minutes = math.ceil(wait / 60)
            error = _("Trop d'essais manqués. Réessayez dans %(n)d minute(s).", n=minutes)
            return render_template("admin/login.html", form=form, error=error), 429
        account = authenticate(email, form.password.data)
        if account is None:
            throttle.failed(email, address)
            error = _("Adresse e-mail ou mot de passe incorrect.")
            return render_template("admin/login.html", form=form, error=error), 401
        throttle.succeeded(email)
    except ThrottleUnavailable:
        error = _(
            "Connexion momentanément impossible : le compteur d'essais ne répond pas. "
            "Réessayez dans quelques minutes."
        )
        return render_template("admin/login.html", form=form, error=error), 503
    session.clear()  # a fresh session (and CSRF token) for the signed-in person
    login_user(account)
    session.permanent = True
    audit.record("login", f"account:{account.id}", None, None)
    db.session.commit()
    return redirect(_safe_next(request.args.get("next")))


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    audit.record("logout", f"account:{current_user.id}", None, None)
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("admin.login"))


@bp.route("/")
def index() -> str:
    tables = rollup.district_rollup(scope(), datetime.now(UTC), _timezone())
    return render_template("admin/rollup.html", tables=tables, where=_where())


@bp.route("/districts/<int:district_id>")
def district(district_id: int) -> str:
    found = district_or_abort(district_id)
    in_district = scope().where(Facility.parent_id == found.id)
    tables = rollup.district_grid(in_district, datetime.now(UTC), _timezone())
    return render_template("admin/district.html", district=found, tables=tables)


@bp.route("/audit")
@admin_only
def audit_log() -> str:
    """The latest changes, newest first; `?before=<id>` pages back."""
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE)
    before = request.args.get("before", type=record_number)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    entries = db.session.scalars(query).all()
    older = entries[-1].id if len(entries) == AUDIT_PAGE else None
    return render_template("admin/audit.html", entries=entries, older=older)


@bp.context_processor
def page_language() -> dict[str, str]:
    """The language pages are shown in (the <html lang>), French until translations exist."""
    return {"lang": str(get_locale())}


@bp.errorhandler(HTTPException)
def error_page(error: HTTPException) -> tuple[str, int]:
    """Console errors as a page with a way back, not the webhooks' plain text."""
    return render_template("admin/error.html", error=error), error.code or 500


def _where() -> str:
    """What the signed-in person sees, in words: the country, their district or their region."""
    if current_user.facility is None:
        return _("Tout le pays")
    return current_user.facility.name


def _timezone() -> str:
    return current_app.config["SETTINGS"].timezone


def _safe_next(target: str | None) -> str:
    """Where to go after login: a console path given in ?next=, never another site."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin/"):
        return url_for("admin.index")
    return target
