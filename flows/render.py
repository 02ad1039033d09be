"""Turn engine screens into the short texts people read, one function for every channel.

Lint measures the same strings the phones show, because it calls these same functions.
"""

from __future__ import annotations

from flows.definition import Flow, Question
from flows.engine import Invalid, Screen
from flows.messages import say


def question_text(flow: Flow, question: Question, language: str) -> str:
    """The prompt, then each choice numbered from 1 in file order, one per line."""
    lines = [flow.text(question.prompt, language)]
    lines += [f"{i} {flow.text(c.label, language)}" for i, c in enumerate(question.choices, 1)]
    return "\n".join(lines)


def error_text(error: Invalid, language: str) -> str:
    return say(f"invalid.{error.reason}", language, limit=error.limit)


def screen_text(flow: Flow, screen: Screen, language: str) -> str:
    """What the phone shows for `screen`: a refused input's reason comes first, then the question."""
    if screen.kind == "closing":
        return flow.text(flow.closing, language) or flow.text(flow.title, language)
    body = (
        question_text(flow, screen.question, language)
        if screen.kind == "question" and screen.question is not None
        else say("confirm", language)
    )
    if screen.error is None:
        return body
    return f"{error_text(screen.error, language)}\n{body}"


def menu_text(titles: list[str], language: str) -> str:
    lines = [say("menu", language)] + [f"{i} {t}" for i, t in enumerate(titles, 1)]
    return "\n".join(lines)
