"""SMS keywords (STOP, QI, AIDE...): recognised only when they are the whole message.

A keyword counts once case, accents, punctuation and spaces are set aside, so `Stop.`, `STOP!`,
`S T O P` and `arrêt` all opt out, while "Arrêt des CPN faute de vaccins" is an answer, not an
opt-out. The only keyword that may lead a longer message is the start keyword, followed by
the compact one-message answers (`QI 1 2 45 40 1 2 RAS`).
"""

from __future__ import annotations

from collections.abc import Mapping

from flows.engine import fold
from flows.smstext import to_gsm7

DEFAULT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "start": ("QI",),
    "stop": ("STOP", "ARRET", "ARRETER", "UNSUBSCRIBE"),
    "optin": ("START", "DEBUT", "DAMINE"),
    "help": ("AIDE", "HELP", "DEME", "?"),
    "fr": ("FR", "FRANCAIS", "FRENCH"),
    "bm": ("BM", "BAMANAN", "BAMBARA", "BAMANANKAN"),
}
ACTIONS = tuple(DEFAULT_KEYWORDS)
LEADING = ("start",)
"""The actions whose keyword may be followed by more words: the compact answers."""

KeywordTable = dict[str, str]
"""A keyword's key (see `key`) -> its action."""


def keyword_table(extra: Mapping[str, tuple[str, ...]] | None = None) -> KeywordTable:
    """Every keyword -> its action: the defaults plus configured synonyms (SMS_KEYWORDS)."""
    table: KeywordTable = {}
    for action, words in DEFAULT_KEYWORDS.items():
        for word in (*words, *(extra or {}).get(action, ())):
            if word_key := key(word):
                table[word_key] = action
    return table


def match(text: str, table: KeywordTable) -> str | None:
    """The action of the keyword that is the whole message, or None."""
    return table.get(key(text))


def leading(text: str, table: KeywordTable) -> tuple[str, list[str]] | None:
    """(action, the words after it) when the first word is a keyword that may lead, else None."""
    first, *rest = text.split() or [""]
    action = table.get(key(first))
    return (action, rest) if action in LEADING else None


def key(text: str) -> str:
    """What is left of `text` to compare: letters and digits, without case or accents.

    A keyword made only of punctuation (`?`) is compared as written, spaces aside.
    """
    folded = fold(to_gsm7(text))
    return "".join(c for c in folded if c.isalnum()) or "".join(folded.split())
