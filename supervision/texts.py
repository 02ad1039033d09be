"""The supervisors' SMS: the escalation and the weekly digest, each at most two GSM-7 segments.

A supervisor with little time reads the first lines on a basic phone, and the district pays
every segment, so each text is composed to a fixed budget: two GSM-7 segments (306 septets)
in every language. Every text is sent in GSM-7 letters (Bambara transliterated, French
letters outside GSM-7 such as ê or ç to the bare letter, anything else left as ?): a single
UCS-2 character would halve the budget. What does not fit is counted (``+3 autres``) and a
reply hint says how to get the rest; the most important news goes first.

Pure: callers (the tick) read the database and pass the plain values below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flows.definition import Text
from flows.messages import DEFAULT_LANGUAGE, say
from flows.smstext import GSM7, is_gsm7, sms_cost, to_gsm7

MAX_SEGMENTS = 2
TITLE_LIMIT = 24
"""Characters kept of a subject or a district name: the header must always fit."""
CODE_LIMIT = 16
ITEM_LIMIT = 40
"""Characters kept of one alert or signal, so that one long text cannot crowd out the rest."""


@dataclass(frozen=True)
class WeekAlert:
    """An alert of the week: the CSCom's code and a short reason (e.g. "pas de réunion")."""

    code: str
    text: str
    urgent: bool = False


@dataclass(frozen=True)
class WeekSignal:
    """A run-chart signal of the week: the CSCom, the indicator's label per language, and the
    signal's short name as its message key (``supervision.runchart.Signal.short``)."""

    code: str
    indicator: Text
    name: str


@dataclass(frozen=True)
class DistrictWeek:
    """What one district's digest reports about one period; codes are CSCom codes."""

    district: str
    expected: tuple[str, ...]
    reported: tuple[str, ...]
    alerts: tuple[WeekAlert, ...] = ()
    signals: tuple[WeekSignal, ...] = ()
    """In order of importance: the first is shown first when not all fit."""

    @property
    def missing(self) -> list[str]:
        return sorted(set(self.expected) - set(self.reported))

    @property
    def counts(self) -> tuple[int, int]:
        """(reported, expected): a report from a CSCom no longer expected does not count."""
        expected = set(self.expected)
        return len(expected & set(self.reported)), len(expected)

    @property
    def share(self) -> str:
        return "{}/{}".format(*self.counts)


def escalation_text(subject: str, missing: Sequence[str], language: str) -> str:
    """ONE SMS to a supervisor listing the expected CSComs still missing (codes in order).

    `subject` says what is late, e.g. "QI S49". Codes that do not fit become "+N autres".
    """
    codes = sorted(set(missing))
    head = say("supervision.escalation", language, title=_clip(subject, TITLE_LIMIT), n=len(codes))
    section = _Section("", [_clip(code, CODE_LIMIT) for code in codes], " ")
    return _compose(head, " ", [section], language, lambda shown: "")


def digest_text(subject: str, week: DistrictWeek, language: str) -> str:
    """A supervisor's weekly digest: reported x/y, missing CSComs, alerts, run-chart signals.

    Urgent alerts come first among the alerts. When something is cut, a hint says how to ask
    for it: MANQUANTS for the missing list, else DETAIL for one CSCom.
    """
    title = f"{_clip(subject, TITLE_LIMIT)} {_clip(week.district, TITLE_LIMIT)}"
    head = say("supervision.reported", language, title=title, n=week.share)
    alerts = sorted(week.alerts, key=lambda alert: not alert.urgent)
    sections = [
        _Section(
            say("supervision.missing", language), [_clip(c, CODE_LIMIT) for c in week.missing]
        ),
        _Section(
            say("supervision.alerts", language), [_item(a.code, a.text) for a in alerts], "; "
        ),
        _Section(
            say("supervision.signals", language),
            [
                _item(s.code, f"{_label(s.indicator, language)} {say(s.name, language)}")
                for s in week.signals
            ],
            "; ",
        ),
    ]

    def hint(shown: list[int]) -> str:
        if shown[0] < len(sections[0].items):
            return say("supervision.hint.missing", language)
        if any(count < len(s.items) for count, s in zip(shown, sections, strict=True)):
            return say("supervision.hint.detail", language)
        return ""

    return _compose(head, ". ", sections, language, hint)


