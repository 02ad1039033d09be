"""The USSD webhook: Africa's Talking posts each step; we answer `CON …` or `END …` in text/plain.

The gateway sends the whole session's input so far (`1*2*45`); we keep our own state per
session in the database and read only what was added, so `*` typed inside an answer survives
and a repeated step (same sessionId and text) is answered again without recording twice.
Everything is committed before the reply leaves. No Redis, no SMS API: steps must take
milliseconds, and must keep working when Redis is down.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response, current_app
from sqlalchemy.exc import IntegrityError

from flows import engine
from flows.engine import Outcome
from flows.messages import say
from models import Session, UssdEvent, Worker, db
from models.base import utcnow
from models.phone import InvalidPhone, normalise_phone
from services import checkins, step_store
from services.conversation import (
    FLOW,
    Conversation,
    Reply,
    advance_in_flow,
    closing_text,
    make_reply,
    shown,
)
from services.flow_store import definition
from webhooks.gateway import form_field, require_token
from workers.outbox import dispatch

log = logging.getLogger(__name__)
bp = Blueprint("ussd", __name__)
bp.before_request(require_token)

MAX_TEXT = 2_000
"""Far beyond any real session (about 180 s of typing), far below what could hurt us."""
MAX_PREFILLED_INPUTS = 3
"""A new session whose text already holds inputs was dialled with extra digits (*384*12*1#)."""


@bp.post("/ussd")
def ussd_step() -> Response:
    session_id = form_field("sessionId", 100)
    phone = form_field("phoneNumber", 32)
    text = form_field("text", 100_000)
    try:
        phone = normalise_phone(phone)
    except InvalidPhone as exc:
        return Response(f"{exc}\n", 400, mimetype="text/plain")
    stored = None
    if len(text) <= MAX_TEXT:
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            stored = step_store.load(connection, session_id)
            connection.commit()
            reply = _answer_in_flow(connection, stored, phone, text) if stored else None
        if reply is not None:
            return _answer(reply)
    worker = db.session.scalar(
        sa.select(Worker).where(Worker.phone == phone, Worker.active.is_(True))
    )
    if worker is None:
        return _answer(make_reply(_settings(), say("unknown_number", "fr"), "fr", end=True))
    if len(text) > MAX_TEXT:
        return _answer(_end(say("input_too_long", worker.language), worker))
    try:
        reply = _step(worker, session_id, text, known=stored is not None)
    except IntegrityError:
        # The gateway repeated a first step while we were answering it: answer as the first did.
        db.session.rollback()
        reply = _step(worker, session_id, text, known=True)
    return _answer(reply)


def _answer_in_flow(
    connection: sa.Connection, stored: step_store.StoredStep, phone: str, text: str
) -> Reply | None:
    """The common step, an answer inside a flow (or a repeat), served from the session row alone.

    `connection` autocommits: on PostgreSQL the read and a plain step's write are single
    statements with no BEGIN and COMMIT round trips, and the write applies only if the row is
    as it was read, so a concurrent step cannot be lost. A submit writes three tables, so it
    takes a transaction of its own. None sends the request the careful way (`_step`): another
    stage, a submit that raises an alert or finds the check-in completed by a colleague, an
    input that does not extend the last one, or another request that won the row meanwhile.
    """
    if not stored.belongs_to(phone):
        return None
    if text == stored.last_input:
        return Reply(stored.last_reply, end=stored.status != "active")
    entry = _new_input(stored.last_input, text)
    if stored.status != "active" or entry is None or stored.state.get("stage") != FLOW:
        return None
    outcome = advance_in_flow(stored.state, entry)
    if outcome is None:
        return None
    now = utcnow()
    if not outcome.submitted:
        reply, state = shown(_settings(), stored.state, outcome, stored.language)
        saved = step_store.save(connection, stored, text, reply.text, state, now)
        connection.commit()
        return reply if saved else None
    with db.engine.connect() as writer, writer.begin() as transaction:
        reply = _submitted(writer, stored, outcome, now)
        if reply is not None and step_store.save(
            writer, stored, text, reply.text, stored.state, now, status="submitted"
        ):
            return reply
        transaction.rollback()
        return None


def _submitted(
    connection: sa.Connection, stored: step_store.StoredStep, outcome: Outcome, now
) -> Reply | None:
    """Store the confirmed answers; None (nothing stored) when the careful way must do it."""
    flow = definition(stored.state["version"])
    final = engine.answers(flow, outcome.state)
    if engine.triggered_alerts(flow, final) or stored.checkin_id is None:
        return None  # alerts need the facility's supervisors, through the ORM
    done = checkins.submit(
        connection,
        stored.checkin_id,
        flow,
        final,
        dict(outcome.state.raw),
        stored.worker_id,
        stored.session_id,
        "ussd",
        now,
    )
    if not done:
        return None  # a colleague was first: the careful way says who
    return make_reply(_settings(), closing_text(flow, stored.language), stored.language, end=True)


def _step(worker: Worker, session_id: str, text: str, known: bool) -> Reply:
    """The careful way, through the ORM; `known` says whether the session has a row yet.

    A new session is not looked for: if the gateway's repeat of its first step stored it
    meanwhile, the unique (channel, sessionId) makes this INSERT fail, and the caller retries
    with `known`.
    """
    session = None
    if known:
        session = db.session.scalar(
            sa.select(Session)
            .where(Session.channel == "ussd", Session.gateway_session_id == session_id)
            .with_for_update()
        )
    if session is not None and text == session.last_input:
        db.session.rollback()
        return Reply(session.last_reply, end=session.status != "active")
    now = utcnow()
    if session is None:
        # Added once its first screen is known: one INSERT, no UPDATE of a row just written.
        session = Session(channel="ussd", gateway_session_id=session_id, worker=worker, state={})
        conversation = Conversation(_settings(), session, now)
        reply = _first_step(conversation, text)
        db.session.add(session)
    elif session.worker_id != worker.id or session.status != "active":
        conversation = None
        reply = _end(say("session_lost", worker.language), worker)
    else:
        conversation = Conversation(_settings(), session, now)
        reply = _next_step(conversation, session.last_input, text)
    session.last_input, session.last_reply, session.updated_at = text, reply.text, now
    db.session.commit()
    if conversation is not None and conversation.queued:
        dispatch(current_app.extensions["redis"])
    return reply


def _first_step(conversation: Conversation, text: str) -> Reply:
    reply = conversation.begin()
    inputs = text.split("*") if text else []
    if len(inputs) > MAX_PREFILLED_INPUTS:
        return conversation.end(say("session_lost", conversation.language))
    for entry in inputs:
        if reply.end:
            break
        reply = conversation.handle(entry)
    return reply


def _next_step(conversation: Conversation, handled: str, text: str) -> Reply:
    entry = _new_input(handled, text)
    if entry is None:
        log.warning("ussd text %r does not extend %r; ending the session", text, handled)
        return conversation.end(say("session_lost", conversation.language))
    return conversation.handle(entry)


def _new_input(handled: str, text: str) -> str | None:
    """What the person typed since the last step: the gateway sends everything, `*`-joined."""
    if not handled:
        return text
    if not text.startswith(handled + "*"):
        return None
    return text[len(handled) + 1 :]


@bp.post("/ussd/events")
def ussd_event() -> Response:
    """The end-of-session notification; stored once, repeats acknowledged."""
    session_id = form_field("sessionId", 100)
    event = UssdEvent(
        gateway_session_id=session_id,
        phone=form_field("phoneNumber", 32, required=False),
        status=form_field("status", 32, required=False),
        input=form_field("input", MAX_TEXT, required=False),
        last_app_response=form_field("lastAppResponse", MAX_TEXT, required=False),
        error_message=form_field("errorMessage", MAX_TEXT, required=False),
        duration_ms=_int_or_none(form_field("durationInMillis", 20, required=False)),
        cost=form_field("cost", 32, required=False),
        gateway_date=form_field("date", 32, required=False),
    )
    db.session.add(event)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
    return Response("OK", mimetype="text/plain")


def _int_or_none(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _end(text: str, worker: Worker) -> Reply:
    return make_reply(_settings(), text, worker.language, end=True)


def _settings():
    return current_app.config["SETTINGS"]


def _answer(reply: Reply) -> Response:
    prefix = "END" if reply.end else "CON"
    return Response(f"{prefix} {reply.text}", mimetype="text/plain")
