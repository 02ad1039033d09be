"""Indicator points from check-in answers, and the run-chart signals of each facility.

The flow file names which number questions make an indicator; this module turns stored answers
into one point per facility and period (a percent, or a count without a denominator) and runs
the indicator's rule set over each facility's points. A period without a usable answer, or with
a zero denominator, is no point at all: a gap on the chart, never a zero that would fake a fall.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from flows.definition import Indicator
from supervision.runchart import Analysis, Ratio, Signal, analyse_ratios
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


Entry = tuple[str, str, object, object]
"""One completed check-in as the rules read it: (facility, period, the numerator's answer, the
denominator's answer), answers as stored, None when there is none. A Row without its dict."""

Series = tuple[list[str], list[Ratio]]
"""One facility's points as the rules read them: periods in order, and each point's value as
(numerator, denominator) integers (runchart.analyse_ratios), without a Point or a Fraction each."""


def points(indicator: Indicator, rows: Iterable[Row]) -> dict[str, list[Point]]:
    """Each facility's points in period order (labels such as 2026-W49 sort in time order).

    Several check-ins of one facility and period (a `per: worker` flow) add up, numerators with
    numerators and denominators with denominators; a check-in without the numbers is left out.
    """
    return {
        facility: [Point(facility, *sums) for sums in periods]
        for facility, periods in _sums(indicator, _entries(indicator, rows)).items()
    }


def series_of(indicator: Indicator, entries: Iterable[Entry]) -> dict[str, Series]:
    """`points`, as the digest reads them: each facility's periods and exact values, from
    entries (a national history is some 60,000 check-ins: no Row, Point or Fraction each)."""
    series = {}
    for facility, periods in _sums(indicator, entries).items():
        if indicator.denominator is None:
            ratios = [(numerator, 1) for _, numerator, _ in periods]
        else:
            ratios = [(100 * numerator, denominator) for _, numerator, denominator in periods]
        series[facility] = ([period for period, _, _ in periods], ratios)
    return series


def _entries(indicator: Indicator, rows: Iterable[Row]) -> Iterator[Entry]:
    numerator, denominator = indicator.numerator, indicator.denominator
    for row in rows:
        answers = row.answers
        counted = None if denominator is None else answers.get(denominator)
        yield row.facility, row.period, answers.get(numerator), counted


def _sums(
    indicator: Indicator, entries: Iterable[Entry]
) -> dict[str, list[tuple[str, int, int | None]]]:
    """Facility -> its (period, numerator, denominator) in period order, facilities in order:
    check-ins of one period added up, then zero denominators left out (no point)."""
    counts = indicator.denominator is None
    sums: dict[str, dict[str, tuple[int, int | None]]] = defaultdict(dict)
    for facility, period, numerator_answer, denominator_answer in entries:
        numerator = (
            numerator_answer if type(numerator_answer) is int else _integer(numerator_answer)
        )
        if numerator is None:
            continue
        if counts:
            denominator = None
        else:
            denominator = (
                denominator_answer
                if type(denominator_answer) is int
                else _integer(denominator_answer)
            )
            if denominator is None:
                continue
        of_facility = sums[facility]
        if period in of_facility:
            numerator, denominator = _add(of_facility[period], (numerator, denominator))
        of_facility[period] = numerator, denominator
    by_facility = {}
    for facility in sorted(sums):
        of_facility = sums[facility]
        kept = []
        for period in sorted(of_facility):
            numerator, denominator = of_facility[period]
            if denominator is None or denominator > 0:
                kept.append((period, numerator, denominator))
        if kept:
            by_facility[facility] = kept
    return by_facility


def analysis(indicator: Indicator, series: Sequence[Point]) -> Analysis:
    """The indicator's rule set over one facility's points (signal indices index `series`)."""
    return analyse_ratios(_ratios(series), indicator.rules, indicator.baseline)


def signals_in(indicator: Indicator, series: Sequence[Point], period: str) -> tuple[Signal, ...]:
    """The signals a digest about `period` reports: those whose points reach that period's.

    A long run that ended months ago is history, not news; a signal still growing this week,
    or one the week's point completed, is what the supervisor should hear about. A week on the
    median inside a run is inside it too. No point for the period, no signal.
    """
    return _signals_in(indicator, ([p.period for p in series], _ratios(series)), period)


def week_signals(
    indicator: Indicator, series: Mapping[str, Sequence[Point]], period: str
) -> list[WeekSignal]:
    """The digest's signal lines for one indicator: one per facility with a signal reaching
    `period` (its most telling one), runs and trends first, then by facility code."""
    return week_signals_of(
        indicator,
        {facility: ([p.period for p in s], _ratios(s)) for facility, s in series.items()},
        period,
    )


def week_signals_of(
    indicator: Indicator, series: Mapping[str, Series], period: str
) -> list[WeekSignal]:
    """`week_signals` over `series_of`'s series."""
    found = []
    for facility, of_facility in series.items():
        signals = _signals_in(indicator, of_facility, period)
        if signals:
            top = min(signals, key=lambda s: IMPORTANCE.index(s.rule))
            found.append((IMPORTANCE.index(top.rule), facility, top))
    return [WeekSignal(facility, indicator.label, top.short) for _, facility, top in sorted(found)]


def _signals_in(indicator: Indicator, series: Series, period: str) -> tuple[Signal, ...]:
    periods, ratios = series
    if period not in periods:
        return ()
    where = periods.index(period)
    found = analyse_ratios(ratios, indicator.rules, indicator.baseline).signals
    return tuple(s for s in found if min(s.points) <= where <= max(s.points))


def _ratios(series: Sequence[Point]) -> list[Ratio]:
    """Each point's value as (numerator, denominator): Point.value without the Fraction."""
    return [_ratio(point) for point in series]


def _ratio(point: Point) -> Ratio:
    if point.denominator is None:
        return point.numerator, 1
    if point.denominator > 0:
        return 100 * point.numerator, point.denominator
    value = point.value  # a point built by hand: Fraction puts the sign on top, or refuses a 0
    return value.numerator, value.denominator


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