def regional_text(subject: str, region: str, weeks: Sequence[DistrictWeek], language: str) -> str:
    """A regional viewer's roll-up: the region's x/y, then each district's, least reported first.

    Alerts and signals are counted, not listed: the district supervisors act on them.
    """
    reported = sum(w.counts[0] for w in weeks)
    expected = sum(w.counts[1] for w in weeks)
    title = f"{_clip(subject, TITLE_LIMIT)} {_clip(region, TITLE_LIMIT)}"
    head = say("supervision.reported", language, title=title, n=f"{reported}/{expected}")
    totals = [
        f"{say(key, language)} {count}"
        for key, count in (
            ("supervision.alerts", sum(len(w.alerts) for w in weeks)),
            ("supervision.signals", sum(len(w.signals) for w in weeks)),
        )
        if count
    ]
    if totals:
        head = ". ".join([head, *totals])
    ordered = sorted(weeks, key=lambda w: (w.counts[0] / (w.counts[1] or 1), w.district))
    districts = [f"{_clip(w.district, TITLE_LIMIT)} {w.share}" for w in ordered]
    hint_text = say("supervision.hint.missing", language)
    section = _Section("", districts, ", ")
    return _compose(
        head,
        ". ",
        [section],
        language,
        lambda shown: hint_text if shown[0] < len(districts) else "",
    )


@dataclass
class _Section:
    label: str
    items: list[str]
    separator: str = " "

    def render(self, count: int, more: Callable[[int], str]) -> str:
        """The label, the first `count` items, then "+N autres" for the rest; "" when empty."""
        if not self.items:
            return ""
        rest = more(len(self.items) - count) if count < len(self.items) else ""
        shown = self.separator.join(self.items[:count])
        return " ".join(part for part in (self.label, shown, rest) if part)


def _compose(
    head: str,
    glue: str,
    sections: list[_Section],
    language: str,
    hint: Callable[[list[int]], str],
) -> str:
    """The longest text within budget: everything if it fits, else items added one by one.

    A first pass gives every section its first item (every kind of news shows), a second fills
    what room is left in order of importance; a section stops at its first item that does not
    fit, so "+N" always counts the items after those shown. `glue` joins the head to the rest.
    """

    def more(rest: int) -> str:
        return say("supervision.more", language, n=rest)

    def render(shown: list[int], hint_text: str) -> str:
        pairs = zip(sections, shown, strict=True)
        parts = [text for section, count in pairs if (text := section.render(count, more))]
        text = head + glue + ". ".join(parts) if parts else head
        return _gsm7(f"{text}. {hint_text}" if hint_text else text)

    full = render([len(section.items) for section in sections], "")
    if _fits(full):
        return full
    shown = [0] * len(sections)
    for limit in (1, None):
        for index, section in enumerate(sections):
            while shown[index] < len(section.items) and (limit is None or shown[index] < limit):
                shown[index] += 1
                if not _fits(render(shown, hint(shown))):
                    shown[index] -= 1
                    break
    return render(shown, hint(shown))


def _fits(text: str) -> bool:
    cost = sms_cost(text)
    return cost.encoding == GSM7 and cost.segments <= MAX_SEGMENTS


def _gsm7(text: str) -> str:
    """The text in GSM-7 letters whatever its language: transliterated, the rest as '?'."""
    return "".join(char if is_gsm7(char) else "?" for char in to_gsm7(text))


def _label(text: Text, language: str) -> str:
    return text.get(language) or text.get(DEFAULT_LANGUAGE) or next(iter(text.values()), "")


def _item(code: str, text: str) -> str:
    return _clip(f"{_clip(code, CODE_LIMIT)} {text}", ITEM_LIMIT)


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters on one line: names and codes come from admins' data."""
    return " ".join(text.split())[:limit]
