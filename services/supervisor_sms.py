"""A supervisor's or regional viewer's SMS commands, answered from the database, and coaching.

services/sms_steps.py hands a viewer's message here before the health workers' keywords:
MANQUANTS, DETAIL <code>, R <code> <text> and AIDE are read by supervision/commands.py, and
every CSCom named goes through the scoping function (services/oversight.py), so an unknown
code and another district's code get the same answer.

Coaching (`R <code> <text>`): one outbox row of kind `coaching` per active, not opted-out QI
focal point of the CSCom, signed with the supervisor's name and cut to two segments; it waits
for quiet hours to end like any message the service starts (services/outbox.py). The supervisor gets one
confirmation (a reply, at once) naming who it went to and when, or why it could not go. The
focal point answers with `R <text>`: that goes to the supervisor who last coached their CSCom.
Who coached is read from the coaching row's dedupe key, `coaching:<inbound id>:<recipient id>`:
the inbound SMS it answered names its sender.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from config import Settings
from flows.keywords import KeywordTable
from flows.lint import outgoing
from flows.messages import say
from models import Facility, InboundMessage, OutboundMessage, Worker, db
from services import oversight
from services.outbox import compose
from supervision import commands, replies

log = logging.getLogger(__name__)

COACHING = "coaching"
FOCAL_POINT = "qi_focal_point"
KEY_PREFIX = "coaching:"


@dataclass(frozen=True)
class Answered:
    """The reply to the sender, and how many other outbox rows the command wrote."""

    text: str
    messages: int = 0


class SupervisorSms:
    """Answers one viewer's or coached worker's message; rows go in the caller's transaction."""

    def __init__(self, settings: Settings, keywords: KeywordTable, now: datetime) -> None:
        self.settings = settings
        self.keywords = keywords
        self.now = now

    def answer(self, viewer: Worker, text: str, otherwise_help: bool = False) -> Answered | None:
        """The answer to a viewer's command; None when the message is not one (STOP, QI, ...).

        `otherwise_help`: a message that is no command gets the list of commands, not None.
        """
        command = commands.parse(text, self.keywords)
        if command is None and otherwise_help:
            command = commands.Help()
        language = viewer.language
        match command:
            case None:
                return None
            case commands.Help():
                return Answered(say("supervisor.help", language))
            case commands.Usage(keyword="DETAIL"):
                return Answered(say("supervisor.usage.detail", language))
            case commands.Usage():
                return Answered(say("supervisor.usage.coach", language))
            case commands.Missing():
                lists = oversight.missing_lists(viewer, self.now, self.settings.timezone)
                return Answered(replies.missing_text(lists, language, self._fits(language)))
            case commands.Detail(code=code):
                return Answered(self._detail(viewer, code))
            case commands.Coach(code=code, text=note):
                return self._coach(viewer, code, note)

    def reply_to_coach(self, worker: Worker, text: str) -> Answered | None:
        """A health worker's `R <text>`, to the supervisor who last coached their CSCom.

        None when it is not one, or nobody coached them (or that person can no longer be
        reached): the message is then handled as it always was.
        """
        note = commands.coaching_reply(text)
        if note is None:
            return None
        coach = self._last_coach(worker)
        if coach is None:
            return None

        def render(person: Worker, part: str) -> str:
            code = worker.facility.code
            return say("coaching.reply", person.language, name=worker.name, code=code, text=part)

        return self._send(worker, [coach], note, render, coach.name)

    # -- commands -------------------------------------------------------------------------------

    def _detail(self, viewer: Worker, code: str) -> str:
        cscom = oversight.find_cscom(viewer, code)
        if cscom is None:
            return say("supervisor.unknown_code", viewer.language, code=replies.shown_code(code))
        latest = oversight.latest_checkin(cscom, self.settings.timezone)
        return replies.detail_text(latest, cscom.code, viewer.language, self._fits(viewer.language))

    def _coach(self, viewer: Worker, code: str, note: str) -> Answered:
        language = viewer.language
        cscom = oversight.find_cscom(viewer, code)
        if cscom is None:
            return Answered(say("supervisor.unknown_code", language, code=replies.shown_code(code)))
        focal_points = list(
            db.session.scalars(
                sa.select(Worker)
                .where(
                    Worker.facility_id == cscom.id,
                    Worker.role == FOCAL_POINT,
                    Worker.active.is_(True),
                )
                .order_by(Worker.id)
            )
        )
        if not focal_points:
            return Answered(say("coaching.nobody", language, code=cscom.code))
        reachable = [person for person in focal_points if not person.opted_out]
        if not reachable:
            return Answered(say("coaching.opted_out", language, code=cscom.code))

        def render(person: Worker, part: str) -> str:
            return say("coaching.message", person.language, name=viewer.name, text=part)

        names = ", ".join(person.name for person in reachable)
        return self._send(viewer, reachable, note, render, f"{names} ({cscom.code})")

    # -- sending --------------------------------------------------------------------------------

    def _send(
        self,
        sender: Worker,
        recipients: Sequence[Worker],
        note: str,
        render: Callable[[Worker, str], str],
        names: str,
    ) -> Answered:
        """One coaching row per recipient (`render` signs it), then the sender's confirmation."""
        inbound_id = self._current_inbound(sender)
        cut_any, release, written = False, self.now, 0
        for person in recipients:
            fits = self._fits(person.language)
            text, cut = replies.cut_to_fit(note, functools.partial(render, person), fits)
            message = compose(
                self.settings,
                self.now,
                phone=person.phone,
                text=render(person, text),
                kind=COACHING,
                language=person.language,
                worker=person,
                dedupe_key=f"{KEY_PREFIX}{inbound_id}:{person.id}",
            )
            if message is not None:  # written (compose skips a repeat and an opted-out person)
                written += 1
                release = max(release, message.not_before)
            cut_any = cut_any or cut
        log.info(
            "coaching: worker %s wrote to %d people (%d characters)",
            sender.id,
            len(recipients),
            len(note),
        )
        return Answered(self._confirmation(sender.language, names, release, cut_any), written)

    def _confirmation(self, language: str, names: str, release: datetime, cut: bool) -> str:
        if release > self.now:
            moment = release.astimezone(ZoneInfo(self.settings.timezone))
            text = say("coaching.held", language, names=names, time=replies.local_time(moment))
        else:
            text = say("coaching.sent", language, names=names)
        return f"{text} {say('coaching.cut', language)}" if cut else text

    def _current_inbound(self, sender: Worker) -> int | None:
        """The id of the message being handled: the sender's latest, stored in this transaction.

        The sender's row is locked while one of their messages is handled (sms_steps), so no
        later message of theirs can be stored in between.
        """
        return db.session.scalar(
            sa.select(sa.func.max(InboundMessage.id)).where(InboundMessage.worker_id == sender.id)
        )

    def _last_coach(self, worker: Worker) -> Worker | None:
        """The viewer who last coached `worker`'s CSCom, if they may still see it and be reached."""
        # By phone: the outbox is indexed on it, and a CSCom's staff are a handful of numbers.
        colleagues = sa.select(Worker.phone).where(Worker.facility_id == worker.facility_id)
        key = db.session.scalar(
            sa.select(OutboundMessage.dedupe_key)
            .where(
                OutboundMessage.phone.in_(colleagues),
                OutboundMessage.kind == COACHING,
                OutboundMessage.dedupe_key.like(f"{KEY_PREFIX}%"),
            )
            .order_by(OutboundMessage.id.desc())
            .limit(1)
        )
        if key is None:
            return None
        inbound_id = int(key.removeprefix(KEY_PREFIX).split(":")[0])
        coach = db.session.scalar(
            sa.select(Worker)
            .join(InboundMessage, InboundMessage.worker_id == Worker.id)
            .where(InboundMessage.id == inbound_id)
        )
        if coach is None or not coach.active or coach.opted_out or not oversight.is_viewer(coach):
            return None
        in_scope = sa.select(Facility.id).where(
            Facility.id == worker.facility_id, Facility.id.in_(oversight.scope(coach))
        )
        return coach if db.session.scalar(in_scope) is not None else None

    def _fits(self, language: str) -> replies.Fits:
        return replies.sms_fits(lambda text: outgoing(text, language, self.settings.transliterate))
