"""What every console response carries and every console request is checked for: the session
cookie's flags, CSRF on unsafe methods, and the security headers."""

from __future__ import annotations

from flask import Flask, Response, abort, request
from flask.sessions import SecureCookieSessionInterface

from admin import bp, csrf

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",  # files under /admin/static only: no inline script, no eval
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages show reports: not to be kept by a shared browser
}


MAX_ID = 2**31 - 1
"""The largest id a table holds (PostgreSQL's INTEGER): a larger number names nothing, and the
database refuses to compare with it (SQLite, past 64 bits, raises even before)."""


def record_number(text: str) -> int:
    """`type=` for a number read from a query or a form (ids, page and version numbers): one
    no table can hold raises ValueError, so it reads as absent, as a word does."""
    value = int(text)
    if abs(value) > MAX_ID:
        raise ValueError(f"{text!r} is out of range")
    return value


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the Secure flag whenever the request came by HTTPS.

    Behind a proxy that ends TLS, `trusted_proxies` (admin.init_app) lets X-Forwarded-Proto
    say so; SESSION_COOKIE_SECURE=True forces the flag regardless.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


@bp.before_request
def check_csrf() -> None:
    """Every POST (PUT, PATCH, DELETE) under /admin carries the session's CSRF token, else 400."""
    csrf.protect()


@bp.before_request
def ids_in_range() -> None:
    """A URL naming an id no table can hold names nothing: 404, as an unknown id (after the
    login and CSRF checks, so an anonymous visitor still meets the login page)."""
    values = request.view_args or {}
    if any(isinstance(v, int) and abs(v) > MAX_ID for v in values.values()):
        abort(404)


@bp.before_request
def no_nul_characters() -> None:
    """A NUL character in the path, a query or a form field: 400. No console field has a use
    for one, and PostgreSQL's text cannot hold one (a search, a login or a trial's step would
    fail with a 500 there; the webhooks clean their input, a form's text is refused)."""
    values = [*(request.view_args or {}).values()]
    for fields in (request.args, request.form):
        values += [value for _name, found in fields.lists() for value in found]
    if any(isinstance(value, str) and "\x00" in value for value in values):
        abort(400)


@bp.after_request
def security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
