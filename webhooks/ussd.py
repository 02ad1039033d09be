"""The USSD webhook: Africa's Talking posts each step; we answer `CON …` or `END …` in text/plain.

The gateway sends the whole session's input so far (`1*2*45`); we keep our own state per
session in the database and read only what was added, so `*` typed inside an answer survives
and a repeated step (same sessionId and text) is answered again without recording twice.
Everything is committed before the reply leaves. No SMS API call, and Redis only to wake the
worker for alerts written with the answers: steps must take milliseconds, and must keep working
when Redis is down (the clock's tick sends what could not be queued).

Two ways through a step: most steps answer the current question of a flow and are served from
the session row alone (services/flow_answer.py: two statements); anything else, or a step that
finds the row changed under it, goes the careful way through the ORM and `Conversation`.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response, current_app
from sqlalchemy.exc import DBAPIError, IntegrityError

from flows.messages import say
from models import Session, UssdEvent, Worker, db
from models.base import utcnow
from models.phone import InvalidPhone, normalise_phone
from services import flow_answer, step_store
from services.conversation import Conversation, Reply, make_reply
from services.flow_answer import new_input
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
    try:
        return _answer(_reply(session_id, phone, text))
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        # PostgreSQL restarted or failed over: SQLAlchemy has renewed the pool (there is no
        # pre-ping), and a step is safe to run again: a repeat is recognised and not re-stored.
        log.warning("ussd: database connection lost (%s); trying the step again", exc.orig)
        db.session.rollback()
        return _answer(_reply(session_id, phone, text))


def _reply(session_id: str, phone: str, text: str) -> Reply:
    stored = None
    if text and len(text) <= MAX_TEXT:  # an empty text opens a session: no row to read yet
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            stored = step_store.load(connection, session_id)
            connection.commit()
            reply = (
                flow_answer.answer(connection, _settings(), stored, phone, text) if stored else None
            )
        if reply is not None:
            return reply
    worker = db.session.scalar(
        sa.select(Worker).where(Worker.phone == phone, Worker.active.is_(True))
    )
    if worker is None:
        return make_reply(_settings(), say("unknown_number", "fr"), "fr", end=True)
    if len(text) > MAX_TEXT:
        return _end("input_too_long", worker)
    try:
        return _step(worker, session_id, text, known=stored is not None)
    except IntegrityError:
        # The gateway repeated a first step while we were answering it: answer as the first did.
        db.session.rollback()
        return _step(worker, session_id, text, known=True)


def _step(worker: Worker, session_id: str, text: str, known: bool) -> Reply:
    """The careful way, through the ORM; `known` says whether the session has a row yet.

    A session not known to have a row is not looked for: if it has one (the gateway repeated
    the first step, or sent it twice at once), the unique (channel, sessionId) makes this
    INSERT fail, and the caller retries with `known`.
    """
    session = None
    if known:
        session = db.session.scalar(
            sa.select(Session)
            .where(Session.channel == "ussd", Session.gateway_session_id == session_id)
            .with_for_update()
        )
    if session is not None:
        if session.worker_id == worker.id and text == session.last_input:
            db.session.rollback()
            return Reply(session.last_reply, end=session.status != "active")
        if session.worker_id != worker.id or session.status != "active":
            # Another number's session, or one already over: answered, and left as it is.
            db.session.rollback()
            return _end("session_lost", worker)
    now = utcnow()
    if session is None:
        # Added once its first screen is known: one INSERT, no UPDATE of a row just written.
        session = Session(channel="ussd", gateway_session_id=session_id, worker=worker, state={})
        conversation = Conversation(_settings(), session, now)
        reply = _first_step(conversation, text)
        db.session.add(session)
    else:
        conversation = Conversation(_settings(), session, now)
        reply = _next_step(conversation, session.last_input, text)
    session.last_input, session.last_reply, session.updated_at = text, reply.text, now
    db.session.commit()
    if conversation.queued:
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
    entry = new_input(handled, text)
    if entry is None:
        log.warning("ussd text %r does not extend %r; ending the session", text, handled)
        return conversation.end(say("session_lost", conversation.language))
    return conversation.handle(entry)


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


def _end(message: str, worker: Worker) -> Reply:
    """A system message (flows/messages.py) in the worker's language, ending the session."""
    return make_reply(_settings(), say(message, worker.language), worker.language, end=True)


def _settings():
    return current_app.config["SETTINGS"]


def _answer(reply: Reply) -> Response:
    prefix = "END" if reply.end else "CON"
    return Response(f"{prefix} {reply.text}", mimetype="text/plain")
