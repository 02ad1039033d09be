"""Turn engine screens into the short texts people read, one function for every channel.

Lint measures the same strings the phones show, because it calls these same functions.
"""

from __future__ import annotations

from collections.abc import Mapping

from flows.definition import Flow, Question
from flows.engine import Answer, CompactError, Invalid, Screen
from flows.messages import say
from flows.smstext import USSD_SAFE_LIMIT


def question_text(flow: Flow, question: Question, language: str) -> str:
    """The prompt, then each choice numbered from 1 in file order, one per line."""
    lines = [flow.prompt(question, language)]
    lines += [f"{i} {flow.text(c.label, language)}" for i, c in enumerate(question.choices, 1)]
    return "\n".join(lines)


def error_text(error: Invalid, language: str) -> str:
    return say(f"invalid.{error.reason}", language, limit=error.limit)


def screen_text(flow: Flow, screen: Screen, language: str) -> str:
    """What the phone shows for `screen`: a refused input's reason comes first, then the question."""
    if screen.kind == "closing":
        return flow.text(flow.closing, language) or flow.text(flow.title, language)
    if screen.kind == "question" and screen.question is not None:
        body = question_text(flow, screen.question, language)
        hinted = f"{body}\n{say('back_hint', language)}"
        if screen.hint_back and screen.error is None and len(hinted) <= USSD_SAFE_LIMIT:
            body = hinted  # once per session, where it costs least: 00 is news from here on
    else:
        body = confirmation_text(flow, screen.answers or {}, screen.page, language)
    if screen.error is None:
        return body
    return f"{error_text(screen.error, language)}\n{body}"


ANSWERS_ROOM = 110
"""Characters of answers a confirmation page shows at most: a long comment must leave the keys."""


def confirmation_text(flow: Flow, given: Mapping[str, Answer], page: int, language: str) -> str:
    """The answers about to be sent, then the keys: within one screen, else `2` shows the rest."""
    values = [
        _shown_value(flow, question, given[question.key], language)
        for question in flow.questions
        if question.key in given
    ]
    whole = say("confirm", language, answers=", ".join(values))
    if len(whole) <= USSD_SAFE_LIMIT:
        return whole
    fit = len(values)
    while fit > 1 and len(say("confirm.more", language, answers=", ".join(values[:fit]))) > (
        USSD_SAFE_LIMIT
    ):
        fit -= 1
    if page == 1:
        return say("confirm.more", language, answers=_short(", ".join(values[:fit]), ANSWERS_ROOM))
    return say("confirm.rest", language, answers=_short(", ".join(values[fit:]), ANSWERS_ROOM))


def _shown_value(flow: Flow, question: Question, value: Answer, language: str) -> str:
    """An answer as the person chose it: a choice's label, a number, the text typed."""
    for choice in question.choices:
        if choice.value == value:
            return flow.text(choice.label, language)
    return str(value)


def menu_text(titles: list[str], language: str) -> str:
    lines = [say("menu", language)] + [f"{i} {t}" for i, t in enumerate(titles, 1)]
    return "\n".join(lines)


def compact_error_text(flow: Flow, problem: CompactError, language: str) -> str:
    """Which answer of a one-message reply is wrong, and why; nothing was stored."""
    if problem.problem == "extra":
        return say("compact.extra", language, n=problem.expected)
    assert problem.question is not None
    prompt = _short(flow.prompt(problem.question, language))
    where = {"n": problem.position, "total": problem.expected, "prompt": prompt}
    if problem.problem == "missing":
        return say("compact.missing", language, **where)
    assert problem.error is not None
    return say("compact.invalid", language, reason=error_text(problem.error, language), **where)


def _short(prompt: str, limit: int = 40) -> str:
    """At most `limit` characters, cut at a word: enough to recognise the question."""
    return prompt if len(prompt) <= limit else prompt[: limit - 3].rsplit(" ", 1)[0] + "..."
