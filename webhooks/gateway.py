"""What every gateway webhook shares: the token check and reading the gateway's form fields.

Fields are cleaned here, once, before anything stores them: PostgreSQL refuses a NUL in text
(the whole transaction fails, taking the inbound message with it), and other control
characters only garble exports and screens. Numbers are read as ASCII digits within the range
of the column they go to, so `²` (which str.isdigit accepts and int refuses) or 2147483648 in
an int4 column is no number rather than a crash.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl

from flask import abort, current_app, request
from sqlalchemy.exc import InterfaceError, OperationalError

from flows.smstext import clean_text

UNREACHABLE = (OperationalError, InterfaceError)
"""What the database raises when it cannot be reached (down, or a pooled connection it cut), as
opposed to refusing what we sent: a webhook then answers 503, so the gateway retries."""


def require_token() -> None:
    """With WEBHOOK_TOKEN set, a webhook without `?token=<value>` is refused with 403."""
    expected = current_app.config["SETTINGS"].webhook_token
    if expected and not hmac.compare_digest(request.args.get("token", ""), expected):
        abort(403, description="missing or wrong token")


INT4_MAX = 2**31 - 1
"""The largest value of an INTEGER column on PostgreSQL (and the SQLite schema's declared type)."""
_DIGITS = re.compile(r"[0-9]{1,18}")


def form_field(name: str, max_length: int, required: bool = True) -> str:
    """A form field as the gateway sends it, cleaned, or 400 for a request the gateway would not send."""
    value = _form().get(name)
    if value is None:
        if required:
            abort(400, description=f"'{name}' is missing: this is not a gateway request")
        return ""
    if len(value) > max_length:
        abort(400, description=f"'{name}' is longer than {max_length} characters")
    return value


def int_field(name: str, max_value: int = INT4_MAX) -> int | None:
    """A whole number field (0 to `max_value`, ASCII digits), else None: absent, malformed or too big."""
    value = _form().get(name, "")
    if not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if number <= max_value else None


def _form() -> dict[str, str]:
    """The form, decoded strictly: Werkzeug would keep invalid UTF-8 as literal '%FF' text.

    Parsed once per request and kept in the WSGI environ, which lives exactly as long.
    """
    environ = request.environ
    if "qi.gateway_form" not in environ:
        if request.mimetype == "application/x-www-form-urlencoded":
            try:
                body = request.get_data(cache=True).decode("utf-8")
                pairs = parse_qsl(body, keep_blank_values=True, errors="strict")
                environ["qi.gateway_form"] = _cleaned(pairs)
            except UnicodeDecodeError:
                abort(400, description="the form is not valid UTF-8")
        else:
            environ["qi.gateway_form"] = _cleaned(request.form.items())
    return environ["qi.gateway_form"]


def _cleaned(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The form with every value cleaned (the first value of a repeated name wins)."""
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, clean_text(value))
    return form
