"""What an inbound SMS means, and the reply it gets.

Keywords are matched case- and accent-insensitively on the first word (ARRÊT, arret, Arret).
STOP is honoured whatever else is going on; an opted-out person hears nothing more until they
opt back in. Everything else goes through the same Conversation as USSD.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from config import Settings
from flows.engine import fold
from flows.messages import say
from flows.smstext import to_gsm7
from models import InboundMessage, OutboundMessage, Session, Worker, db
from services.conversation import Conversation
from services.outbox import compose

DEFAULT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "start": ("QI",),
    "stop": ("STOP", "ARRET", "ARRETER", "UNSUBSCRIBE"),
    "optin": ("START", "DEBUT", "DAMINE"),
    "help": ("AIDE", "HELP", "DEME", "?"),
    "fr": ("FR", "FRANCAIS", "FRENCH"),
    "bm": ("BM", "BAMANAN", "BAMBARA", "BAMANANKAN"),
}
UNKNOWN_SENDER_EVERY = timedelta(days=1)


def keyword_table(extra: dict[str, tuple[str, ...]] | None = None) -> dict[str, str]:
    """folded word -> action, from the defaults plus the configured synonyms."""
    table = {}
    for action, words in DEFAULT_KEYWORDS.items():
        for word in (*words, *(extra or {}).get(action, ())):
            table[_folded(word)] = action
    return table


def _folded(word: str) -> str:
    return fold(to_gsm7(word))


class SmsReceiver:
    """Handles one stored inbound message; adds replies to the outbox (the caller commits)."""

    def __init__(self, settings: Settings, now: datetime):
        self.settings = settings
        self.now = now
        self.keywords = keyword_table(settings.sms_keywords)
        self.queued: list[OutboundMessage] = []

    def receive(self, inbound: InboundMessage, worker: Worker | None) -> None:
        if worker is None or not worker.active:
            self._reply_to_stranger(inbound.phone)
            return
        words = inbound.text.split()
        action = self.keywords.get(_folded(words[0])) if words else None
        if worker.opted_out:
            if action == "optin":
                worker.opted_out = False
                self._reply(worker, say("sms.started", worker.language))
            return
        if action == "stop":
            worker.opted_out = True
            self._reply(worker, say("sms.stopped", worker.language))
        elif action == "optin":
            self._reply(worker, say("sms.started", worker.language))
        elif action == "help":
            self._reply(worker, say("sms.help", worker.language))
        elif action in ("fr", "bm") and len(words) == 1:
            worker.language = action
            self._reply(worker, say("sms.language", action))
        elif action == "start":
            self._start(worker, words[1:])
        else:
            self._answer(worker, inbound.text)

    def _start(self, worker: Worker, answers: list[str]) -> None:
        for active in self._active_sessions(worker):
            active.status = "replaced"
        session = Session(channel="sms", worker=worker, state={}, updated_at=self.now)
        db.session.add(session)
        db.session.flush()
        conversation = Conversation(self.settings, session, self.now)
        reply = conversation.submit_all(answers) if answers else conversation.begin()
        self._reply(worker, reply.text, conversation)

    def _answer(self, worker: Worker, text: str) -> None:
        session = next(iter(self._active_sessions(worker)), None)
        if session is None:
            self._reply(worker, say("sms.hint", worker.language))
            return
        conversation = Conversation(self.settings, session, self.now)
        reply = conversation.handle(text)
        session.updated_at = self.now
        self._reply(worker, reply.text, conversation)

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
                .order_by(Session.updated_at.desc())
            )
        )

    def _reply(self, worker: Worker, text: str, conversation: Conversation | None = None) -> None:
        if conversation is not None:
            self.queued += conversation.queued
        message = compose(
            self.settings,
            self.now,
            phone=worker.phone,
            text=text,
            kind="reply",
            language=worker.language,
            worker=worker,
        )
        if message is not None:
            self.queued.append(message)

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
        if message is not None:
            self.queued.append(message)
