"""What every gateway webhook shares: the token check and reading the gateway's form fields."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qsl

from flask import abort, current_app, request


def require_token() -> None:
    """With WEBHOOK_TOKEN set, a webhook without `?token=<value>` is refused with 403."""
    expected = current_app.config["SETTINGS"].webhook_token
    if expected and not hmac.compare_digest(request.args.get("token", ""), expected):
        abort(403, description="missing or wrong token")


def form_field(name: str, max_length: int, required: bool = True) -> str:
    """A form field as the gateway sends it, or 400 for a request the gateway would not send."""
    value = _form().get(name)
    if value is None:
        if required:
            abort(400, description=f"'{name}' is missing: this is not a gateway request")
        return ""
    if len(value) > max_length:
        abort(400, description=f"'{name}' is longer than {max_length} characters")
    return value


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
                environ["qi.gateway_form"] = dict(pairs)
            except UnicodeDecodeError:
                abort(400, description="the form is not valid UTF-8")
        else:
            environ["qi.gateway_form"] = request.form.to_dict()
    return environ["qi.gateway_form"]
