"""The flow engine: a pure function of (flow, state, input) -> (screen, new state).

It knows nothing of channels, HTTP, databases or queues, so USSD, SMS and the simulator all
walk a flow the same way, and it can be tested with plain values. Answers stay a draft in the
state until the person confirms; the caller stores them then, all together.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from flows.definition import Alert, Condition, Flow, Question

Answer = str | int
CONFIRM = "#confirm"
BACK_ANY = "00"
BACK_CHOICE = "0"
SUBMIT = "1"
MORE = "2"
"""On the confirmation screen: the rest of the answers, when they did not all fit."""
SKIP = ("", "-", ".")
NUMBER = re.compile(r"-?[0-9]{1,9}")
"""ASCII digits only, and at most nine (far inside answers.value_number, a BIGINT).

str.isdigit accepts '²', which int() refuses, and int() reads '٣' and fullwidth digits, which
no keypad here sends: all are "type a number", never an exception or a surprise value.
"""


@dataclass(frozen=True)
class State:
    """Where a person is in a flow. JSON-friendly via `to_dict` so it can live in a database row."""

    step: str
    """The key of the question on screen, or CONFIRM."""
    answers: Mapping[str, Answer] = field(default_factory=dict)
    trail: tuple[str, ...] = ()
    """The questions answered on the way here, for going back."""
    raw: Mapping[str, str] = field(default_factory=dict)
    """What the person typed for each answer, kept beside the typed value for audits."""

    def to_dict(self) -> dict:
        return {
            "step": self.step,
            "answers": dict(self.answers),
            "trail": list(self.trail),
            "raw": dict(self.raw),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> State:
        return cls(
            data["step"],
            dict(data.get("answers", {})),
            tuple(data.get("trail", ())),
            dict(data.get("raw", {})),
        )


@dataclass(frozen=True)
class Invalid:
    """Why an input was refused; `render` turns it into a short sentence in the person's language."""

    reason: Literal["choice", "number", "too_small", "too_big", "required", "too_long", "confirm"]
    limit: int | None = None


@dataclass(frozen=True)
class Screen:
    kind: Literal["question", "confirm", "closing"]
    question: Question | None = None
    error: Invalid | None = None
    answers: Mapping[str, Answer] | None = None
    """On a confirmation screen: what will be sent, so the person can check it."""
    page: int = 1
    """The confirmation's page: `2` shows the answers the first page had no room for."""
    hint_back: bool = False
    """Say once, on the second question, that `00` goes back."""


@dataclass(frozen=True)
class Submission:
    """What a confirmation produced: everything a channel must store and send, decided here.

    Channels apply it with one function (services/submissions.py), so no path that submits
    can forget a side effect another path performs.
    """

    answers: Mapping[str, Answer]
    """The answers that count (those of questions still asked)."""
    raw: Mapping[str, str]
    """What the person typed for each of them."""
    alerts: tuple[Alert, ...]
    """The flow's alerts whose conditions these answers meet, in file order."""


@dataclass(frozen=True)
class Outcome:
    state: State
    screen: Screen
    submission: Submission | None = None
    """Set once the person confirmed: the caller stores it now."""

    @property
    def submitted(self) -> bool:
        return self.submission is not None


def start(flow: Flow) -> Outcome:
    first = _next_question(flow, None, {})
    assert first is not None, "a valid flow has at least one question with no condition failing"
    return _ask(State(first.key), first)


def advance(flow: Flow, state: State, raw: str) -> Outcome:
    """Apply one input to the screen the person was shown."""
    entry = raw.strip()
    if is_back(flow, state, entry):
        return back(flow, state)
    if state.step == CONFIRM:
        return _confirm(flow, state, entry)
    question = flow.question(state.step)
    value = parse(flow, question, entry, answers(flow, state))
    if isinstance(value, Invalid):
        return _ask(state, question, value)
    given = (
        {**state.answers, question.key: value} if value is not None else _without(state, question)
    )
    raw_inputs = {**state.raw, question.key: entry}
    moved = State(state.step, given, (*state.trail, question.key), raw_inputs)
    return _forward(flow, moved, question)


