"""What a valid flow will cost and where its screens risk being cut, per language.

Validation (flows.loader) rejects flows that cannot work; lint reports ones that work badly:
a USSD screen longer than phones show, an SMS that costs several segments or doubles its
price by one letter outside GSM-7. It measures the exact strings people would receive. It
also warns on words a language's texts should not use (a French word in a Bambara text, a word
the glossary rejects), so wording is checked by rule rather than pinned by tests, and on texts
people would read in another language (or not at all): a missing title or a prompt missing in
one of the flow's languages. Each finding names the file and line to edit, as errors do.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from itertools import product

from flows.definition import Flow, Text
from flows.engine import Invalid, Screen, fold
from flows.render import error_text, question_text, screen_text
from flows.smstext import (
    GSM7,
    USSD_GSM_LIMIT,
    USSD_SAFE_LIMIT,
    USSD_UCS2_LIMIT,
    SmsCost,
    sms_cost,
    to_gsm7,
    ussd_limit,
)


@dataclass(frozen=True)
class Finding:
    level: str  # "warning" or "info"
    where: str
    language: str
    message: str
    at: str = ""
    """Where to edit, "file:line" (flows.definition.Places); "" for a flow built in code."""

    def __str__(self) -> str:
        place = f"{self.at}: {self.where}" if self.at else self.where
        return f"{self.level}: {place} [{self.language}]: {self.message}"

    @property
    def line(self) -> int:
        """The line of `at`, 0 when the finding has no place (a flow built in code)."""
        number = self.at.rpartition(":")[2]
        return int(number) if number.isdigit() else 0


def outgoing(text: str, language: str, transliterate: Collection[str]) -> str:
    """The text as it will be sent: in GSM-7 letters for the languages configured so."""
    return to_gsm7(text) if language in transliterate else text


# Words a text in a language should not contain, with what to write instead: French words
# known to slip into Bambara texts, and words or phrases the Bambara glossary rejects
# (docs/bambara-review.md). Matched as whole words, plural (-s, -w) too, without case, accents
# or tone marks, and whether the Bambara letters are written ɛ or è.
AVOID: dict[str, dict[str, str]] = {
    "bm": {
        "réunion": "a French word; write ɲɔgɔnye",
        "semaine": "a French word; write dɔgɔkun",
        "équipe": "a French word; write jɛkulu",
        "membre": "a French word; write tɔnden",
        "éligible": "a French word; ask about the people concerned",
        "indicateur": "a French word; leave it out",
        "merci": "a French word; write I ni ce (one person) or Aw ni ce (the team)",
        "jatebi": "not a Bambara word; write jateden",
        "tɛmɛnen tɛ": "says 'is not past'; write ma ban fɔlɔ (not yet finished)",
    },
}


def lint(flow: Flow, transliterate: Collection[str] = ()) -> list[Finding]:
    findings = [*_missing_texts(flow), *_avoided_words(flow)]
    for question, language in product(flow.questions, flow.languages):
        where = f"question '{question.key}'"
        screen = outgoing(question_text(flow, question, language), language, transliterate)
        worst = _longest_error(question.type, question.max or question.max_length, language)
        findings += _warnings(flow, where, language, _ussd(screen, worst))
    # Without a closing text the title is what people read last: that is the line to edit.
    closing_place = "closing" if flow.closing else "title"
    for language in flow.languages:
        closing = outgoing(screen_text(flow, Screen("closing"), language), language, transliterate)
        findings += _warnings(flow, "closing", language, _ussd(closing, ""), closing_place)
        findings.append(_sms(flow, "closing", language, closing, closing_place))
        for number, alert in enumerate(flow.alerts, 1):
            text = outgoing(flow.text(alert.text, language), language, transliterate)
            where = f"alert {number} (before its {{fields}} are filled)"
            findings.append(_sms(flow, where, language, text, f"alert {number}"))
    return findings


@dataclass(frozen=True)
class Measure:
    """One text people receive in one language, measured as it leaves (the console's panel)."""

    where: str
    """Named as findings name it: "question 'met'", "closing", "alert 1", "schedule invite"."""
    line: int
    """Where to edit it in the file (0 for a flow built in code)."""
    written: str
    """The text as the file gives it in this language (or in the first, its fallback)."""
    sent: str
    """What leaves: `written` in GSM-7 letters for a transliterated language."""
    cost: SmsCost
    """The text as one SMS: encoding, units, segments."""
    screen: bool
    """Also a USSD screen (a question, the closing); else an SMS only (alerts, invitations)."""

    @property
    def screen_limit(self) -> int:
        """Units a USSD screen holds for this text: 182 in GSM-7, 80 with a letter outside it."""
        return ussd_limit(self.sent)

    @property
    def screen_fit(self) -> str:
        """ "whole" within what every phone shows, "long" past the 160 every phone shows whole
        but within the 182 a GSM-7 screen holds, "cut" past what the screen holds."""
        if self.cost.units > self.screen_limit:
            return "cut"
        return "long" if self.cost.units > USSD_SAFE_LIMIT else "whole"


@dataclass(frozen=True)
class Panel:
    """Every text of a flow in one language, in file order."""

    language: str
    transliterated: bool
    texts: tuple[Measure, ...]


def measure(flow: Flow, transliterate: Collection[str] = ()) -> list[Panel]:
    """Each language's USSD screens and SMS texts with their length, encoding, segments and the
    text as sent, for an admin to read beside the file (lint's findings say what is wrong;
    this says what every text costs, wrong or not). Alerts and invitations are measured before
    their {fields} are filled, as lint measures them."""
    panels = []
    for language in flow.languages:
        texts = [
            (f"question '{q.key}'", question_text(flow, q, language), True) for q in flow.questions
        ]
        texts.append(("closing", screen_text(flow, Screen("closing"), language), True))
        texts += [
            (f"alert {n}", flow.text(a.text, language), False) for n, a in enumerate(flow.alerts, 1)
        ]
        for name in ("invite", "remind"):
            written = flow.text(getattr(flow.schedule, name), language) if flow.schedule else ""
            if written:
                texts.append((f"schedule {name}", written, False))
        measured = []
        for where, written, screen in texts:
            place = "title" if where == "closing" and not flow.closing else where
            sent = outgoing(written, language, transliterate)
            line = flow.places.lines.get(f"{place} [{language}]") or flow.places.lines.get(place, 0)
            measured.append(Measure(where, line, written, sent, sms_cost(sent), screen))
        panels.append(Panel(language, language in transliterate, tuple(measured)))
    return panels


def _finding(
    flow: Flow, level: str, where: str, language: str, message: str, place: str = ""
) -> Finding:
    """A finding at the line of `place` (by default `where`) in `language`, else of the place."""
    place = place or where
    return Finding(level, where, language, message, flow.places.at(f"{place} [{language}]", place))


def _warnings(
    flow: Flow, where: str, language: str, messages: list[str], place: str = ""
) -> list[Finding]:
    return [_finding(flow, "warning", where, language, m, place) for m in messages]


def avoided(text: str, language: str) -> list[str]:
    """What `text` says that AVOID lists for `language`, each as "'word': what to write"."""
    folded = _searchable(text)
    return [
        f"'{word}': {advice}"
        for word, advice in AVOID.get(language, {}).items()
        if re.search(rf"(?<!\w){_pattern(word)}[sw]?(?!\w)", folded)
    ]


def _searchable(text: str) -> str:
    """Case, accents and tone marks set aside, ɛ ɔ ɲ ŋ as è ò ny ng: one spelling per word."""
    return fold(to_gsm7(text))


def _pattern(words: str) -> str:
    return r"\s+".join(re.escape(_searchable(word)) for word in words.split())


def _avoided_words(flow: Flow) -> Iterator[Finding]:
    """Each text's own wording per language; a missing text falls back to another language,
    whose words are not this language's slips."""
    for where, text in _texts(flow):
        for language, wording in text.items():
            yield from _warnings(flow, where, language, avoided(wording, language))


def _missing_texts(flow: Flow) -> Iterator[Finding]:
    """The title and prompts people would read in another language than theirs, or not at all:
    the loader accepts them (a text needs only the first language), and nothing else says so."""
    first = flow.languages[0]
    if not flow.title:
        message = "no title: menus, invitations and alerts name the flow with nothing"
        yield _finding(flow, "warning", "title", first, message)
    texts = [("title", flow.title)] if flow.title else []
    for question in flow.questions:
        where = f"question '{question.key}'"
        if question.prompt:
            texts.append((where, question.prompt))
        else:
            message = f"no prompt: the screen shows the key, '{flow.prompt(question, first)}'"
            yield _finding(flow, "warning", where, first, message)
    for (where, text), language in product(texts, flow.languages):
        if language not in text:
            message = f"no text in {language}: people reading {language} see the {first} one"
            yield _finding(flow, "warning", where, language, message)


def _texts(flow: Flow) -> Iterator[tuple[str, Text]]:
    """Every text of the flow that people read, named as the other findings name them."""
    yield "title", flow.title
    for question in flow.questions:
        yield f"question '{question.key}'", question.prompt
        for choice in question.choices:
            yield f"question '{question.key}' choice '{choice.value}'", choice.label
    yield "closing", flow.closing
    for number, alert in enumerate(flow.alerts, 1):
        yield f"alert {number}", alert.text
    if flow.schedule:
        yield "schedule invite", flow.schedule.invite
        yield "schedule remind", flow.schedule.remind
    for indicator in flow.indicators:
        yield f"indicator '{indicator.key}'", indicator.label


def _longest_error(kind: str, limit: object, language: str) -> str:
    reasons = {"choice": ["choice"], "number": ["number", "too_small", "too_big"]}
    candidates = reasons.get(kind, ["required", "too_long"])
    bound = limit if isinstance(limit, int) else 9999
    return max((error_text(Invalid(r, bound), language) for r in candidates), key=len)


def _ussd(screen: str, error: str) -> list[str]:
    """Screens are measured in the units phones count: GSM-7 septets or UCS-2 code units. A
    GSM-7 screen holds 182, of which 160 show whole on every phone; a UCS-2 one holds 80. The
    same text sent as an SMS (the SMS channel) costs its segments, said beside."""
    cost = sms_cost(screen)
    if cost.units > min(ussd_limit(screen), USSD_SAFE_LIMIT):
        return [f"USSD screen is {cost.units} characters, {_over(cost)}; {_sms_text(cost)}"]
    with_error = sms_cost(f"{screen}\n{error}")
    if error and with_error.units > ussd_limit(screen):
        return [
            f"with an error line the screen is {with_error.units} characters, {_over(with_error)}"
        ]
    return []


def _over(screen: SmsCost) -> str:
    """The USSD limit a screen of this cost passes, with the other one phones apply."""
    if screen.encoding != GSM7:
        return f"over the {USSD_UCS2_LIMIT} a screen holds with a letter outside GSM-7"
    if screen.units > USSD_GSM_LIMIT:
        return f"over the {USSD_GSM_LIMIT} a screen holds ({USSD_SAFE_LIMIT} show whole everywhere)"
    return f"over the {USSD_SAFE_LIMIT} every phone shows whole (a screen holds {USSD_GSM_LIMIT})"


def _sms(flow: Flow, where: str, language: str, text: str, place: str) -> Finding:
    cost = sms_cost(text)
    level = "warning" if cost.segments > 1 else "info"
    return _finding(flow, level, where, language, _sms_text(cost), place)


def _sms_text(cost: SmsCost) -> str:
    plural = "s" if cost.segments != 1 else ""
    return f"SMS {cost.encoding}, {cost.segments} segment{plural}, {cost.units} units"
