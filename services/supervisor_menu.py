"""The read-only USSD menu of a supervisor or regional viewer who dials the service code.

1 the expected CSComs missing this period, 2 the alerts of the last seven days, 3 a CSCom's
latest answers (asks for its code). Each screen fits 160 characters as sent (supervision/
replies.py cuts lists with "+N autres"); `0` or `00` goes back to the menu. Nothing here
writes: the menu only reads, through the one scoping function (services/oversight.py).

services/conversation.py keeps the state in the session row (stage `supervise`), so any web
process can serve the next step.
"""

from __future__ import annotations

from datetime import datetime

from config import Settings
from flows.engine import choice_number
from flows.lint import outgoing
from flows.messages import say
from models import Worker
from services import oversight
from supervision import replies

STAGE = "supervise"
MENU, MISSING, ALERTS, CODE, DETAIL = "menu", "missing", "alerts", "code", "detail"
CHOICES = (MISSING, ALERTS, CODE)
"""The menu's entries, in the order they are numbered."""
BACK = ("0", "00")


class SupervisorMenu:
    """One step of a viewer's menu: the screen to show and the state to keep."""

    def __init__(self, settings: Settings, viewer: Worker, now: datetime) -> None:
        self.settings = settings
        self.viewer = viewer
        self.language = viewer.language
        self.now = now

    def begin(self) -> tuple[str, dict]:
        return self._screen(MENU)

    def handle(self, state: dict, entry: str) -> tuple[str, dict]:
        """The screen after `entry` on the screen that `state` shows."""
        screen = state.get("screen", MENU)
        if screen == MENU:
            number = choice_number(entry, len(CHOICES))
            if number is None:
                error = say("invalid.choice", self.language, limit=len(CHOICES))
                text, state = self._screen(MENU)
                return f"{error}\n{text}", state
            return self._screen(CHOICES[number - 1])
        if entry in BACK:
            return self._screen(MENU)
        if screen == CODE:
            return self._detail(entry)
        return self._screen(screen, state.get("code", ""))

    # -- screens --------------------------------------------------------------------------------

    def _screen(self, screen: str, code: str = "") -> tuple[str, dict]:
        back = say("supervisor.back", self.language)
        fits = replies.ussd_fits(self._outgoing)
        if screen == MISSING:
            lists = oversight.missing_lists(self.viewer, self.now, self.settings.timezone)
            text = replies.missing_text(lists, self.language, fits, back)
        elif screen == ALERTS:
            alerts = oversight.week_alerts(self.viewer, self.now)
            text = replies.alerts_text(alerts, self.language, fits, back)
        elif screen == CODE:
            text = f"{say('supervisor.ask_code', self.language)}\n{back}"
        elif screen == DETAIL:
            return self._detail(code)
        else:
            title = self.viewer.facility.name if self.viewer.facility else ""
            text = say("supervisor.menu", self.language, title=title[: replies.NAME_LIMIT * 2])
        return text, {"stage": STAGE, "screen": screen}

    def _detail(self, typed: str) -> tuple[str, dict]:
        """A CSCom's latest answers; an unknown code (or one outside scope) asks again."""
        cscom = oversight.find_cscom(self.viewer, typed)
        if cscom is None:
            unknown = say("supervisor.unknown_code", self.language, code=replies.shown_code(typed))
            text, state = self._screen(CODE)
            return f"{unknown}\n{text}", state
        latest = oversight.latest_checkin(cscom, self.settings.timezone)
        back = say("supervisor.back", self.language)
        fits = replies.ussd_fits(self._outgoing)
        text = replies.detail_text(latest, cscom.code, self.language, fits, back)
        return text, {"stage": STAGE, "screen": DETAIL, "code": cscom.code}

    def _outgoing(self, text: str) -> str:
        return outgoing(text, self.language, self.settings.transliterate)
