"""Indicator points from check-in answers, and the run-chart signals of each facility.

The flow file names which number questions make an indicator; this module turns stored answers
into one point per facility and period (a percent, or a count without a denominator) and runs
the indicator's rule set over each facility's points. A period without a usable answer, or with
a zero denominator, is no point at all: a gap on the chart, never a zero that would fake a fall.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from flows.definition import Indicator
from supervision.runchart import Analysis, Signal, analyse
from supervision.texts import WeekSignal

IMPORTANCE = ("long_run", "shift", "trend", "few_crossings", "few_runs", "many_runs")
"""Which signal a digest names when one facility's chart shows several: a run or a trend says
which way the indicator went, the runs tests only that something changed."""

Answers = Mapping[str, object]
"""A check-in's answers by question key, as stored (numbers as text or int)."""


@dataclass(frozen=True)
class Point:
    """One facility's indicator for one period; `value` is exact so the median test is too."""

    facility: str
    period: str
    numerator: int
    denominator: int | None

    @property
    def value(self) -> Fraction:
        """Numerator over denominator in percent, or the numerator as a count."""
        if self.denominator is None:
            return Fraction(self.numerator)
        return Fraction(100 * self.numerator, self.denominator)


@dataclass(frozen=True)
class Row:
    """One completed check-in as the tick reads it: whose, which period, what was answered."""

    facility: str
    period: str
    answers: Answers


def points(indicator: Indicator, rows: Iterable[Row]) -> dict[str, list[Point]]:
    """Each facility's points in period order (labels such as 2026-W49 sort in time order).

    Several check-ins of one facility and period (a `per: worker` flow) add up, numerators with
    numerators and denominators with denominators; a check-in without the numbers is left out.
    """
    sums: dict[tuple[str, str], tuple[int, int | None]] = {}
    for row in rows:
        pair = _numbers(indicator, row.answers)
        if pair is None:
            continue
        key = (row.facility, row.period)
        if key in sums:
            pair = _add(sums[key], pair)
        sums[key] = pair
    by_facility: dict[str, list[Point]] = defaultdict(list)
    for (facility, period), (numerator, denominator) in sorted(sums.items()):
        if denominator is None or denominator > 0:
            by_facility[facility].append(Point(facility, period, numerator, denominator))
    return dict(by_facility)


def analysis(indicator: Indicator, series: Sequence[Point]) -> Analysis:
    """The indicator's rule set over one facility's points (signal indices index `series`)."""
    return analyse([p.value for p in series], indicator.rules, indicator.baseline)


def signals_in(indicator: Indicator, series: Sequence[Point], period: str) -> tuple[Signal, ...]:
    """The signals a digest about `period` reports: those whose points reach that period's.

    A long run that ended months ago is history, not news; a signal still growing this week,
    or one the week's point completed, is what the supervisor should hear about. A week on the
    median inside a run is inside it too. No point for the period, no signal.
    """
    where = [index for index, point in enumerate(series) if point.period == period]
    if not where:
        return ()
    found = analysis(indicator, series).signals
    return tuple(s for s in found if min(s.points) <= where[0] <= max(s.points))


def week_signals(
    indicator: Indicator, series: Mapping[str, Sequence[Point]], period: str
) -> list[WeekSignal]:
    """The digest's signal lines for one indicator: one per facility with a signal reaching
    `period` (its most telling one), runs and trends first, then by facility code."""
    found = []
    for facility, points_of_facility in series.items():
        signals = signals_in(indicator, points_of_facility, period)
        if signals:
            top = min(signals, key=lambda s: IMPORTANCE.index(s.rule))
            found.append((IMPORTANCE.index(top.rule), facility, top))
    return [WeekSignal(facility, indicator.label, top.short) for _, facility, top in sorted(found)]


def _numbers(indicator: Indicator, answers: Answers) -> tuple[int, int | None] | None:
    numerator = _integer(answers.get(indicator.numerator))
    if numerator is None:
        return None
    if indicator.denominator is None:
        return numerator, None
    denominator = _integer(answers.get(indicator.denominator))
    return None if denominator is None else (numerator, denominator)


def _add(a: tuple[int, int | None], b: tuple[int, int | None]) -> tuple[int, int | None]:
    denominator = None if a[1] is None or b[1] is None else a[1] + b[1]
    return a[0] + b[0], denominator


def _integer(value: object) -> int | None:
    """An answer as stored (text or int); anything else (skipped, malformed) is no number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None
