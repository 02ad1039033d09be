"""Delivery reports from the gateway: they only move a message forward, and none is dropped.

A report for an id no message has yet is kept and applied when the send records the id
(workers/outbox/reports.py); either way the gateway gets 200 once the report is stored, so
it does not retry it.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response

from models import OutboundMessage, db
from models.base import utcnow
from webhooks.gateway import UNREACHABLE, form_field, require_token
from workers.outbox.reports import advance, apply_early, keep_early

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
"""Africa's Talking's report statuses, in the outbox's words."""


@bp.post("/sms/delivery")
def delivery() -> Response:
    """A delivery report, applied (or kept until its message's id is known); 503 when the
    database cannot be reached, so that the gateway retries it."""
    try:
        return _delivery()
    except UNREACHABLE:
        db.session.rollback()
        log.warning("delivery report: database unavailable; left to the gateway's retry")
        return Response("database unavailable, retry later\n", 503, mimetype="text/plain")


def _delivery() -> Response:
    gateway_id = form_field("id", 100)
    reported = form_field("status", 32)
    status = DELIVERY_STATUS.get(reported)
    if status is None:
        log.warning("delivery report with an unknown status (%d characters)", len(reported))
        return Response("unknown status\n", mimetype="text/plain")
    reason = form_field("failureReason", 64, required=False) or None
    now = utcnow()
    message = db.session.scalar(
        sa.select(OutboundMessage).where(OutboundMessage.gateway_id == gateway_id).with_for_update()
    )
    if message is None:
        keep_early(gateway_id, status, reason, now)
        db.session.commit()
        apply_early(now)  # the send may have recorded the id since the lookup
        db.session.commit()
        log.info("delivery report for %r kept until its id is recorded", gateway_id)
        return Response("kept\n", mimetype="text/plain")
    advance(message, status, reason, now)
    db.session.commit()
    return Response("OK\n", mimetype="text/plain")
