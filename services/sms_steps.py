"""An inbound SMS's whole lifecycle: stored once, understood, answered, in one transaction.

The message is stored (unique on the gateway's id) in the same transaction as everything it
causes, so a retried callback changes nothing. One person's messages are handled one at a
time (their worker row is locked first): two SMS sent in a row can reach two web processes at
once, and each step must see the other's. Keywords count only as the whole message
(flows/keywords.py); STOP is honoured whatever else is going on, and an opted-out person hears
nothing more until they opt back in. Everything else goes through the same Conversation as USSD.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from config import Settings
from flows.keywords import keyword_table, leading, match
from flows.messages import say
from flows.smstext import sms_cost
from models import InboundMessage, Session, Worker, db
from models.phone import InvalidPhone, normalise_phone
from services import oversight
from services.conversation import Conversation
from services.outbox import compose
from services.reply import Reply
from services.supervisor_sms import SupervisorSms


@dataclass(frozen=True)
class Inbound:
    """An inbound SMS as the gateway described it (webhooks/sms.py parses the form)."""

    gateway_id: str
    sender: str
    text: str
    to: str = ""
    link_id: str | None = None
    network_code: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class Received:
    """What handling a message did: a repeat of one already stored, and outbox rows written."""

    duplicate: bool
    messages: int = 0


class SmsSteps:
    """Handles inbound SMS; one instance per app (it holds no per-message state)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keywords = keyword_table(settings.sms_keywords)

    def receive(self, message: Inbound, now: datetime) -> Received:
        """Store `message` and everything it causes, committed; a repeat changes nothing."""
        phone = _phone(message.sender)
        worker = db.session.scalar(sa.select(Worker).where(Worker.phone == phone).with_for_update())
        if not _stored(message, phone, worker):
            return Received(duplicate=True)
        step = _Step(self, now)
        if phone is not None:
            step.handle(message.text, phone, worker)
        db.session.commit()
        return Received(duplicate=False, messages=step.messages)

    def keep(self, message: Inbound, now: datetime) -> Received:
        """Store `message` alone, with an apology to its sender: for when handling it failed.

        The message stays in the inbox (and `export messages`) for an admin to act on, and
        the gateway is not made to retry a message that would fail the same way.
        """
        phone = _phone(message.sender)
        worker = db.session.scalar(sa.select(Worker).where(Worker.phone == phone))
        if not _stored(message, phone, worker):
            return Received(duplicate=True)
        step = _Step(self, now)
        if worker is not None and worker.active:
            step.reply(worker, say("unavailable", worker.language))
        db.session.commit()
        return Received(duplicate=False, messages=step.messages)


def _phone(sender: str) -> str | None:
    """The sender in E.164; None for short codes, alphanumeric or invalid senders (never answered)."""
    try:
        return normalise_phone(sender)
    except InvalidPhone:
        return None


def _stored(message: Inbound, phone: str | None, worker: Worker | None) -> bool:
    """Add the inbound row; False when the gateway already delivered this id."""
    cost = sms_cost(message.text)
    inbound = InboundMessage(
        gateway_id=message.gateway_id,
        phone=phone or message.sender,
        to=message.to,
        text=message.text,
        link_id=message.link_id,
        network_code=message.network_code,
        gateway_date=message.date,
        worker_id=worker.id if worker else None,
        encoding=cost.encoding,
        segments=cost.segments,
    )
    try:
        with db.session.begin_nested():
            db.session.add(inbound)
    except IntegrityError:
        db.session.rollback()
        return False
    return True


