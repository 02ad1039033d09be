"""A worker's conversation with the service, whatever the channel.

USSD and SMS both hand this module a session row and what the person typed, and get back the
text to show and whether the conversation is over. Around the pure flow engine it adds what
needs the database: choosing among open check-ins, resuming a dropped session, and storing
answers when the person confirms.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from config import Settings
from flows import engine
from flows.engine import Outcome
from flows.messages import say
from flows.render import compact_error_text, menu_text, screen_text
from flows.smstext import ussd_limit
from models import Checkin, Session, Worker, db
from services import checkins, oversight
from services.flow_store import active_flows, definition
from services.reply import Reply, make_reply
from services.submissions import Submitter, record
from services.supervisor_menu import STAGE as SUPERVISE
from services.supervisor_menu import SupervisorMenu

RESUME, MENU, FLOW = "resume", "menu", "flow"
COLLEAGUE_RECENT = timedelta(minutes=3)
"""A colleague's session that moved this recently is someone answering right now."""


class Conversation:
    """One step of one session. Changes rows in the current transaction; the caller commits."""

    def __init__(self, settings: Settings, session: Session, now: datetime):
        self.settings = settings
        self.session = session
        self.worker: Worker = session.worker
        self.language = self.worker.language
        self.now = now
        self.messages = 0
        """Outbox rows this step wrote: the caller nudges the outbox after its commit."""

    # -- entry points ---------------------------------------------------------------------------

    def begin(self) -> Reply:
        """The first screen: resume offer, the only open check-in, or a menu of them.

        A supervisor or regional viewer who dials gets their read-only district menu instead,
        unless a flow asks their role now: then the flow comes first, as for anyone.
        """
        dropped = self._resumable()
        if dropped is not None:
            self.session.state = {"stage": RESUME, "resume": dropped.id}
            return self._ask(self._resume_text(dropped))
        if self._supervises():
            return self._supervise(None)
        return self._choose()

    def handle(self, entry: str) -> Reply:
        stage = (self.session.state or {}).get("stage")
        if stage == RESUME:
            return self._on_resume(entry.strip())
        if stage == MENU:
            return self._on_menu(entry.strip())
        if stage == FLOW:
            return self._on_flow(entry)
        if stage == SUPERVISE:
            return self._supervise(entry.strip())
        return self.end(say("session_lost", self.language))

    # -- stages ---------------------------------------------------------------------------------

    def _choose(self) -> Reply:
        options, open_options = self._options()
        if not open_options:
            return self._no_single_option(options, open_options)
        if len(open_options) == 1:
            return self._start(open_options[0], menu=False)
        self.session.state = {"stage": MENU, "options": [self._option_ref(o) for o in open_options]}
        return self._ask(self._menu())

    def _supervises(self) -> bool:
        """A viewer on USSD whom no scheduled flow asks now (nor has a check-in open for)."""
        if self.session.channel != "ussd" or not oversight.is_viewer(self.worker):
            return False
        # Options are read only when a flow names the role: reading them opens check-ins.
        if not any(self._asks_role(active.version_id) for active in active_flows()):
            return True
        return not any(self._asks_role(option.version_id) for option in self._options()[1])

    def _asks_role(self, version_id: int) -> bool:
        schedule = definition(version_id).schedule
        return schedule is not None and self.worker.role in schedule.roles

    def _supervise(self, entry: str | None) -> Reply:
        """A step of the viewer's menu (services/supervisor_menu.py); None for its first screen."""
        menu = SupervisorMenu(self.settings, self.worker, self.now)
        if entry is None:
            text, self.session.state = menu.begin()
        else:
            text, self.session.state = menu.handle(self.session.state, entry)
        return self._ask(text)

    def _on_resume(self, entry: str) -> Reply:
        dropped = db.session.get(Session, self.session.state["resume"])
        if entry not in ("1", "2"):
            return self._ask(
                f"{say('invalid.resume', self.language)}\n{self._resume_text(dropped)}"
            )
        if dropped is None or dropped.checkin is None or dropped.checkin.status != "open":
            return self._choose()
        dropped.status = "replaced"
        self.session.checkin = dropped.checkin
        version = dropped.state["version"]  # the version it began on, not the newest
        flow = definition(version)
        if entry == "1":
            state = engine.State.from_dict(dropped.state["flow"])
            return self._show(version, engine.current(flow, state), False)
        return self._show(version, engine.start(flow), menu=False)

    def _on_menu(self, entry: str) -> Reply:
        refs = self.session.state["options"]
        number = engine.choice_number(entry, len(refs))
        if number is None:
            error = say("invalid.choice", self.language, limit=len(refs))
            return self._ask(f"{error}\n{self._menu()}")
        ref = refs[number - 1]
        checkin = db.session.get(Checkin, ref["checkin"]) if ref["checkin"] else None
        if checkin is not None and checkin.status == "completed":
            return self.end(self._already_done(checkin))
        return self._start(checkins.Option(ref["flow"], ref["version"], checkin), menu=True)

    def _on_flow(self, entry: str) -> Reply:
        outcome = advance_in_flow(self.session.state, entry)
        if outcome is None:
            return self._choose()
        if outcome.submission is not None:
            version = self.session.state["version"]
            return self._submit(version, outcome.submission, self.session.checkin)
        reply, self.session.state = shown(self.settings, self.session.state, outcome, self.language)
        return reply

    def submit_all(self, entries: list[str]) -> Reply:
        """The compact form: every answer in one message, validated as a whole, then stored."""
        options, open_options = self._options()
        if len(open_options) != 1:
            return self._no_single_option(options, open_options)
        option = open_options[0]
        flow = definition(option.version_id)
        result = engine.answer_all(flow, entries)
        if isinstance(result, engine.CompactError):
            return self.end(compact_error_text(flow, result, self.language))
        checkin = option.checkin or checkins.begin_on_demand(option, self.worker, self.now)
        self.session.checkin = checkin
        return self._submit(option.version_id, engine.submission(flow, result), checkin)

    def _options(self) -> tuple[list[checkins.Option], list[checkins.Option]]:
        """Every flow the worker may answer now, and those not yet completed."""
        options = checkins.options_for(self.worker, self.now, self.settings.timezone)
        return options, [o for o in options if not o.done]

    def _no_single_option(self, options, open_options) -> Reply:
        """Several open (the compact form cannot choose), or none: say which."""
        if open_options:
            return self.end(say("compact.several", self.language))
        done = next((o for o in options if o.done), None)
        if done is not None:
            return self.end(self._already_done(done.checkin))
        return self.end(say("nothing_open", self.language))

    def _submit(self, version_id: int, submission: engine.Submission, checkin: Checkin) -> Reply:
        if self.session.id is None:  # a new USSD session confirming in its first, prefilled step
            db.session.add(self.session)
            db.session.flush()
        by = Submitter(self.worker.id, self.session.id, self.session.channel)
        flow = definition(version_id)
        connection = db.session.connection()
        recorded = record(
            connection, self.settings, flow, version_id, checkin.id, submission, by, self.now
        )
        db.session.expire(checkin)  # completed now, by this person or a colleague
        self.session.status = "submitted"
        self.messages += recorded.alerts
        if not recorded.reference:
            name = checkin.completed_by.name if checkin.completed_by else "?"
            return self.end(say("kept_after_colleague", self.language, name=name))
        return self.end(closing_text(flow, self.language))

    # -- helpers --------------------------------------------------------------------------------

    def _start(self, option: checkins.Option, menu: bool) -> Reply:
        checkin = option.checkin or checkins.begin_on_demand(option, self.worker, self.now)
        self.session.checkin = checkin
        reply = self._show(option.version_id, engine.start(definition(option.version_id)), menu)
        notice = self._colleague_notice(checkin)
        if notice is None:
            return reply
        noticed = (
            f"{make_reply(self.settings, notice, self.language, end=False).text}\n{reply.text}"
        )
        return Reply(noticed, reply.end) if len(noticed) <= ussd_limit(noticed) else reply

    def _colleague_notice(self, checkin: Checkin) -> str | None:
        """One line when a colleague's session on this check-in moved in the last minutes:
        "Ibrahim répond depuis 10:02.", so two people do not answer the same one unawares.
        A per-worker or on-demand check-in is one person's: nobody to ask about."""
        if checkin.worker_id is not None:
            return None
        busy = db.session.execute(
            sa.select(Worker.name, Session.created_at)
            .join(Worker, Worker.id == Session.worker_id)
            .where(
                Session.checkin_id == checkin.id,
                Session.worker_id != self.worker.id,
                Session.status == "active",
                Session.updated_at >= self.now - COLLEAGUE_RECENT,
            )
            .order_by(Session.updated_at.desc())
            .limit(1)
        ).first()
        if busy is None:
            return None
        since = busy.created_at.astimezone(ZoneInfo(self.settings.timezone)).strftime("%H:%M")
        return say("colleague_answering", self.language, name=busy.name.split()[0], since=since)

    def _show(self, version_id: int, outcome: Outcome, menu: bool) -> Reply:
        """Show `outcome`'s screen and keep its state: the next step may reach another process."""
        state = {"stage": FLOW, "version": version_id, "menu": menu}
        reply, self.session.state = shown(self.settings, state, outcome, self.language)
        return reply

    def _resumable(self) -> Session | None:
        """The worker's latest session dropped mid-flow within the resume window, if any."""
        since = self.now - timedelta(hours=self.settings.resume_hours)
        candidates = db.session.scalars(
            sa.select(Session)
            .join(Checkin, Checkin.id == Session.checkin_id)
            .where(
                Session.worker_id == self.worker.id,
                Session.status == "active",
                Session.id != self.session.id,
                Session.updated_at >= since,
                Checkin.status == "open",
            )
            .order_by(Session.updated_at.desc())
            .limit(1)
        )
        dropped = candidates.first()
        if dropped is None or (dropped.state or {}).get("stage") != FLOW:
            return None
        return dropped if dropped.state["flow"].get("trail") else None

    def _resume_text(self, dropped: Session | None) -> str:
        if dropped is None or dropped.checkin is None:
            return say("resume", self.language, title="")
        flow = self._flow(dropped.checkin)
        return say("resume", self.language, title=flow.text(flow.title, self.language))

    def _menu(self) -> str:
        titles = []
        for ref in self.session.state["options"]:
            flow = definition(ref["version"])
            titles.append(flow.text(flow.title, self.language))
        return menu_text(titles, self.language)

    def _already_done(self, checkin: Checkin) -> str:
        flow = self._flow(checkin)
        title = flow.text(flow.title, self.language)
        if checkin.completed_by_id == self.worker.id:
            return say("already_done.self", self.language, title=title)
        name = checkin.completed_by.name if checkin.completed_by else "?"
        return say("already_done", self.language, title=title, name=name)

    @staticmethod
    def _option_ref(option: checkins.Option) -> dict:
        return {
            "flow": option.flow_id,
            "version": option.version_id,
            "checkin": option.checkin.id if option.checkin else None,
        }

    @staticmethod
    def _flow(checkin: Checkin):
        return definition(checkin.flow_version_id)

    def _ask(self, text: str) -> Reply:
        return make_reply(self.settings, text, self.language, end=False)

    def end(self, text: str) -> Reply:
        """Close the conversation with `text` (the gateway ends the USSD session on it)."""
        if self.session.status == "active":
            self.session.status = "ended"
        return make_reply(self.settings, text, self.language, end=True)


# -- the flow stage, without rows ------------------------------------------------------------------
# Most steps answer the current question of a flow. These two functions are all such a step needs,
# so USSD can serve it from the session's stored state alone (see services/flow_answer.py).


def advance_in_flow(state: dict, entry: str) -> Outcome | None:
    """The engine's answer to `entry` in a session at the flow stage; None for back to the menu."""
    flow = definition(state["version"])
    flow_state = engine.State.from_dict(state["flow"])
    at_first = not flow_state.trail and flow_state.step != engine.CONFIRM
    if at_first and state["menu"] and engine.is_back(flow, flow_state, entry):
        return None
    return engine.advance(flow, flow_state, entry)


def shown(settings: Settings, state: dict, outcome: Outcome, language: str) -> tuple[Reply, dict]:
    """The screen of an outcome that stays in the flow, and the session state that goes with it."""
    flow = definition(state["version"])
    reply = make_reply(settings, screen_text(flow, outcome.screen, language), language, end=False)
    return reply, {**state, "flow": outcome.state.to_dict()}


def closing_text(flow, language: str) -> str:
    return screen_text(flow, engine.Screen("closing"), language)
