"""The admin console: server-rendered pages under /admin for admins, supervisors and regional
viewers (issue 11).

Everything a page needs to be safe is wired here once, so a new page gets it by being a route
of `bp`: login required (access.py), CSRF checked on every unsafe method (security.py), the
security headers, French texts marked for translation (Flask-Babel), the audit log (audit.py).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from flask import Blueprint, Flask
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
)
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()

SESSION_HOURS = 12
"""How long a login lasts: a working day, so a shared laptop left signed in does not stay so."""


def init_app(app: Flask, trusted_proxies: int = 0) -> None:
    """Register the console on `app`: extensions, session cookie, blueprint.

    `trusted_proxies`: how many reverse proxies stand before the app; their X-Forwarded-For
    and X-Forwarded-Proto are then believed (the client's address for the login throttle,
    HTTPS for the Secure cookie). Zero trusts none: a client could forge them otherwise.
    """
    # They add to bp; access before security, so an anonymous visitor is sent to the login
    # page before their CSRF token is looked at.
    from admin import (  # noqa: F401
        access,
        directory_pages,
        flow_pages,
        nav,
        phone_page,
        results_pages,
        security,
        views,
    )

    if trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted_proxies, x_proto=trusted_proxies)
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or _instance_secret(app)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/admin",
        PERMANENT_SESSION_LIFETIME=SESSION_HOURS * 3600,
        # The app-wide check would refuse the gateway's webhooks; the console checks its own.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,  # a token lives as long as the session that holds it
        BABEL_DEFAULT_LOCALE="fr",
        BABEL_DEFAULT_TIMEZONE=app.config["SETTINGS"].timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
    )
    app.session_interface = security.SessionInterface()
    csrf.init_app(app)
    babel.init_app(app)
    login_manager.init_app(app)
    app.register_blueprint(bp)


def _instance_secret(app: Flask) -> str:
    """SECRET_KEY's stand-in when none is set: a random key kept in instance/secret_key.

    Kept in a file, not drawn per process, so the demo's web workers and a restart accept the
    same session cookies; written whole, readable by its owner only, then linked into place (a
    process racing the first gets the first one's key). Production sets SECRET_KEY: several
    machines must share it.
    """
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".secret_key.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):  # another process was first: use its key
            os.link(draft, path)
        draft.unlink()
    return path.read_text(encoding="ascii").strip()