class _Step:
    """One message's handling; adds replies to the outbox (the caller commits)."""

    def __init__(self, steps: SmsSteps, now: datetime) -> None:
        self.settings = steps.settings
        self.keywords = steps.keywords
        self.now = now
        self.messages = 0

    def handle(self, text: str, phone: str, worker: Worker | None) -> None:
        if worker is None or not worker.active:
            self._reply_to_stranger(phone)
            return
        action = match(text, self.keywords)
        if worker.opted_out:
            if action == "optin":
                worker.opted_out = False
                self.reply(worker, say("sms.started", worker.language))
            return
        if action not in ("stop", "optin", "fr", "bm") and self._supervision(worker, text):
            return
        if action == "stop":
            worker.opted_out = True
            self.reply(worker, say("sms.stopped", worker.language))
        elif action == "optin":
            self.reply(worker, say("sms.started", worker.language))
        elif action == "help":
            self.reply(worker, say("sms.help", worker.language))
        elif action in ("fr", "bm"):
            worker.language = action
            self.reply(worker, say("sms.language", action))
        elif action == "start":
            self._start(worker)
        elif (compact := leading(text, self.keywords)) is not None:
            self._compact(worker, compact[1])
        else:
            self._answer(worker, text)

    def _supervision(self, worker: Worker, text: str) -> bool:
        """A viewer's command (MANQUANTS, DETAIL, R, AIDE), or a worker's `R` answer to coaching.

        False when the message is neither: it is then handled as anyone's. A viewer's message
        that is no command and no part of a check-in is answered with the viewers' keywords.
        """
        supervision = SupervisorSms(self.settings, self.keywords, self.now)
        if oversight.is_viewer(worker):
            answered = supervision.answer(
                worker, text, otherwise_help=not self._in_checkin(worker, text)
            )
        else:
            answered = supervision.reply_to_coach(worker, text)
        if answered is None:
            return False
        self.messages += answered.messages
        self.reply(worker, answered.text)
        return True

    def _in_checkin(self, worker: Worker, text: str) -> bool:
        """Whether `text` is for a check-in: QI, the compact form, or an answer within one."""
        return leading(text, self.keywords) is not None or bool(self._active_sessions(worker))

    def _start(self, worker: Worker) -> None:
        """`QI` alone: the worker's check-in, or the offer to continue one left mid-way."""
        session = self._new_session(worker)
        conversation = Conversation(self.settings, session, self.now)
        reply = conversation.begin()
        offered = (session.state or {}).get("resume")
        self._replace_others(worker, session, keep=offered)
        self._conversed(worker, conversation, reply)

    def _compact(self, worker: Worker, answers: list[str]) -> None:
        """`QI` and every answer in one message: checked as a whole, then stored."""
        session = self._new_session(worker)
        self._replace_others(worker, session)
        conversation = Conversation(self.settings, session, self.now)
        self._conversed(worker, conversation, conversation.submit_all(answers))

    def _answer(self, worker: Worker, text: str) -> None:
        session = next(iter(self._active_sessions(worker)), None)
        if session is None:
            self.reply(worker, say("sms.hint", worker.language))
            return
        conversation = Conversation(self.settings, session, self.now)
        reply = conversation.handle(text)
        session.updated_at = self.now
        self._conversed(worker, conversation, reply)

    def _new_session(self, worker: Worker) -> Session:
        session = Session(channel="sms", worker=worker, state={}, updated_at=self.now)
        db.session.add(session)
        db.session.flush()
        return session

    def _replace_others(self, worker: Worker, session: Session, keep: int | None = None) -> None:
        """Earlier SMS conversations end, but for one offered to be continued."""
        for other in self._active_sessions(worker):
            if other.id not in (session.id, keep):
                other.status = "replaced"

    def _active_sessions(self, worker: Worker) -> list[Session]:
        since = self.now - timedelta(hours=self.settings.resume_hours)
        return list(
            db.session.scalars(
                sa.select(Session)
                .where(
                    Session.worker_id == worker.id,
                    Session.channel == "sms",
                    Session.status == "active",
                    Session.updated_at >= since,
                )
                .order_by(Session.updated_at.desc(), Session.id.desc())
            )
        )

    def _conversed(self, worker: Worker, conversation: Conversation, reply: Reply) -> None:
        self.messages += conversation.messages
        self.reply(worker, reply.text)

    def reply(self, worker: Worker, text: str) -> None:
        message = compose(
            self.settings,
            self.now,
            phone=worker.phone,
            text=text,
            kind="reply",
            language=worker.language,
            worker=worker,
        )
        self.messages += message is not None

    def _reply_to_stranger(self, phone: str) -> None:
        """One polite answer per number and day: a stranger texting in a loop costs nothing more."""
        day = self.now.date().isoformat()
        message = compose(
            self.settings,
            self.now,
            phone=phone,
            text=say("unknown_number", "fr"),
            kind="reply",
            dedupe_key=f"stranger:{phone}:{day}",
        )
        self.messages += message is not None
