"""Load and validate flow files, reporting every problem with its file, line and question.

Admins write these files by hand, so one run should list every mistake at once, each with
where it is. Scalars are read as the text the admin typed and converted by the schema, so
YAML 1.1 surprises (`value: no` becoming False, `08:00` becoming 480) cannot happen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn

import yaml

from flows import templates
from flows.definition import (
    DEFAULT_BASELINE,
    OPERATORS,
    RUN_CHART_RULES,
    SCHEDULE_FIELDS,
    Alert,
    Choice,
    Condition,
    Flow,
    Indicator,
    Places,
    Question,
    Schedule,
    Text,
)

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}$")
DURATION_PATTERN = re.compile(r"^([0-9]+)([dhm])$")
INTEGER_PATTERN = re.compile(r"-?[0-9]+")
"""ASCII digits only: Python's int() and \\d also take '٣' and other scripts' digits."""
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PLACEHOLDERS = {"facility", "name", "phone", "period", "flow"}
MAX_SOURCE_BYTES = 200_000
MAX_INDICATOR_LABEL = 20


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str
    question: str | None = None

    def __str__(self) -> str:
        where = f" question '{self.question}':" if self.question else ""
        return f"{self.file}:{self.line}:{where} {self.message}"


class FlowError(ValueError):
    """A flow file that cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_flow(source: str, filename: str = "<flow>") -> Flow:
    """Parse and validate a flow file's text; raise FlowError listing every problem."""
    if len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        raise FlowError([Problem(filename, 1, f"file is larger than {MAX_SOURCE_BYTES} bytes")])
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        reason = getattr(exc, "problem", None) or str(exc)
        return _fail(Problem(filename, line, f"not valid YAML: {reason}"))
    if root is None:
        return _fail(Problem(filename, 1, "the file is empty"))
    reader = _Reader(filename)
    flow = reader.flow(root)
    if reader.problems or flow is None:
        raise FlowError(reader.problems)
    return flow


def _fail(problem: Problem) -> NoReturn:
    raise FlowError([problem])


Node = yaml.Node


