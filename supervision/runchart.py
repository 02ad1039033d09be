"""Run-chart signals: is an indicator changing, or only bouncing around its median?

A run chart plots one facility's indicator over time against a median; runs analysis tells a
non-random pattern (a change the team made, or a deterioration) from the variation every
indicator shows anyway. Two published rule sets, chosen per indicator in the flow file:

- ``anhoej`` (the default): Anhøj & Olesen, "Run charts revisited: a simulation study of run
  chart rules for detection of non-random variation in health care processes", PLoS ONE 2014.
  Two tests whose false-alarm rate stays near 5% whatever the number of points.
- ``ihi``: Perla, Provost & Murray, "The run chart: a simple analytical tool for learning from
  variation in healthcare processes", BMJ Qual Saf 2011: shift, trend and the runs table.

Pass exact values (ints or ``fractions.Fraction``), or to ``analyse_ratios`` (numerator,
denominator) integer pairs, as ``supervision.indicators`` does: a point equal to the median must be
recognised as on it, which floats cannot promise. The rules compare integer cross-products, never
floats, and build a Fraction only for the median they report.
"""

from __future__ import annotations

import functools
import itertools
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


Ratio = tuple[int, int]
"""An exact value as (numerator, denominator), denominator > 0, not necessarily in lowest terms:
what the rules compare, as integer cross-products (a Fraction comparison costs far more, and a
national digest makes some 75,000 of them)."""

_Run = tuple[int, list[int]]
"""A run: its side of the median (+1 above, -1 below) and the indices of its points."""


def median(values: Sequence[Value], baseline: int = DEFAULT_BASELINE) -> Fraction | None:
    """The centre line: the median of the first `baseline` points, of all while fewer exist.

    Freezing it on a baseline is what lets a later improvement show as points on one side; a
    median of every point would follow the change and hide it.
    """
    centre = _median(_ratios(values), baseline)
    return None if centre is None else Fraction(*centre)


def analyse(
    values: Sequence[Value], rules: str = "anhoej", baseline: int = DEFAULT_BASELINE
) -> Analysis:
    """Run the indicator's rule set (``anhoej`` or ``ihi``) over its points in time order."""
    return analyse_ratios(_ratios(values), rules, baseline)


def analyse_ratios(
    ratios: Sequence[Ratio], rules: str = "anhoej", baseline: int = DEFAULT_BASELINE
) -> Analysis:
    """`analyse` over values given as (numerator, denominator) pairs, denominators positive:
    a caller that has the two integers (an indicator's percent) need not build Fractions."""
    if rules not in RUN_CHART_RULES:
        raise ValueError(f"unknown run-chart rules {rules!r}")
    centre = _median(ratios, baseline)
    runs = _runs(ratios, centre)
    useful = sum(len(points) for _, points in runs)
    found = _anhoej(runs, useful) if rules == "anhoej" else _ihi(ratios, runs, useful)
    longest = max((len(points) for _, points in runs), default=0)
    median_value = None if centre is None else Fraction(*centre)
    return Analysis(median_value, useful, longest, max(len(runs) - 1, 0), found)


def _ratios(values: Sequence[Value]) -> list[Ratio]:
    """Each value as (numerator, denominator); anything not already rational (a float, a
    Decimal) goes through Fraction, exactly as the median always took it."""
    ratios = []
    for value in values:
        if type(value) is not int and type(value) is not Fraction:
            value = Fraction(value)
        ratios.append((value.numerator, value.denominator))
    return ratios


