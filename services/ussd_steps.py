"""A USSD step's whole lifecycle: whose session it is, a repeat, the answer, the commit.

The gateway posts the session's whole input so far (`1*2*45`) at every step. We keep our own
state per session in its row and handle only what was added, so a `*` typed inside an answer
survives and a repeated step (same sessionId and text) is answered again without recording
anything twice. Everything is committed before the reply leaves.

`judge` is the one definition of ownership and repeats. Then one of two ways serves the step:
- the fast way (services/flow_answer.py): an answer inside a flow, from the session row alone,
  two statements; this is eight of the weekly check-in's ten steps;
- the careful way, through the ORM and `Conversation`, for everything else (a first step, a
  menu, a resume, a colleague who submitted first) and for a fast step that lost a race: it
  locks the row, judges it again, and handles the step.
Both submit through services/submissions.py. `fast=False` sends every step the careful way;
the tests run the whole USSD suite both ways.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from config import Settings
from flows.messages import say
from models import Session, Worker, db
from models.base import utcnow
from services import flow_answer, step_store
from services.conversation import Conversation
from services.reply import Reply, Step, make_reply
from services.step_store import StoredStep, new_input

log = logging.getLogger(__name__)

MAX_TEXT = 2_000
"""Far beyond any real session (about 180 s of typing), far below what could hurt us."""
MAX_PREFILLED_INPUTS = 3
"""A new session whose text already holds inputs was dialled with extra digits (*384*12*1#)."""


@dataclass(frozen=True)
class Verdict:
    """What a request is, given the session's stored row (see `judge`)."""

    kind: Literal["new", "foreign", "unknown", "repeat", "over", "too_long", "entry"]
    entry: str = ""


def judge(stored: StoredStep | None, phone: str, text: str) -> Verdict:
    """The rules for a step of a known session, the same on both ways.

    Another number's session is never touched; a deactivated worker is not served; a repeat
    gets the stored reply; an ended session or a text that does not extend the last one ends
    politely; otherwise the new entry is what the person typed since the last step.
    """
    if stored is None:
        return Verdict("new")
    if stored.phone != phone:
        return Verdict("foreign")
    if not stored.worker_active:
        return Verdict("unknown")
    if text == stored.last_input:
        return Verdict("repeat")
    if len(text) > MAX_TEXT:
        return Verdict("too_long")
    entry = new_input(stored.last_input, text)
    if stored.ended or entry is None:
        return Verdict("over")
    return Verdict("entry", entry)


class UssdSteps:
    """Serves USSD steps; one instance per app (it holds no per-request state)."""

    def __init__(self, settings: Settings, fast: bool = True) -> None:
        self.settings = settings
        self.fast = fast

    def step(self, session_id: str, phone: str, text: str) -> Step:
        """The reply to one gateway request, with everything it changed committed."""
        try:
            return self._step(session_id, phone, text)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # PostgreSQL restarted or failed over: SQLAlchemy has renewed the pool (there is no
            # pre-ping), and a step is safe to run again: a repeat is recognised, not re-stored.
            log.warning("ussd: database connection lost; trying session %s again", session_id)
            db.session.rollback()
            return self._step(session_id, phone, text)

    def _step(self, session_id: str, phone: str, text: str) -> Step:
        if self.fast and text:  # an empty text opens a session: there is no row to read yet
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT")
                stored = step_store.load(connection, session_id)
                connection.commit()
                verdict = judge(stored, phone, text)
                if verdict.kind == "entry":
                    fast = flow_answer.answer(
                        connection, self.settings, stored, text, verdict.entry
                    )
                    if fast is not None:
                        return fast
                elif verdict.kind != "new":
                    return self._answered(verdict, stored, phone)
        return self._careful(session_id, phone, text)

    # -- the careful way ------------------------------------------------------------------------

    def _careful(self, session_id: str, phone: str, text: str) -> Step:
        stored = step_store.load(db.session.connection(), session_id, lock=True) if text else None
        if stored is None:
            try:
                return self._first_step(session_id, phone, text)
            except IntegrityError:
                # The gateway repeated a first step while we answered it: answer as that did.
                db.session.rollback()
                stored = step_store.load(db.session.connection(), session_id, lock=True)
        verdict = judge(stored, phone, text)
        if verdict.kind != "entry":
            return self._answered(verdict, stored, phone)
        session = db.session.get(Session, stored.session_id)
        conversation = Conversation(self.settings, session, utcnow())
        return self._commit(session, conversation, text, conversation.handle(verdict.entry))

    def _first_step(self, session_id: str, phone: str, text: str) -> Step:
        """A new session: its row is added once its first screen is known (one INSERT).

        If the gateway sent this first step twice at once, the unique (channel, sessionId)
        makes the second INSERT fail, and the caller answers it as a repeat.
        """
        worker = _worker(phone)
        if worker is None:
            return Step(self._unknown_number())
        if len(text) > MAX_TEXT:
            return Step(self._end("input_too_long", worker.language))
        session = Session(channel="ussd", gateway_session_id=session_id, worker=worker, state={})
        conversation = Conversation(self.settings, session, utcnow())
        reply = conversation.begin()
        inputs = text.split("*") if text else []
        if len(inputs) > MAX_PREFILLED_INPUTS:
            reply = conversation.end(say("session_lost", worker.language))
        for entry in inputs:
            if reply.end:
                break
            reply = conversation.handle(entry)
        db.session.add(session)
        return self._commit(session, conversation, text, reply)

    def _commit(
        self, session: Session, conversation: Conversation, text: str, reply: Reply
    ) -> Step:
        session.last_input, session.last_reply, session.updated_at = text, reply.text, utcnow()
        db.session.commit()
        return Step(reply, conversation.messages)

    def _answered(self, verdict: Verdict, stored: StoredStep | None, phone: str) -> Step:
        """Any request but a new entry of its own active session: answered, nothing stored."""
        reply = self._verdict_reply(verdict, stored, phone)
        db.session.rollback()
        return Step(reply)

    def _verdict_reply(self, verdict: Verdict, stored: StoredStep | None, phone: str) -> Reply:
        assert stored is not None, "a first step is never judged against a row"
        if verdict.kind == "repeat":
            return Reply(stored.last_reply, end=stored.ended)
        if verdict.kind == "unknown":
            return self._unknown_number()
        if verdict.kind == "foreign":
            worker = _worker(phone)
            if worker is None:
                return self._unknown_number()
            return self._end("session_lost", worker.language)
        if verdict.kind == "too_long":
            return self._end("input_too_long", stored.language)
        return self._end("session_lost", stored.language)

    def _unknown_number(self) -> Reply:
        return self._end("unknown_number", "fr")  # no worker, so no language to choose

    def _end(self, message: str, language: str) -> Reply:
        """A system message (flows/messages.py) in `language`, ending the session."""
        return make_reply(self.settings, say(message, language), language, end=True)


def _worker(phone: str) -> Worker | None:
    return db.session.scalar(sa.select(Worker).where(Worker.phone == phone, Worker.active))
