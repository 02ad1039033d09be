"""Run-chart signals: is an indicator changing, or only bouncing around its median?

A run chart plots one facility's indicator over time against a median; runs analysis tells a
non-random pattern (a change the team made, or a deterioration) from the variation every
indicator shows anyway. Two published rule sets, chosen per indicator in the flow file:

- ``anhoej`` (the default): Anhøj & Olesen, "Run charts revisited: a simulation study of run
  chart rules for detection of non-random variation in health care processes", PLoS ONE 2014.
  Two tests whose false-alarm rate stays near 5% whatever the number of points.
- ``ihi``: Perla, Provost & Murray, "The run chart: a simple analytical tool for learning from
  variation in healthcare processes", BMJ Qual Saf 2011: shift, trend and the runs table.

Pass exact values (ints or ``fractions.Fraction``, as ``supervision.indicators`` does): a point
equal to the median must be recognised as on it, which floats cannot promise.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from numbers import Rational
from typing import Literal

from flows.definition import DEFAULT_BASELINE, RUN_CHART_RULES

MIN_USEFUL = 10
"""Below this many useful points the Anhøj tests say nothing (and the runs table starts here)."""
SHIFT = 6
TREND = 5

RUNS_TABLE: dict[int, tuple[int, int]] = {
    10: (3, 9), 11: (3, 10), 12: (3, 11), 13: (4, 11), 14: (4, 12),
    15: (5, 12), 16: (5, 13), 17: (5, 13), 18: (6, 14), 19: (6, 15),
    20: (6, 16), 21: (7, 16), 22: (7, 17), 23: (7, 17), 24: (8, 18),
    25: (8, 18), 26: (9, 19), 27: (9, 20), 28: (10, 20), 29: (10, 21),
    30: (11, 22), 31: (11, 22), 32: (11, 23), 33: (11, 24), 34: (12, 24),
    35: (12, 25), 36: (13, 25), 37: (13, 26), 38: (14, 26), 39: (14, 27),
    40: (15, 27),
}  # fmt: skip
"""Perla, Provost & Murray 2011, Table 1: useful points -> (too few if runs < first, too many if
runs > second), from Swed & Eisenhart's tables at about 5%. Reproduced from a public copy of the
table (not from the paper's PDF); outside 10-40 useful points the runs test is not applied."""

Direction = Literal["up", "down"]
Value = Rational | int


@dataclass(frozen=True)
class Signal:
    """One non-random pattern, with the points it rests on so a chart can mark them.

    ``rule`` is one of long_run, few_crossings (Anhøj), shift, trend, few_runs, many_runs (IHI).
    ``points`` are indices into the values analysed: the points the rule counted (points on the
    median, and ties inside a trend, are left out because the rules do not count them).
    ``direction`` says which way a run or trend goes; the crossing and runs tests have none.
    """

    rule: str
    points: tuple[int, ...]
    direction: Direction | None = None

    @property
    def short(self) -> str:
        """The key of its short SMS name in flows.messages (same name for the same meaning)."""
        if self.rule == "trend":
            return f"supervision.signal.trend_{self.direction}"
        if self.rule in ("long_run", "shift"):
            return f"supervision.signal.{self.direction}"
        if self.rule == "many_runs":
            return "supervision.signal.many_crossings"
        return "supervision.signal.few_crossings"


@dataclass(frozen=True)
class Analysis:
    """What the rules measured, and the signals they found (empty when the chart is random)."""

    median: Fraction | None
    useful: int
    """Points not on the median: the n of both rule sets."""
    longest_run: int
    crossings: int
    signals: tuple[Signal, ...]


@dataclass(frozen=True)
class _Run:
    side: int
    points: tuple[int, ...]


def median(values: Sequence[Value], baseline: int = DEFAULT_BASELINE) -> Fraction | None:
    """The centre line: the median of the first `baseline` points, of all while fewer exist.

    Freezing it on a baseline is what lets a later improvement show as points on one side; a
    median of every point would follow the change and hide it.
    """
    if not values:
        return None
    return Fraction(statistics.median(Fraction(v) for v in values[:baseline]))


def analyse(
    values: Sequence[Value], rules: str = "anhoej", baseline: int = DEFAULT_BASELINE
) -> Analysis:
    """Run the indicator's rule set (``anhoej`` or ``ihi``) over its points in time order."""
    if rules not in RUN_CHART_RULES:
        raise ValueError(f"unknown run-chart rules {rules!r}")
    centre = median(values, baseline)
    runs = _runs(values, centre)
    useful = sum(len(run.points) for run in runs)
    found = _anhoej(runs, useful) if rules == "anhoej" else _ihi(values, runs, useful)
    longest = max((len(run.points) for run in runs), default=0)
    return Analysis(centre, useful, longest, max(len(runs) - 1, 0), found)


def long_run_limit(useful: int) -> int:
    """Anhøj: a run longer than round(log2(n) + 3) is unusually long (never a .5 tie for n>=1)."""
    return math.floor(math.log2(useful) + 3 + 0.5)


@functools.cache  # a digest asks it for every CSCom: n takes a few dozen values
def crossings_limit(useful: int) -> int:
    """Anhøj: fewer crossings than qbinom(0.05, n - 1, 0.5) are unusually few."""
    return binomial_quantile(Fraction(1, 20), useful - 1)


def binomial_quantile(probability: Fraction, size: int) -> int:
    """R's qbinom(p, size, 0.5), exactly: the least k with P(X <= k) >= p for X ~ Bin(size, 1/2).

    Integer arithmetic (math.comb over 2**size) so no rounding can move a threshold.
    """
    total, cumulative = 2**size, 0
    for k in range(size + 1):
        cumulative += math.comb(size, k)
        if cumulative >= probability * total:
            return k
    return size


def _runs(values: Sequence[Value], centre: Fraction | None) -> list[_Run]:
    """Useful points grouped into runs; a point on the median neither counts nor breaks a run."""
    runs: list[_Run] = []
    for index, value in enumerate(values):
        side = (value > centre) - (value < centre) if centre is not None else 0
        if side == 0:
            continue
        if runs and runs[-1].side == side:
            runs[-1] = _Run(side, (*runs[-1].points, index))
        else:
            runs.append(_Run(side, (index,)))
    return runs


def _direction(side: int) -> Direction:
    return "up" if side > 0 else "down"


def _all_points(runs: list[_Run]) -> tuple[int, ...]:
    return tuple(index for run in runs for index in run.points)


def _anhoej(runs: list[_Run], useful: int) -> tuple[Signal, ...]:
    """Unusually long run, unusually few crossings; nothing below 10 useful points."""
    if useful < MIN_USEFUL:
        return ()
    signals: list[Signal] = []
    # The latest of equally long runs: the one a supervisor can still act on.
    longest = max(reversed(runs), key=lambda run: len(run.points))
    if len(longest.points) > long_run_limit(useful):
        signals.append(Signal("long_run", longest.points, _direction(longest.side)))
    if len(runs) - 1 < crossings_limit(useful):
        signals.append(Signal("few_crossings", _all_points(runs)))
    return tuple(signals)


def _ihi(values: Sequence[Value], runs: list[_Run], useful: int) -> tuple[Signal, ...]:
    """Every shift, every trend, then the runs table when the chart has 10 to 40 useful points."""
    signals = [
        Signal("shift", run.points, _direction(run.side))
        for run in runs
        if len(run.points) >= SHIFT
    ]
    signals += _trends(values)
    limits = RUNS_TABLE.get(useful)
    if limits is not None and len(runs) < limits[0]:
        signals.append(Signal("few_runs", _all_points(runs)))
    elif limits is not None and len(runs) > limits[1]:
        signals.append(Signal("many_runs", _all_points(runs)))
    return tuple(signals)


def _trends(values: Sequence[Value]) -> list[Signal]:
    """Five or more points all going up or all going down, ties set aside.

    Perla, Provost & Murray 2011, rule 2: "If the value of two or more successive points is the
    same, ignore the like points when counting": a point equal to the one before it neither
    counts nor breaks the trend. Two trends in opposite directions share their turning point.
    The median plays no part.
    """
    kept = [index for index, value in enumerate(values) if index == 0 or value != values[index - 1]]
    signals: list[Signal] = []
    start = 0
    for end in range(1, len(kept) + 1):
        if end < len(kept) and _step(values, kept, end) == _step(values, kept, start + 1):
            continue
        if end - start >= TREND and start + 1 < len(kept):
            up = _step(values, kept, start + 1) > 0
            signals.append(Signal("trend", tuple(kept[start:end]), "up" if up else "down"))
        start = end - 1
    return signals


def _step(values: Sequence[Value], kept: list[int], position: int) -> int:
    """+1 when the kept point at `position` is above the one before it, -1 when below."""
    return 1 if values[kept[position]] > values[kept[position - 1]] else -1
