"""A supervisor's SMS, read as a command: MANQUANTS, DETAIL <code>, R <code> <text>, AIDE.

These words are keywords only in a supervisor's or a regional viewer's messages (the caller
decides who is one), with the matching rules of flows/keywords.py: case, accents and
punctuation aside, so `manquants.`, `Détail cscom-mlb` and `r CSCOM-MLB Bravo` all count.
MANQUANTS and AIDE must be the whole message, as STOP must; DETAIL and R lead their
arguments. A keyword without what it needs is a `Usage`, answered with how to write it.

A health worker's answer to coaching starts with `R` too (`coaching_reply`). "R A S" (rien à
signaler, common in Mali) is never read as one: it is an answer, as it always was.

Pure: no database, no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.keywords import KeywordTable, key, match

MISSING_WORDS = ("MANQUANTS", "MANQUANT", "MISSING")
DETAIL_WORDS = ("DETAIL", "DETAILS")
COACH_WORD = "R"
NOT_A_REPLY = "R A S"
"""Rien à signaler: an answer, not `R` followed by a text."""

_MISSING = frozenset(key(word) for word in MISSING_WORDS)
_DETAIL = frozenset(key(word) for word in DETAIL_WORDS)
_COACH = key(COACH_WORD)
_NOT_A_REPLY = key(NOT_A_REPLY)


@dataclass(frozen=True)
class Missing:
    """MANQUANTS: the expected CSComs that have not reported the current period."""


@dataclass(frozen=True)
class Detail:
    """DETAIL <code>: a CSCom's latest completed check-in."""

    code: str


@dataclass(frozen=True)
class Coach:
    """R <code> <text>: `text` to the CSCom's QI focal point(s)."""

    code: str
    text: str


@dataclass(frozen=True)
class Help:
    """AIDE / HELP (and configured synonyms): the supervisors' keywords."""


@dataclass(frozen=True)
class Usage:
    """DETAIL or R without what must follow: say how to write it."""

    keyword: str
    """"DETAIL" or "R"."""


Command = Missing | Detail | Coach | Help | Usage


def parse(text: str, table: KeywordTable) -> Command | None:
    """The command a supervisor's message holds, or None when it is not one (e.g. STOP, QI).

    `table` is the app's keyword table, so configured synonyms of AIDE work here too.
    """
    if key(text) in _MISSING:
        return Missing()
    if match(text, table) == "help":
        return Help()
    if key(text) == _NOT_A_REPLY:
        return None
    first, *rest = text.split() or [""]
    if key(first) in _DETAIL:
        return Detail(" ".join(rest)) if rest else Usage("DETAIL")
    if key(first) == _COACH:
        return _coach(rest)
    return None


def coaching_reply(text: str) -> str | None:
    """The text of `R <text>` (a health worker answering coaching), or None when it is not one."""
    first, *rest = text.split() or [""]
    if key(first) != _COACH or key(text) == _NOT_A_REPLY:
        return None
    return " ".join(rest) or None


def same_code(typed: str, code: str) -> bool:
    """Whether `typed` names the facility code `code`, case, accents and punctuation aside."""
    return bool(key(typed)) and key(typed) == key(code)


def _coach(words: list[str]) -> Coach | Usage:
    if len(words) < 2:
        return Usage(COACH_WORD)
    return Coach(words[0], " ".join(words[1:]))
