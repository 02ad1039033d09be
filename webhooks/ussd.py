"""The USSD webhooks: Africa's Talking posts each step, we answer `CON …` or `END …` in text/plain.

This module parses the form and renders the reply; services/ussd_steps.py does the rest. A
step must answer within the gateway's few seconds whatever happens, so an unexpected error is
logged with its traceback and the person gets `END` and a short apology in their language.
Redis is used only to nudge the outbox after a step wrote alerts: steps keep working when it is
down (the clock's tick sends what could not be queued).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response, current_app
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from flows.messages import say
from models import UssdEvent, Worker, db
from models.phone import InvalidPhone, normalise_phone
from services.reply import Reply, make_reply
from services.ussd_steps import MAX_TEXT, UssdSteps
from webhooks.gateway import form_field, int_field, require_token
from workers.outbox import nudge

log = logging.getLogger(__name__)
bp = Blueprint("ussd", __name__)
bp.before_request(require_token)


@bp.post("/ussd")
def ussd_step() -> Response:
    session_id = form_field("sessionId", 100)
    phone = form_field("phoneNumber", 32)
    text = form_field("text", 100_000)
    try:
        phone = normalise_phone(phone)
    except InvalidPhone as exc:
        return Response(f"{exc}\n", 400, mimetype="text/plain")
    steps: UssdSteps = current_app.extensions["ussd_steps"]
    try:
        step = steps.step(session_id, phone, text)
    except Exception:
        log.exception("ussd: step failed (session %s, %d characters)", session_id, len(text))
        db.session.rollback()
        return _render(_apology(phone))
    if step.messages:
        nudge(current_app.extensions["redis"])
    return _render(step.reply)


@bp.post("/ussd/events")
def ussd_event() -> Response:
    """The end-of-session notification; stored once, repeats acknowledged."""
    event = UssdEvent(
        gateway_session_id=form_field("sessionId", 100),
        phone=form_field("phoneNumber", 32, required=False),
        status=form_field("status", 32, required=False),
        input=form_field("input", MAX_TEXT, required=False),
        last_app_response=form_field("lastAppResponse", MAX_TEXT, required=False),
        error_message=form_field("errorMessage", MAX_TEXT, required=False),
        duration_ms=int_field("durationInMillis"),
        cost=form_field("cost", 32, required=False),
        gateway_date=form_field("date", 32, required=False),
    )
    db.session.add(event)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
    return Response("OK", mimetype="text/plain")


def _apology(phone: str) -> Reply:
    """`END` and "try again in a few minutes", in the person's language when it can be read."""
    settings = current_app.config["SETTINGS"]
    try:
        language = db.session.scalar(sa.select(Worker.language).where(Worker.phone == phone))
        db.session.rollback()
    except SQLAlchemyError:  # the database is what failed
        db.session.rollback()
        language = None
    language = language or "fr"
    return make_reply(settings, say("unavailable", language), language, end=True)


def _render(reply: Reply) -> Response:
    prefix = "END" if reply.end else "CON"
    return Response(f"{prefix} {reply.text}", mimetype="text/plain")
