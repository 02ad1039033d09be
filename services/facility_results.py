"""One facility's results: its check-ins and answers over time, and each indicator's run chart.

The charts read their points exactly as the weekly digest does (services.digests'
`history_periods` and `indicator_rows`, then supervision.indicators' `points` and `analysis`), so
a signal the digest named by SMS is the one the console's chart marks. Everything is read on
the caller's connection (the ORM session's by default): the console's phone runs a trial
check-in in a transaction it rolls back, and previews its charts here before it does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from flows.definition import Flow as FlowDefinition
from flows.definition import Indicator
from flows.engine import triggered_alerts
from flows.schedule import short_period
from models import Answer, Checkin, Facility, Flow, Worker, db
from services.digests import history_periods, indicator_rows, short_alert
from services.flow_store import active_flows, definition
from supervision.indicators import Point, analysis, points

LANGUAGE = "fr"
"""The console's language for flow texts (prompts, choice labels, indicator labels)."""
ANSWER_COLUMNS = 12
"""Check-ins per flow on a facility's page, newest first: the roll-up's twelve periods."""


# -- run charts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One period on a chart's axis; `point` is None when the facility has no usable answer
    for it (no check-in, a number skipped, a zero denominator): a gap, never a zero."""

    period: str
    point: Point | None

    @property
    def short(self) -> str:
        return short_period(self.period)


@dataclass(frozen=True)
class ChartSignal:
    """A signal of supervision.runchart, its points named by period."""

    rule: str
    direction: str | None
    periods: tuple[str, ...]
    short: str
    """The flows.messages key of its SMS name in the digest (supervision.signal.up, ...)."""


@dataclass(frozen=True)
class IndicatorChart:
    """What a run chart of one indicator at one facility shows (admin/charts.py draws it)."""

    flow_key: str
    flow_title: str
    key: str
    label: str
    percent: bool
    """A share in percent (numerator over denominator), else a count."""
    rules: str
    """The rule set: anhoej or ihi."""
    slots: tuple[Slot, ...]
    """Oldest first, from the facility's first point to the flow's latest period."""
    median: Fraction | None
    baseline: tuple[str, ...]
    """The periods of the points the median is taken from (the indicator's first `baseline`)."""
    useful: int
    longest_run: int
    crossings: int
    signals: tuple[ChartSignal, ...]

    @property
    def points(self) -> tuple[Point, ...]:
        return tuple(slot.point for slot in self.slots if slot.point is not None)


def facility_charts(
    facility_id: int, connection: sa.Connection | None = None, language: str = LANGUAGE
) -> list[IndicatorChart]:
    """A run chart per indicator of each current flow, for one facility (unknown: none).

    Read on `connection` (default: the ORM session's), so uncommitted rows of the caller's
    transaction, a trial check-in included, are on the charts.
    """
    connection = connection or db.session.connection()
    code = connection.scalar(sa.select(Facility.code).where(Facility.id == facility_id))
    if code is None:
        return []
    this_facility = sa.select(Facility.id).where(Facility.id == facility_id)
    charts = []
    for active in active_flows():
        flow = definition(active.version_id)
        if not flow.indicators:
            continue
        periods = history_periods(connection, active.flow_id, None)
        rows = indicator_rows(connection, active.flow_id, flow, periods, this_facility)
        for indicator in flow.indicators:
            series = points(indicator, rows).get(code, [])
            charts.append(_chart(flow, indicator, series, periods, language))
    return charts


def _chart(
    flow: FlowDefinition,
    indicator: Indicator,
    series: list[Point],
    periods: list[str],
    language: str,
) -> IndicatorChart:
    found = analysis(indicator, series)
    axis = sorted(periods)
    axis = axis[axis.index(series[0].period) :] if series else []
    by_period = {point.period: point for point in series}
    return IndicatorChart(
        flow_key=flow.key,
        flow_title=flow.text(flow.title, language),
        key=indicator.key,
        label=flow.text(indicator.label, language),
        percent=indicator.denominator is not None,
        rules=indicator.rules,
        slots=tuple(Slot(period, by_period.get(period)) for period in axis),
        median=found.median,
        baseline=tuple(point.period for point in series[: indicator.baseline]),
        useful=found.useful,
        longest_run=found.longest_run,
        crossings=found.crossings,
        signals=tuple(
            ChartSignal(
                signal.rule,
                signal.direction,
                tuple(series[index].period for index in signal.points),
                signal.short,
            )
            for signal in found.signals
        ),
    )


# -- answers over time -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckinColumn:
    """One check-in of a facility's answers table."""

    id: int
    period: str
    status: str
    """open, completed or missed."""
    by: str | None
    """Who completed it (or, for a per-worker check-in, whose it is)."""
    channel: str | None
    completed_at: datetime | None
    alerts: tuple[str, ...]
    """The alerts its answers raised, in short (as the digest names them)."""

    @property
    def short(self) -> str:
        return short_period(self.period)


@dataclass(frozen=True)
class AnswerLine:
    key: str
    prompt: str
    values: tuple[str | None, ...]
    """One per column: the answer as a reader says it (a choice's label), None if none."""


@dataclass(frozen=True)
class FlowAnswers:
    flow_key: str
    title: str
    columns: tuple[CheckinColumn, ...]
    lines: tuple[AnswerLine, ...]


def facility_answers(
    facility_id: int,
    limit: int = ANSWER_COLUMNS,
    connection: sa.Connection | None = None,
    language: str = LANGUAGE,
) -> list[FlowAnswers]:
    """Per flow the facility has check-ins of, its latest `limit` check-ins (newest first) and
    their reference answers (a check-in's first completed submission, what charts read).

    One statement: the latest check-ins per flow (a window), each with its answers.
    """
    connection = connection or db.session.connection()
    completed_by, owner = aliased(Worker), aliased(Worker)
    latest = (
        sa.select(
            Checkin.id,
            Checkin.flow_id,
            Checkin.flow_version_id,
            Checkin.period,
            Checkin.status,
            Checkin.channel,
            Checkin.completed_at,
            sa.func.coalesce(completed_by.name, owner.name).label("by"),
            sa.func.row_number()
            .over(partition_by=Checkin.flow_id, order_by=(Checkin.period.desc(), Checkin.id.desc()))
            .label("rank"),
        )
        .outerjoin(completed_by, completed_by.id == Checkin.completed_by_id)
        .outerjoin(owner, owner.id == Checkin.worker_id)
        .where(Checkin.facility_id == facility_id)
        .subquery()
    )
    query = (
        sa.select(
            latest,
            Flow.key.label("flow_key"),
            Answer.question_key,
            Answer.value_text,
            Answer.value_number,
        )
        .join(Flow, Flow.id == latest.c.flow_id)
        .outerjoin(Answer, sa.and_(Answer.checkin_id == latest.c.id, Answer.reference.is_(True)))
        .where(latest.c.rank <= limit)
        .order_by(Flow.key, latest.c.rank, Answer.id)
    )
    checkins: dict[str, dict[int, sa.Row]] = defaultdict(dict)
    answers: dict[int, dict[str, object]] = defaultdict(dict)
    for row in connection.execute(query):
        checkins[row.flow_key].setdefault(row.id, row)
        if row.question_key is not None:
            value = row.value_number if row.value_number is not None else row.value_text
            answers[row.id][row.question_key] = value
    current = {active.flow_id: definition(active.version_id) for active in active_flows()}
    return [
        _flow_answers(list(rows.values()), answers, current, language) for rows in checkins.values()
    ]


def _flow_answers(
    rows: list[sa.Row],
    answers: dict[int, dict[str, object]],
    current: dict[int, FlowDefinition],
    language: str,
) -> FlowAnswers:
    """The table of one flow: its newest definition names the questions, each check-in's own
    version names its choices' labels and decides its alerts."""
    newest = current.get(rows[0].flow_id) or definition(rows[0].flow_version_id)
    versions = [definition(row.flow_version_id) for row in rows]
    keys = [question.key for question in newest.questions]
    keys += sorted({k for row in rows for k in answers[row.id]} - set(keys))
    columns = tuple(
        CheckinColumn(
            row.id,
            row.period,
            row.status,
            row.by,
            row.channel,
            row.completed_at,
            tuple(
                short_alert(version.text(alert.text, language))
                for alert in triggered_alerts(version, answers[row.id])
            )
            if row.status == "completed"
            else (),
        )
        for row, version in zip(rows, versions, strict=True)
    )
    lines = tuple(
        AnswerLine(
            key,
            _prompt(key, [newest, *versions], language),
            tuple(
                answer_text(version, key, answers[row.id].get(key), language)
                for row, version in zip(rows, versions, strict=True)
            ),
        )
        for key in keys
    )
    return FlowAnswers(newest.key, newest.text(newest.title, language), columns, lines)


def _prompt(key: str, flows: list[FlowDefinition], language: str) -> str:
    """The question's prompt in the newest version that asks it; its key if none does."""
    for flow in flows:
        for question in flow.questions:
            if question.key == key:
                return flow.prompt(question, language)
    return key


def answer_text(flow: FlowDefinition, key: str, value: object, language: str) -> str | None:
    """An answer as a reader says it: a choice's label in `language`, a number, a text."""
    if value is None:
        return None
    question = next((q for q in flow.questions if q.key == key), None)
    if question is not None and question.type == "choice":
        for choice in question.choices:
            if choice.value == value:
                return flow.text(choice.label, language)
    return str(value)