def is_back(flow: Flow, state: State, entry: str) -> bool:
    """`00` goes back anywhere; `0` only where it cannot be an answer (choices, confirmation)."""
    entry = entry.strip()
    if entry == BACK_ANY:
        return True
    return entry == BACK_CHOICE and (
        state.step == CONFIRM or flow.question(state.step).type == "choice"
    )


def back(flow: Flow, state: State) -> Outcome:
    """One question back; on the first question, stay there."""
    if not state.trail:
        return _ask(state, flow.question(state.step))
    previous = state.trail[-1]
    return _ask(replace(state, step=previous, trail=state.trail[:-1]), flow.question(previous))


def current(flow: Flow, state: State) -> Outcome:
    """The screen for a stored state, to show again on resume."""
    if state.step == CONFIRM:
        return _confirmation(flow, state)
    return _ask(state, flow.question(state.step))


def answers(flow: Flow, state: State) -> dict[str, Answer]:
    """The answers that count: those of questions still asked, given the answers before them."""
    kept: dict[str, Answer] = {}
    for question in flow.questions:
        if question.key in state.answers and holds(question.ask_if, kept, flow):
            kept[question.key] = state.answers[question.key]
    return kept


def parse(flow: Flow, question: Question, entry: str, given: Mapping[str, Answer]):
    """The typed answer for `entry`, None for a skipped optional question, or Invalid."""
    if question.type == "choice":
        return _parse_choice(question, entry)
    if entry in SKIP and not question.required:
        return None
    if question.type == "number":
        return _parse_number(question, entry, given)
    if not entry:
        return Invalid("required")
    if question.max_length and len(entry) > question.max_length:
        return Invalid("too_long", question.max_length)
    return entry


def holds(conditions: tuple[Condition, ...], given: Mapping[str, Answer], flow: Flow) -> bool:
    """Every condition holds; a condition on an unanswered question does not."""
    return all(_holds(c, given, flow) for c in conditions)


def triggered_alerts(flow: Flow, final: Mapping[str, Answer]) -> list[Alert]:
    return [alert for alert in flow.alerts if holds(alert.when, final, flow)]


def submission(flow: Flow, state: State) -> Submission:
    """What confirming `state` submits: the answers that count and the alerts they raise."""
    final = answers(flow, state)
    raw = {key: state.raw.get(key, "") for key in final}
    return Submission(final, raw, tuple(triggered_alerts(flow, final)))


