"""What a valid flow will cost and where its screens risk being cut, per language.

Validation (flows.loader) rejects flows that cannot work; lint reports ones that work badly:
a USSD screen longer than phones show, an SMS that costs several segments or doubles its
price by one letter outside GSM-7. It measures the exact strings people would receive.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from itertools import product

from flows.definition import Flow
from flows.engine import Invalid, Screen
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


def lint(flow: Flow, transliterate: Collection[str] = ()) -> list[Finding]:
    findings: list[Finding] = []
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
