"""What a step answers: the text for the person, and what the step left for the outbox."""

from __future__ import annotations

from dataclasses import dataclass

from config import Settings
from flows.lint import outgoing


@dataclass(frozen=True)
class Reply:
    text: str
    end: bool


@dataclass(frozen=True)
class Step:
    """A reply, and how many outbox rows the step wrote (the caller nudges the outbox)."""

    reply: Reply
    messages: int = 0


def make_reply(settings: Settings, text: str, language: str, end: bool) -> Reply:
    """Every text for a person leaves through here, spelt for the language's SMS and USSD."""
    return Reply(outgoing(text, language, settings.transliterate), end=end)
