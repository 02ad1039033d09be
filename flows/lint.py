"""What a valid flow will cost and where its screens risk being cut, per language.

Validation (flows.loader) rejects flows that cannot work; lint reports ones that work badly:
a USSD screen longer than phones show, an SMS that costs several segments or doubles its
price by one letter outside GSM-7. It measures the exact strings people would receive. It
also warns on words a language's texts should not use (a French word in a Bambara text, a word
the glossary rejects), so wording is checked by rule rather than pinned by tests.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from itertools import product

from flows.definition import Flow, Text
from flows.engine import Invalid, Screen, fold
from flows.render import error_text, question_text, screen_text
from flows.smstext import USSD_SAFE_LIMIT, sms_cost, to_gsm7, ussd_limit


@dataclass(frozen=True)
class Finding:
    level: str  # "warning" or "info"
    where: str
    language: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.where} [{self.language}]: {self.message}"


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
    findings: list[Finding] = list(_avoided_words(flow))
    for question, language in product(flow.questions, flow.languages):
        screen = outgoing(question_text(flow, question, language), language, transliterate)
        worst = _longest_error(question.type, question.max or question.max_length, language)
        findings += _ussd(f"question '{question.key}'", language, screen, worst)
    for language in flow.languages:
        closing = outgoing(screen_text(flow, Screen("closing"), language), language, transliterate)
        findings += _ussd("closing", language, closing, "")
        findings.append(_sms("closing", language, closing))
        for number, alert in enumerate(flow.alerts, 1):
            text = outgoing(flow.text(alert.text, language), language, transliterate)
            findings.append(
                _sms(f"alert {number} (before its {{fields}} are filled)", language, text)
            )
    return findings


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
            for message in avoided(wording, language):
                yield Finding("warning", where, language, message)


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


def _ussd(where: str, language: str, screen: str, error: str) -> list[Finding]:
    """Screens are measured in the units phones count: GSM-7 septets or UCS-2 code units."""
    limit = min(ussd_limit(screen), USSD_SAFE_LIMIT)
    size = sms_cost(screen).units
    if size > limit:
        message = f"USSD screen is {size} characters (limit {limit})"
        return [Finding("warning", where, language, message)]
    total = sms_cost(f"{screen}\n{error}").units
    if error and total > ussd_limit(screen):
        message = f"with an error line the screen is {total} characters"
        return [Finding("warning", where, language, message)]
    return []


def _sms(where: str, language: str, text: str) -> Finding:
    cost = sms_cost(text)
    level = "warning" if cost.segments > 1 else "info"
    plural = "s" if cost.segments != 1 else ""
    return Finding(
        level,
        where,
        language,
        f"SMS {cost.encoding}, {cost.segments} segment{plural}, {cost.units} units",
    )
