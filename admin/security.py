"""What every console response carries and every console request is checked for: the session
cookie's flags, CSRF on unsafe methods, and the security headers."""

from __future__ import annotations

from flask import Flask, Response, request
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


@bp.after_request
def security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
