"""Inbound SMS and delivery reports from the gateway.

The inbound message is stored (unique on the gateway's id) in the same transaction as
everything it causes, so a retried callback changes nothing; replies are outbox rows,
dispatched to the queue only after the commit.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response, current_app
from sqlalchemy.exc import IntegrityError

from flows.smstext import sms_cost
from models import InboundMessage, OutboundMessage, Worker, db
from models.base import utcnow
from models.phone import InvalidPhone, normalise_phone
from services.sms import SmsReceiver
from webhooks.gateway import form_field, require_token
from workers.outbox import dispatch

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__)
bp.before_request(require_token)

MAX_SMS_TEXT = 5_000

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


@bp.post("/sms/incoming")
def incoming() -> Response:
    gateway_id = form_field("id", 100)
    sender = form_field("from", 32)
    text = form_field("text", MAX_SMS_TEXT)
    try:
        phone = normalise_phone(sender)
    except InvalidPhone:
        phone = sender  # short codes and alphanumeric senders: stored, never answered
    worker = db.session.scalar(sa.select(Worker).where(Worker.phone == phone))
    cost = sms_cost(text)
    inbound = InboundMessage(
        gateway_id=gateway_id,
        phone=phone,
        to=form_field("to", 32, required=False),
        text=text,
        link_id=form_field("linkId", 100, required=False) or None,
        network_code=form_field("networkCode", 16, required=False) or None,
        gateway_date=form_field("date", 40, required=False) or None,
        worker_id=worker.id if worker else None,
        encoding=cost.encoding,
        segments=cost.segments,
    )
    try:
        with db.session.begin_nested():
            db.session.add(inbound)
    except IntegrityError:
        db.session.rollback()
        return Response("duplicate\n", mimetype="text/plain")
    receiver = SmsReceiver(current_app.config["SETTINGS"], utcnow())
    if phone.startswith("+"):
        receiver.receive(inbound, worker)
    db.session.commit()
    if receiver.queued:
        dispatch(current_app.extensions["redis"])
    return Response("OK\n", mimetype="text/plain")


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