def fold(text: str) -> str:
    """Case- and accent-insensitive form, so 'oui', 'OUI' and 'Oui' all match a label."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# -- internals ----------------------------------------------------------------------------------


def _ask(state: State, question: Question, error: Invalid | None = None) -> Outcome:
    return Outcome(state, Screen("question", question, error, hint_back=len(state.trail) == 1))


def _without(state: State, question: Question) -> dict[str, Answer]:
    return {k: v for k, v in state.answers.items() if k != question.key}


def _forward(flow: Flow, state: State, after: Question) -> Outcome:
    following = _next_question(flow, after, answers(flow, state))
    if following is None:
        return _confirmation(flow, replace(state, step=CONFIRM))
    return _ask(replace(state, step=following.key), following)


def _next_question(flow: Flow, after: Question | None, given: Mapping[str, Answer]):
    start_at = 0 if after is None else flow.questions.index(after) + 1
    for question in flow.questions[start_at:]:
        if holds(question.ask_if, given, flow):
            return question
    return None


def _confirm(flow: Flow, state: State, entry: str) -> Outcome:
    if entry == SUBMIT:
        return Outcome(state, Screen("closing"), submission(flow, state))
    if entry == MORE:
        return _confirmation(flow, state, page=2)
    return _confirmation(flow, state, error=Invalid("confirm"))


def _confirmation(flow: Flow, state: State, page: int = 1, error: Invalid | None = None) -> Outcome:
    return Outcome(state, Screen("confirm", error=error, answers=answers(flow, state), page=page))


def choice_number(entry: str, count: int) -> int | None:
    """The option numbered `entry` among `count` (from 1), or None; menus use it too."""
    entry = entry.strip()
    return int(entry) if NUMBER.fullmatch(entry) and 1 <= int(entry) <= count else None


def _parse_choice(question: Question, entry: str) -> Answer | Invalid:
    number = choice_number(entry, len(question.choices))
    if number is not None:
        return question.choices[number - 1].value
    wanted = fold(entry)
    for choice in question.choices:
        if wanted and (wanted == fold(choice.value) or wanted in map(fold, choice.label.values())):
            return choice.value
    return Invalid("choice", len(question.choices))


def _parse_number(question: Question, entry: str, given: Mapping[str, Answer]) -> int | Invalid:
    digits = entry.replace(" ", "")
    low, high = _bound(question.min, given), _bound(question.max, given)
    if not NUMBER.fullmatch(digits) or (digits.startswith("-") and low is None):
        return Invalid("number")  # a minus only where a minimum says what it may reach
    value = int(digits)
    if low is not None and value < low:
        return Invalid("too_small", low)
    if high is not None and value > high:
        return Invalid("too_big", high)
    return value


def _bound(bound: int | str | None, given: Mapping[str, Answer]) -> int | None:
    if isinstance(bound, str):
        value = given.get(bound)
        return value if isinstance(value, int) else None
    return bound


def _holds(condition: Condition, given: Mapping[str, Answer], flow: Flow) -> bool:
    if condition.key not in given:
        return False
    actual = given[condition.key]
    numeric = flow.question(condition.key).type == "number"

    def typed(operand: str) -> Answer:
        return int(operand) if numeric else operand

    if condition.op == "in":
        return actual in {typed(o) for o in condition.operand}
    operand = typed(str(condition.operand))
    comparisons = {
        "eq": actual == operand,
        "ne": actual != operand,
    }
    if condition.op in comparisons:
        return comparisons[condition.op]
    if not numeric:
        return False
    return {
        "lt": actual < operand,
        "le": actual <= operand,
        "gt": actual > operand,
        "ge": actual >= operand,
    }[condition.op]


@dataclass(frozen=True)
class CompactError:
    """Why a one-message answer list was refused, and at which answer of the flow (1-based)."""

    position: int
    """The answer's rank among the questions asked (a last text answer may span many words)."""
    problem: Literal["invalid", "missing", "extra"]
    question: Question | None = None
    error: Invalid | None = None
    expected: int = 0
    """How many answers the flow asks, given the answers before the problem (`ask_if`)."""


def answer_all(flow: Flow, entries: list[str]) -> State | CompactError:
    """All answers at once (the SMS compact form), validated as a whole, as a confirmed State.

    Entries answer the questions that are asked, in order; a text question with nothing
    askable after it takes the rest of the message, spaces included.
    """
    state = State(CONFIRM)
    used = 0
    rank = 0
    for index, question in enumerate(flow.questions):
        if not holds(question.ask_if, state.answers, flow):
            continue
        rank += 1
        if used >= len(entries):
            if question.required:
                return CompactError(rank, "missing", question, expected=_asked(flow, state))
            continue
        entry = entries[used]
        used += 1
        if question.type == "text" and not _askable_after(flow, index, state.answers):
            entry, used = " ".join(entries[used - 1 :]), len(entries)
        value = parse(flow, question, entry, state.answers)
        if isinstance(value, Invalid):
            return CompactError(rank, "invalid", question, value, expected=_asked(flow, state))
        if value is not None:
            state = replace(
                state,
                answers={**state.answers, question.key: value},
                raw={**state.raw, question.key: entry},
                trail=(*state.trail, question.key),
            )
    if used < len(entries):
        return CompactError(rank + 1, "extra", expected=rank)
    return state


def _asked(flow: Flow, state: State) -> int:
    """How many questions are asked given the answers so far (a later `ask_if` may change it)."""
    return sum(holds(q.ask_if, state.answers, flow) for q in flow.questions)


def _askable_after(flow: Flow, index: int, given: Mapping[str, Answer]) -> bool:
    return any(holds(q.ask_if, given, flow) for q in flow.questions[index + 1 :])