class _Reader:
    """Walks the YAML node tree, building the Flow and collecting problems as it goes."""

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[Problem] = []
        self.languages: tuple[str, ...] = ()
        self.question: str | None = None
        self.lines: dict[str, int] = {}

    def error(self, node: Node, message: str) -> None:
        self.problems.append(Problem(self.filename, _line(node), message, self.question))

    def place(self, name: str, node: Node, text: Node | None = None) -> None:
        """Remember where `name` is written, and each language of its `text` (where a missing
        language would go: the text itself), for lint's warnings (flows.definition.Places)."""
        self.lines[name] = _line(node)
        for language in self.languages if text is not None else ():
            self.lines[f"{name} [{language}]"] = _line(_language_node(text, language))

    # -- generic shapes -------------------------------------------------------------------------

    def mapping(self, node: Node, what: str, allowed: set[str]) -> dict[str, Node] | None:
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what} must be a mapping (key: value)")
            return None
        result: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                self.error(key_node, f"{what}: keys must be plain words")
            elif key in result:
                self.error(key_node, f"{what}: '{key}' is given twice")
            elif allowed and key not in allowed:
                expected = ", ".join(sorted(allowed))
                self.error(key_node, f"{what}: unknown field '{key}' (expected one of: {expected})")
            else:
                result[key] = value_node
        return result

    def sequence(self, node: Node, what: str) -> list[Node]:
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        self.error(node, f"{what} must be a list")
        return []

    def scalar(self, node: Node, what: str) -> str | None:
        if isinstance(node, yaml.ScalarNode):
            return node.value
        self.error(node, f"{what} must be a single value")
        return None

    def key(self, node: Node, what: str) -> str | None:
        value = self.scalar(node, what)
        if value is not None and not KEY_PATTERN.match(value):
            self.error(node, f"{what} '{value}' must be lower-case letters, digits and _")
            return None
        return value

    def integer(self, node: Node, what: str) -> int | None:
        value = self.scalar(node, what)
        if value is None:
            return None
        if not INTEGER_PATTERN.fullmatch(value):
            self.error(node, f"{what} must be a whole number, not '{value}'")
            return None
        return int(value)

    def boolean(self, node: Node, what: str) -> bool | None:
        value = (self.scalar(node, what) or "").lower()
        if value in ("true", "yes"):
            return True
        if value in ("false", "no"):
            return False
        self.error(node, f"{what} must be true or false")
        return None

    def duration(self, node: Node, what: str) -> timedelta | None:
        value = self.scalar(node, what) or ""
        match = DURATION_PATTERN.match(value)
        if not match:
            self.error(node, f"{what} must look like 1d, 12h or 30m, not '{value}'")
            return None
        unit = {"d": "days", "h": "hours", "m": "minutes"}[match.group(2)]
        return timedelta(**{unit: int(match.group(1))})

    def text(self, node: Node, what: str) -> Text:
        """A text per language; a plain string counts as the default language's text."""
        if isinstance(node, yaml.ScalarNode):
            if not node.value.strip():
                self.error(node, f"{what} is empty")
                return {}
            return {self.languages[0]: node.value} if self.languages else {}
        fields = self.mapping(node, what, set(self.languages))
        if fields is None:
            return {}
        text = {lang: v for lang, n in fields.items() if (v := self.scalar(n, f"{what}.{lang}"))}
        if self.languages and self.languages[0] not in text:
            self.error(node, f"{what} has no text in the default language '{self.languages[0]}'")
        return text

    def template(self, node: Node, what: str, allowed: set[str]) -> Text:
        """A text whose {fields} are filled when it is sent, checked by the formatter that fills it."""
        text = self.text(node, what)
        for lang, value in text.items():
            where = _language_node(node, lang)
            for problem in templates.check(value, allowed):
                self.error(where, f"{what} ({lang}): {problem}")
        return text

    # -- the flow -------------------------------------------------------------------------------

    def flow(self, root: Node) -> Flow | None:
        allowed = {
            "key",
            "title",
            "languages",
            "questions",
            "alerts",
            "schedule",
            "closing",
            "indicators",
        }
        fields = self.mapping(root, "the flow", allowed)
        if fields is None:
            return None
        self.place("flow", root)
        for required in ("key", "languages", "questions"):
            if required not in fields:
                self.error(root, f"the flow needs a '{required}'")
        self.languages = self.language_list(fields.get("languages"))
        if not self.languages:
            return None
        key = self.key(fields["key"], "key") if "key" in fields else None
        title = self.flow_text(fields, "title")
        questions = self.questions(fields.get("questions"))
        self.question = None
        alerts = (
            tuple(
                alert
                for number, node in enumerate(self.sequence(fields["alerts"], "alerts"), 1)
                if (alert := self.alert(node, questions, f"alert {number}")) is not None
            )
            if "alerts" in fields
            else ()
        )
        schedule = self.schedule(fields["schedule"]) if "schedule" in fields else None
        closing = self.flow_text(fields, "closing")
        indicators = (
            self.indicators(fields["indicators"], questions) if "indicators" in fields else ()
        )
        if key is None or not questions:
            return None
        places = Places(self.filename, self.lines)
        return Flow(
            key, title, self.languages, questions, closing, alerts, schedule, indicators, places
        )

    def flow_text(self, fields: dict[str, Node], name: str) -> Text:
        """The flow's `name` text (title, closing), if given, with where it is written."""
        if name not in fields:
            return {}
        self.place(name, fields[name], fields[name])
        return self.text(fields[name], name)

    def language_list(self, node: Node | None) -> tuple[str, ...]:
        if node is None:
            return ()
        nodes = self.sequence(node, "languages")
        if not nodes:
            self.error(node, "languages must list at least one language, the default first")
        languages = []
        for lang_node in nodes:
            lang = self.scalar(lang_node, "languages")
            if lang is not None and not LANGUAGE_PATTERN.match(lang):
                self.error(lang_node, f"language '{lang}' must be a 2 or 3 letter code such as fr")
            elif lang is not None:
                languages.append(lang)
        return tuple(languages)

    def questions(self, node: Node | None) -> tuple[Question, ...]:
        if node is None:
            return ()
        nodes = self.sequence(node, "questions")
        if not nodes:
            self.error(node, "questions must list at least one question")
        questions: list[Question] = []
        for question_node in nodes:
            question = self.one_question(question_node, questions)
            if question is not None:
                questions.append(question)
        return tuple(questions)

    def one_question(self, node: Node, earlier: list[Question]) -> Question | None:
        self.question = _peek_key(node)
        allowed = {"key", "type", "prompt", "choices", "min", "max", "max_length"}
        fields = self.mapping(node, "a question", allowed | {"required", "ask_if"})
        if fields is None:
            return None
        if "key" not in fields:
            self.error(node, "a question needs a 'key'")
            return None
        key = self.key(fields["key"], "key")
        if key is None:
            return None
        self.question = key
        if any(q.key == key for q in earlier):
            self.error(fields["key"], f"the key '{key}' is already used by an earlier question")
        kind = self.scalar(fields["type"], "type") if "type" in fields else None
        if kind not in ("choice", "number", "text"):
            self.error(fields.get("type", node), "type must be choice, number or text")
            return None
        # DESIGN.md's own example has a question without a prompt: the key stands in for it.
        prompt = self.text(fields["prompt"], "prompt") if "prompt" in fields else {}
        self.place(f"question '{key}'", node, fields.get("prompt"))
        self.fields_only_for(fields, kind)
        choices = self.choices(fields["choices"]) if "choices" in fields else ()
        if kind == "choice" and not choices:
            self.error(node, "a choice question needs 'choices'")
        numbers = {q.key for q in earlier if q.type == "number"}
        bounds = {b: self.bound(fields[b], b, numbers) for b in ("min", "max") if b in fields}
        max_length = (
            self.integer(fields["max_length"], "max_length") if "max_length" in fields else None
        )
        if max_length is not None and max_length < 1:
            self.error(fields["max_length"], "max_length must be at least 1")
        required = self.boolean(fields["required"], "required") if "required" in fields else True
        ask_if = self.conditions(fields["ask_if"], "ask_if", earlier) if "ask_if" in fields else ()
        return Question(
            key,
            kind,
            prompt,
            choices,
            bounds.get("min"),
            bounds.get("max"),
            max_length,
            required is not False,
            ask_if,
        )

    def fields_only_for(self, fields: dict[str, Node], kind: str) -> None:
        only = {"choices": "choice", "min": "number", "max": "number", "max_length": "text"}
        for name, for_kind in only.items():
            if name in fields and kind != for_kind:
                self.error(fields[name], f"'{name}' applies only to {for_kind} questions")

    def choices(self, node: Node) -> tuple[Choice, ...]:
        choices: list[Choice] = []
        for choice_node in self.sequence(node, "choices"):
            fields = self.mapping(choice_node, "a choice", {"value", "label"})
            if fields is None:
                continue
            if "value" not in fields or "label" not in fields:
                self.error(choice_node, "a choice needs a 'value' and a 'label'")
                continue
            value = self.scalar(fields["value"], "value")
            if value is None:
                continue
            if any(c.value == value for c in choices):
                self.error(fields["value"], f"the choice value '{value}' is used twice")
            self.place(f"question '{self.question}' choice '{value}'", choice_node, fields["label"])
            choices.append(Choice(value, self.text(fields["label"], "label")))
        return tuple(choices)

    def bound(self, node: Node, what: str, numbers: set[str]) -> int | str | None:
        """An integer, or the key of an earlier number question (numerator <= denominator)."""
        value = self.scalar(node, what)
        if value is not None and KEY_PATTERN.match(value):
            if value not in numbers:
                self.error(node, f"{what} '{value}' is not an earlier number question")
                return None
            return value
        return self.integer(node, what)

    def conditions(self, node: Node, what: str, questions: list[Question] | tuple[Question, ...]):
        fields = self.mapping(node, what, set())
        if fields is None:
            return ()
        known = {q.key: q for q in questions}
        result: list[Condition] = []
        for key, value_node in fields.items():
            target = known.get(key)
            if target is None:
                self.error(
                    value_node, f"{what} refers to '{key}', which is not an earlier question"
                )
                continue
            condition = self.condition(key, value_node, what, target)
            if condition is not None:
                result.append(condition)
        return tuple(result)

    def condition(self, key: str, node: Node, what: str, target: Question) -> Condition | None:
        if isinstance(node, yaml.ScalarNode):
            op, operand_node = "eq", node
        else:
            fields = self.mapping(node, f"{what}.{key}", set(OPERATORS) - {"eq"})
            if not fields or len(fields) != 1:
                if fields is not None:
                    self.error(node, f"{what}.{key} needs exactly one of: lt, le, gt, ge, ne, in")
                return None
            op, operand_node = next(iter(fields.items()))
        if op == "in":
            values = tuple(
                v for n in self.sequence(operand_node, "in") if (v := self.scalar(n, "in"))
            )
        else:
            values = (self.scalar(operand_node, f"{what}.{key}") or "",)
        for value in values:
            self.check_operand(operand_node, target, op, value)
        return Condition(key, op, values if op == "in" else values[0])

    def check_operand(self, node: Node, target: Question, op: str, value: str) -> None:
        if target.type == "choice" and value not in {c.value for c in target.choices}:
            self.error(node, f"'{value}' is not one of the choices of '{target.key}'")
        elif target.type == "number" and not INTEGER_PATTERN.fullmatch(value):
            self.error(node, f"'{target.key}' is a number question: compare it with a number")
        elif target.type != "number" and op in ("lt", "le", "gt", "ge"):
            self.error(node, f"'{op}' compares numbers, and '{target.key}' is not a number")

    def alert(self, node: Node, questions: tuple[Question, ...], place: str) -> Alert | None:
        fields = self.mapping(node, "an alert", {"when", "notify", "text", "urgent"})
        if fields is None:
            return None
        if "when" not in fields or "text" not in fields:
            self.error(node, "an alert needs 'when' and 'text'")
            return None
        when = self.conditions(fields["when"], "when", questions)
        notify = self.scalar(fields["notify"], "notify") if "notify" in fields else "supervisor"
        if notify != "supervisor":
            self.error(fields.get("notify", node), "notify must be 'supervisor'")
        allowed = PLACEHOLDERS | {q.key for q in questions}
        text = self.template(fields["text"], "alert text", allowed)
        self.place(place, node, fields["text"])
        urgent = self.boolean(fields["urgent"], "urgent") if "urgent" in fields else False
        return Alert(when, "supervisor", text, bool(urgent))

    def indicators(self, node: Node, questions: tuple[Question, ...]) -> tuple[Indicator, ...]:
        found: list[Indicator] = []
        for item in self.sequence(node, "indicators"):
            indicator = self.indicator(item, {q.key for q in questions if q.type == "number"})
            if indicator is not None and any(i.key == indicator.key for i in found):
                self.error(item, f"the indicator key '{indicator.key}' is used twice")
            elif indicator is not None:
                found.append(indicator)
        return tuple(found)

    def indicator(self, node: Node, numbers: set[str]) -> Indicator | None:
        """An indicator; its label is short because it goes into supervisors' SMS."""
        allowed = {"key", "label", "numerator", "denominator", "rules", "baseline"}
        fields = self.mapping(node, "an indicator", allowed)
        if fields is None:
            return None
        if not {"key", "label", "numerator"} <= fields.keys():
            self.error(node, "an indicator needs a 'key', a 'label' and a 'numerator'")
            return None
        key = self.key(fields["key"], "indicator key")
        label = self.text(fields["label"], "indicator label")
        self.place(f"indicator '{key}'", node, fields["label"])
        for lang, value in label.items():
            if len(value) > MAX_INDICATOR_LABEL:
                where = _language_node(fields["label"], lang)
                self.error(where, f"indicator label ({lang}) is longer than {MAX_INDICATOR_LABEL}")
        numerator = self.number_question(fields["numerator"], "numerator", numbers)
        denominator = (
            self.number_question(fields["denominator"], "denominator", numbers)
            if "denominator" in fields
            else None
        )
        if denominator is not None and denominator == numerator:
            self.error(fields["denominator"], "the denominator must differ from the numerator")
        rules = self.scalar(fields["rules"], "rules") if "rules" in fields else "anhoej"
        if rules not in RUN_CHART_RULES:
            self.error(fields["rules"], "rules must be anhoej or ihi")
        baseline = (
            self.integer(fields["baseline"], "baseline")
            if "baseline" in fields
            else DEFAULT_BASELINE
        )
        if baseline is not None and baseline < 1:
            self.error(fields["baseline"], "baseline must be at least 1")
            baseline = None
        if key is None or numerator is None or rules not in RUN_CHART_RULES or baseline is None:
            return None
        return Indicator(key, label, numerator, denominator, rules, baseline)

    def number_question(self, node: Node, what: str, numbers: set[str]) -> str | None:
        value = self.scalar(node, what)
        if value is not None and value not in numbers:
            self.error(node, f"{what} '{value}' is not a number question")
            return None
        return value

    def schedule(self, node: Node) -> Schedule | None:
        allowed = {
            "every",
            "opens",
            "per",
            "roles",
            "remind_after",
            "escalate_after",
            "invite",
            "remind",
        }
        fields = self.mapping(node, "schedule", allowed)
        if fields is None:
            return None
        every = self.scalar(fields["every"], "every") if "every" in fields else None
        if every not in ("day", "week", "month"):
            self.error(fields.get("every", node), "schedule.every must be day, week or month")
            return None
        opens = self.scalar(fields["opens"], "opens") if "opens" in fields else None
        if opens is None or not _valid_opening(every, opens):
            example = {"day": '"08:00"', "week": '"mon 08:00"', "month": '"1 08:00"'}[every]
            self.error(fields.get("opens", node), f"schedule.opens must look like {example}")
            return None
        per = self.scalar(fields["per"], "per") if "per" in fields else "facility"
        if per not in ("facility", "worker"):
            self.error(fields["per"], "schedule.per must be facility or worker")
            return None
        roles_node = fields.get("roles")
        roles = (
            [self.scalar(n, "roles") for n in self.sequence(roles_node, "roles")]
            if roles_node
            else []
        )
        remind_node = fields.get("remind_after")
        reminders = (
            [self.duration(n, "remind_after") for n in self.sequence(remind_node, "remind_after")]
            if remind_node
            else []
        )
        escalate = (
            self.duration(fields["escalate_after"], "escalate_after")
            if "escalate_after" in fields
            else None
        )
        invite, remind = (
            self.template(fields[name], f"schedule.{name}", set(SCHEDULE_FIELDS))
            if name in fields
            else {}
            for name in ("invite", "remind")
        )
        for name in ("invite", "remind"):
            if name in fields:
                self.place(f"schedule {name}", fields[name], fields[name])
        return Schedule(
            every,
            opens,
            per,
            tuple(r for r in roles if r),
            tuple(r for r in reminders if r),
            escalate,
            invite,
            remind,
        )


def _line(node: Node) -> int:
    """The line `node` starts on, counted from 1 as editors do."""
    return node.start_mark.line + 1


def _language_node(node: Node, language: str) -> Node:
    """Where one language's text is written, so a problem in it points at its own line."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == language:
                return value_node
    return node


def _peek_key(node: Node) -> str | None:
    """The question's key before its fields are checked, so every problem can name it."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == "key" and isinstance(
                value_node, yaml.ScalarNode
            ):
                return value_node.value
    return None


def _valid_opening(every: str, opens: str) -> bool:
    parts = opens.split()
    time_ok = bool(parts) and re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", parts[-1]) is not None
    if every == "day":
        return len(parts) == 1 and time_ok
    if every == "week":
        return len(parts) == 2 and parts[0] in WEEKDAYS and time_ok
    day = parts[0] if len(parts) == 2 else ""
    return re.fullmatch(r"[0-9]{1,2}", day) is not None and 1 <= int(day) <= 28 and time_ok