def _median(ratios: Sequence[Ratio], baseline: int) -> Ratio | None:
    """The median of the first `baseline` ratios, exactly, as a ratio.

    Over a common denominator (their least common multiple) the baseline's values are
    integers, so sorting them and averaging the middle two is integer arithmetic: the median is
    (k[lo] + k[hi]) / (2 * common), the same number statistics.median gives over Fractions.
    """
    if not ratios:
        return None
    first = ratios[:baseline]
    if not first:  # a baseline of 0 (the flow loader refuses one): as statistics.median did
        raise statistics.StatisticsError("no median for empty data")
    common = math.lcm(*(denominator for _, denominator in first))
    keys = sorted(numerator * (common // denominator) for numerator, denominator in first)
    middle = len(keys) // 2
    low = keys[middle] if len(keys) % 2 else keys[middle - 1]
    return low + keys[middle], 2 * common


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


def _runs(ratios: Sequence[Ratio], centre: Ratio | None) -> list[_Run]:
    """Useful points grouped into runs; a point on the median neither counts nor breaks a run.

    A point's side is the sign of numerator * 2c - m * denominator for a median m / 2c: the
    comparison with the median as one integer subtraction.
    """
    if centre is None:
        return []
    above, over = centre
    runs: list[_Run] = []
    last, points = 0, []
    for index, (numerator, denominator) in enumerate(ratios):
        difference = numerator * over - above * denominator
        if difference == 0:
            continue
        side = 1 if difference > 0 else -1
        if side == last:
            points.append(index)
        else:
            last, points = side, [index]
            runs.append((side, points))
    return runs


def _direction(side: int) -> Direction:
    return "up" if side > 0 else "down"


def _all_points(runs: list[_Run]) -> tuple[int, ...]:
    return tuple(index for _, points in runs for index in points)


def _anhoej(runs: list[_Run], useful: int) -> tuple[Signal, ...]:
    """Unusually long run, unusually few crossings; nothing below 10 useful points."""
    if useful < MIN_USEFUL:
        return ()
    signals: list[Signal] = []
    # The latest of equally long runs: the one a supervisor can still act on.
    side, points = max(reversed(runs), key=lambda run: len(run[1]))
    if len(points) > long_run_limit(useful):
        signals.append(Signal("long_run", tuple(points), _direction(side)))
    if len(runs) - 1 < crossings_limit(useful):
        signals.append(Signal("few_crossings", _all_points(runs)))
    return tuple(signals)


def _ihi(ratios: Sequence[Ratio], runs: list[_Run], useful: int) -> tuple[Signal, ...]:
    """Every shift, every trend, then the runs table when the chart has 10 to 40 useful points."""
    signals = [
        Signal("shift", tuple(points), _direction(side))
        for side, points in runs
        if len(points) >= SHIFT
    ]
    signals += _trends(ratios)
    limits = RUNS_TABLE.get(useful)
    if limits is not None and len(runs) < limits[0]:
        signals.append(Signal("few_runs", _all_points(runs)))
    elif limits is not None and len(runs) > limits[1]:
        signals.append(Signal("many_runs", _all_points(runs)))
    return tuple(signals)


def _trends(ratios: Sequence[Ratio]) -> list[Signal]:
    """Five or more points all going up or all going down, ties set aside.

    Perla, Provost & Murray 2011, rule 2: "If the value of two or more successive points is the
    same, ignore the like points when counting": a point equal to the one before it neither
    counts nor breaks the trend. Two trends in opposite directions share their turning point.
    The median plays no part.

    A kept point's step (+1 above the kept point before it, -1 below) is its step from the point
    just before it, since the points set aside in between equal that earlier kept point.
    """
    steps = [0] * min(len(ratios), 1)  # the first point has no step, and is always kept
    for (c, d), (a, b) in itertools.pairwise(ratios):
        difference = a * d - c * b
        steps.append((difference > 0) - (difference < 0))
    kept = [index for index, step in enumerate(steps) if index == 0 or step != 0]
    signals: list[Signal] = []
    start = 0
    for end in range(1, len(kept) + 1):
        if end < len(kept) and steps[kept[end]] == steps[kept[start + 1]]:
            continue
        if end - start >= TREND and start + 1 < len(kept):
            up = steps[kept[start + 1]] > 0
            signals.append(Signal("trend", tuple(kept[start:end]), "up" if up else "down"))
        start = end - 1
    return signals
