"""What every gateway webhook shares: the token check and reading the gateway's form fields."""

from __future__ import annotations

import hmac

from flask import abort, current_app, request


def require_token() -> None:
    """With WEBHOOK_TOKEN set, a webhook without `?token=<value>` is refused with 403."""
    expected = current_app.config["SETTINGS"].webhook_token
    if expected and not hmac.compare_digest(request.args.get("token", ""), expected):
        abort(403, description="missing or wrong token")


def form_field(name: str, max_length: int, required: bool = True) -> str:
    """A form field as the gateway sends it, or 400 for a request the gateway would not send."""
    value = request.form.get(name)
    if value is None:
        if required:
            abort(
                400, description=f"'{name}' is missing: this does not look like a gateway request"
            )
        return ""
    if len(value) > max_length:
        abort(400, description=f"'{name}' is longer than {max_length} characters")
    if "\ufffd" in value:
        abort(400, description=f"'{name}' is not valid UTF-8")
    return value
