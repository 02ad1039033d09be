"""Inbound SMS from the gateway.

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
from models import InboundMessage, Worker, db
from models.base import utcnow
from models.phone import InvalidPhone, normalise_phone
from services.sms import SmsReceiver
from webhooks.gateway import form_field, require_token
from workers.outbox import dispatch

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__)
bp.before_request(require_token)

MAX_SMS_TEXT = 5_000


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
