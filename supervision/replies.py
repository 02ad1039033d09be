"""The texts that answer a supervisor, each within its budget: 2 SMS segments or one USSD screen.

A supervisor reads these on a basic phone, so every answer is a head and as many short items
as fit, then `+N autres` for the rest: a long district never produces an SMS that costs more
than two segments, nor a USSD screen that a handset cuts. Budgets are measured on the text as
it will leave (transliterated where the language is), by the `Fits` the caller passes.

Pure: callers read the database (services/oversight.py) and pass plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from flows.definition import Flow
from flows.messages import say
from flows.smstext import GSM7, USSD_SAFE_LIMIT, sms_cost, ussd_limit

Fits = Callable[[str], bool]
"""Whether a text, as composed (before transliteration), is within its budget."""

MAX_SEGMENTS = 2
NAME_LIMIT = 20
"""Characters kept of a CSCom's or a person's name in a list."""
VALUE_LIMIT = 24
"""Characters kept of one answer (a choice's label, a comment)."""
ITEM_LIMIT = 70
"""Characters kept of one alert: two fit a USSD screen, and the phone number stays."""
CUT_MARK = "..."


@dataclass(frozen=True)
class MissingList:
    """One scheduled flow's current period: its subject ("S49 Suivi QI") and who is late."""

    subject: str
    expected: int
    missing: Sequence[tuple[str, str]]
    """(code, name) of each expected CSCom that has not reported, in code order."""


@dataclass(frozen=True)
class LatestCheckin:
    """A CSCom's latest completed check-in, as DETAIL shows it."""

    code: str
    period: str
    """Short: S49, 27/11 (the completion day of an on-demand check-in)."""
    by: str
    flow: Flow
    answers: Mapping[str, str | int]


def sms_fits(outgoing: Callable[[str], str]) -> Fits:
    """At most two segments, in whichever encoding the text needs once it is spelt to send."""
    return lambda text: sms_cost(outgoing(text)).segments <= MAX_SEGMENTS


def ussd_fits(outgoing: Callable[[str], str]) -> Fits:
    """One USSD screen every handset shows whole: 160 GSM-7 septets, or 80 UCS-2 units."""

    def fits(text: str) -> bool:
        sent = outgoing(text)
        cost = sms_cost(sent)
        limit = USSD_SAFE_LIMIT if cost.encoding == GSM7 else ussd_limit(sent)
        return cost.units <= limit

    return fits


def fit(
    head: str,
    items: Sequence[str],
    fits: Fits,
    language: str,
    separator: str = ", ",
    tail: str = "",
) -> str:
    """`head`, then as many `items` as fit, then "+N autres" for the rest, then `tail`.

    `tail` (a back key, a hint) is always kept: it is what the person does next.
    """
    return _fit(head, items, fits, language, separator, tail)[0]


def _fit(
    head: str, items: Sequence[str], fits: Fits, language: str, separator: str, tail: str
) -> tuple[str, int]:
    """`fit`'s text and how many items it shows."""

    def compose(count: int) -> str:
        shown = separator.join(items[:count])
        rest = say("supervision.more", language, n=len(items) - count) if count < len(items) else ""
        return _lines(" ".join(part for part in (head, shown, rest) if part), tail)

    count = len(items)
    while count > 0 and not fits(compose(count)):
        count -= 1
    return compose(count), count


def missing_text(lists: Sequence[MissingList], language: str, fits: Fits, tail: str = "") -> str:
    """MANQUANTS: per scheduled flow, the expected CSComs still missing, with names if they fit.

    Names go when keeping them would hide codes: the codes are what DETAIL and R need.
    """
    if not lists:
        return _lines(say("supervisor.no_flow", language), tail)
    text = ""
    for index, late in enumerate(lists):
        rest_tail = tail if index == len(lists) - 1 else ""

        def within(candidate: str, before: str = text) -> bool:
            return fits(_lines(before, candidate))

        section = _missing_section(late, language, within, rest_tail)
        text = _lines(text, section)
    return text


def detail_text(
    latest: LatestCheckin | None, code: str, language: str, fits: Fits, tail: str = ""
) -> str:
    """DETAIL: the period, who answered, then each answer as `key=value` in the flow's order."""
    if latest is None:
        return _lines(say("supervisor.detail.none", language, code=code), tail)
    head = say(
        "supervisor.detail",
        language,
        code=latest.code,
        period=latest.period,
        name=_clip(latest.by, NAME_LIMIT),
    )
    items = [
        f"{question.key}={_value(latest.flow, question, latest.answers[question.key], language)}"
        for question in latest.flow.questions
        if question.key in latest.answers
    ]
    return fit(head, items, fits, language, tail=tail)


def alerts_text(
    alerts: Sequence[tuple[str, bool]], language: str, fits: Fits, tail: str = ""
) -> str:
    """The week's alerts (text, urgent), urgent first; or that there were none."""
    if not alerts:
        return _lines(say("supervisor.alerts.none", language), tail)
    ordered = [
        _clip(text, ITEM_LIMIT) for text, _ in sorted(alerts, key=lambda alert: not alert[1])
    ]
    return fit(say("supervision.alerts", language), ordered, fits, language, "\n", tail)


def cut_to_fit(text: str, render: Callable[[str], str], fits: Fits) -> tuple[str, bool]:
    """The longest start of `text` whose rendering fits, marked "..." when cut; and whether it was.

    The cost of a start only grows with its length, so a binary search finds it.
    """
    if fits(render(text)):
        return text, False
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(render(_cut(text, middle))):
            low = middle
        else:
            high = middle - 1
    return _cut(text, low), True


def shown_code(typed: str) -> str:
    """A code as the person typed it, on one line and short: it goes back into a reply."""
    return _clip(typed, NAME_LIMIT)


def local_time(moment: datetime) -> str:
    """07:00: when a held message will leave, in the supervisor's own time."""
    return moment.strftime("%H:%M")


def _missing_section(late: MissingList, language: str, fits: Fits, tail: str) -> str:
    if not late.missing:
        done = say("supervisor.all_reported", language, title=late.subject, n=late.expected)
        return _lines(done, tail)
    head = say("supervision.escalation", language, title=late.subject, n=len(late.missing))
    named = [f"{code} {_clip(name, NAME_LIMIT)}" for code, name in late.missing]
    with_names, shown = _fit(head, named, fits, language, ", ", tail)
    if shown == len(named):
        return with_names
    return fit(head, [code for code, _ in late.missing], fits, language, " ", tail)


def _value(flow: Flow, question, value: str | int, language: str) -> str:
    """A choice's label in the reader's language; a number as is; a text clipped."""
    for choice in question.choices:
        if choice.value == value:
            return _clip(flow.text(choice.label, language), VALUE_LIMIT)
    return _clip(str(value), VALUE_LIMIT)


def _lines(*parts: str) -> str:
    """The non-empty parts, one per line."""
    return "\n".join(part for part in parts if part)


def _cut(text: str, length: int) -> str:
    return text[:length].rstrip() + CUT_MARK


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters on one line: names and texts come from people's data."""
    return " ".join(text.split())[:limit]
