"""The inbound SMS webhook: parse the gateway's form, hand it to services/sms_steps.py, answer.

The gateway retries a callback that fails, for as long as it fails: so 503 only when nothing
could be stored (the database is unreachable), to be retried later; any other failure while
handling a message keeps the message (with an apology to its sender), is logged with its
traceback, and answers 200, since a retry would fail the same way.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app

from models import db
from models.base import utcnow
from services.sms_steps import Inbound, SmsSteps
from webhooks.gateway import UNREACHABLE, form_field, require_token
from workers.outbox import nudge

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__)
bp.before_request(require_token)

MAX_SMS_TEXT = 5_000


@bp.post("/sms/incoming")
def incoming() -> Response:
    message = Inbound(
        gateway_id=form_field("id", 100),
        sender=form_field("from", 32),
        text=form_field("text", MAX_SMS_TEXT),
        to=form_field("to", 32, required=False),
        link_id=form_field("linkId", 100, required=False) or None,
        network_code=form_field("networkCode", 16, required=False) or None,
        date=form_field("date", 40, required=False) or None,
    )
    steps: SmsSteps = current_app.extensions["sms_steps"]
    try:
        received = steps.receive(message, utcnow())
    except UNREACHABLE:
        db.session.rollback()
        log.exception(
            "sms: database unavailable; message %s left to the gateway's retry", message.gateway_id
        )
        return Response("database unavailable, retry later\n", 503, mimetype="text/plain")
    except Exception:
        db.session.rollback()
        log.exception(
            "sms: handling message %s (%d characters) failed; keeping it",
            message.gateway_id,
            len(message.text),
        )
        received = steps.keep(message, utcnow())
    if received.messages:
        nudge(current_app.extensions["redis"])
    return Response("duplicate\n" if received.duplicate else "OK\n", mimetype="text/plain")
