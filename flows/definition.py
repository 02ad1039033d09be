"""The flow format as immutable Python values.

A flow file (YAML, written by admins) is loaded into these dataclasses once per published
version; the engine, the renderer and lint only ever see these values, never YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

Text = dict[str, str]
"""A text in several languages, keyed by language code (fr, bm)."""

QuestionType = Literal["choice", "number", "text"]
OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in")


@dataclass(frozen=True)
class Condition:
    """`answers[key] <op> operand`; data, never evaluated code."""

    key: str
    op: str
    operand: str | tuple[str, ...]


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text


@dataclass(frozen=True)
class Question:
    key: str
    type: QuestionType
    prompt: Text
    choices: tuple[Choice, ...] = ()
    min: int | str | None = None
    """An integer, or the key of an earlier number question whose answer is the bound."""
    max: int | str | None = None
    max_length: int | None = None
    required: bool = True
    ask_if: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Alert:
    when: tuple[Condition, ...]
    notify: str
    text: Text
    urgent: bool = False


@dataclass(frozen=True)
class Schedule:
    every: Literal["day", "week", "month"]
    opens: str
    per: Literal["facility", "worker"] = "facility"
    roles: tuple[str, ...] = ()
    remind_after: tuple[timedelta, ...] = ()
    escalate_after: timedelta | None = None
    invite: Text = field(default_factory=dict)
    """The invitation when a period opens; empty: the service's own short text."""
    remind: Text = field(default_factory=dict)
    """The reminder while the check-in is still open; empty: the service's own short text."""


SCHEDULE_FIELDS = ("facility", "name", "period", "flow", "code")
"""What an invitation or a reminder may name: the person's CSCom and name, the period's short
label (S49), the flow's title and the USSD code to dial."""


RUN_CHART_RULES = ("anhoej", "ihi")
"""Anhøj & Olesen 2014 (the default) or Perla, Provost & Murray 2011: see supervision.runchart."""
DEFAULT_BASELINE = 12
"""Points an indicator's median is taken from unless it says `baseline: N`."""


@dataclass(frozen=True)
class Indicator:
    """What a run chart follows per facility: numerator over denominator as a percent, or the
    numerator alone as a count; `rules` names the run-chart rule set (supervision.runchart)."""

    key: str
    label: Text
    """Short: it goes into supervisors' SMS."""
    numerator: str
    """The key of a number question."""
    denominator: str | None = None
    rules: Literal["anhoej", "ihi"] = "anhoej"
    baseline: int = DEFAULT_BASELINE


@dataclass(frozen=True)
class Places:
    """Where a flow's parts are written in its file, so lint's warnings point at a line as the
    loader's errors do. A place is named as lint names it ("title", "question 'met'", "alert 1"),
    one language's text of it with the language after it ("question 'met' [bm]"); "flow" is
    where the flow itself starts."""

    file: str = ""
    lines: dict[str, int] = field(default_factory=dict)

    def at(self, *places: str) -> str:
        """The "file:line" of the first of `places` the file has, else of the flow itself; ""
        for a flow built without a file."""
        if not self.file:
            return ""
        line = next((self.lines[p] for p in places if p in self.lines), self.lines.get("flow", 1))
        return f"{self.file}:{line}"


@dataclass(frozen=True)
class Flow:
    key: str
    title: Text
    languages: tuple[str, ...]
    questions: tuple[Question, ...]
    closing: Text = field(default_factory=dict)
    alerts: tuple[Alert, ...] = ()
    schedule: Schedule | None = None
    indicators: tuple[Indicator, ...] = ()
    places: Places = field(default_factory=Places, compare=False, repr=False)
    """Where the file that defined the flow says each thing; not part of what the flow means."""

    def question(self, key: str) -> Question:
        return next(q for q in self.questions if q.key == key)

    def prompt(self, question: Question, language: str) -> str:
        """The question's prompt; a question written without one shows its key."""
        return self.text(question.prompt, language) or question.key.replace("_", " ").capitalize()

    def text(self, text: Text, language: str) -> str:
        """The text in `language`, else in the flow's first language (the contract's fallback)."""
        return text.get(language) or text.get(self.languages[0]) or next(iter(text.values()), "")
