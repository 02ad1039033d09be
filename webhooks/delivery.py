"""Delivery reports from the gateway: they only move a message forward."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response

from models import OutboundMessage, db
from models.base import utcnow
from webhooks.gateway import form_field, require_token

log = logging.getLogger(__name__)
bp = Blueprint("delivery", __name__)
bp.before_request(require_token)

DELIVERY_STATUS = {
    "Sent": "sent",
    "Submitted": "submitted",
    "Buffered": "buffered",
    "AbsentSubscriber": "absent",
    "Expired": "expired",
    "Rejected": "rejected",
    "Success": "success",
    "Failed": "failed",
}
PROGRESS = {
    "pending": 0,
    "queued": 1,
    "sending": 2,
    "unknown": 2,
    "sent": 3,
    "submitted": 4,
    "buffered": 5,
    "absent": 6,
    "expired": 7,
    "success": 9,
    "failed": 9,
    "rejected": 9,
    "cancelled": 9,
}
"""A report may only move a message forward: a late `Sent` never undoes `Success`."""


@bp.post("/sms/delivery")
def delivery() -> Response:
    gateway_id = form_field("id", 100)
    reported = form_field("status", 32)
    status = DELIVERY_STATUS.get(reported)
    if status is None:
        log.warning("delivery report with unknown status %r for %s", reported, gateway_id)
        return Response("unknown status\n", mimetype="text/plain")
    message = db.session.scalar(
        sa.select(OutboundMessage).where(OutboundMessage.gateway_id == gateway_id).with_for_update()
    )
    if message is None:
        log.warning("delivery report for unknown message id %s (%s)", gateway_id, reported)
        return Response("unknown id\n", mimetype="text/plain")
    if PROGRESS[status] > PROGRESS[message.status]:
        message.status = status
        message.failure_reason = form_field("failureReason", 64, required=False) or None
        message.updated_at = utcnow()
    db.session.commit()
    return Response("OK\n", mimetype="text/plain")
