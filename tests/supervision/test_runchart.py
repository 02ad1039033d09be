"""Specification for supervision.runchart, on series small enough to check by hand.

Indices in the expected signals count from 0. "Useful" points are those not on the median.
"""

import statistics
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.messages import MESSAGES
from supervision.runchart import (
    RUNS_TABLE,
    Signal,
    analyse,
    analyse_ratios,
    binomial_quantile,
    crossings_limit,
    long_run_limit,
    median,
)

ALTERNATING = [4, 6] * 6  # a baseline of 12 that crosses its median (5) at every point


def rules(analysis, name):
    return [s for s in analysis.signals if s.rule == name]


# -- the median --------------------------------------------------------------------------------


def test_the_median_is_taken_from_the_first_twelve_points():
    assert median([*range(1, 13), 100, 100, 100]) == Fraction(13, 2)


def test_the_median_uses_every_point_while_there_are_fewer_than_the_baseline():
    assert median([3, 1, 2]) == 2
    assert median([3, 1, 2, 10]) == Fraction(5, 2)


def test_an_indicator_baseline_sets_how_many_points_the_median_is_taken_from():
    assert median([1, 2, 3, 4, 50, 60, 70], baseline=4) == Fraction(5, 2)


def test_an_unknown_rule_set_is_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="western"):
        analyse([1, 2, 3], "western")


def test_no_points_no_median_and_no_signal():
    result = analyse([])
    assert (result.median, result.useful, result.signals) == (None, 0, ())


# -- Anhøj & Olesen 2014 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("useful", "longest_run_over", "crossings_under"),
    [
        (10, 6, 2),
        (12, 7, 3),
        (14, 7, 4),
        (17, 7, 5),
        (20, 7, 6),
        (24, 8, 8),
        (30, 8, 10),
        (40, 8, 14),
        (52, 9, 20),
    ],
)
def test_anhoej_thresholds_match_the_published_table(useful, longest_run_over, crossings_under):
    assert long_run_limit(useful) == longest_run_over
    assert crossings_limit(useful) == crossings_under


def test_the_binomial_quantile_is_exact_at_the_edge():
    # P(X <= 1) = 10/512 < 0.05 <= P(X <= 2) = 46/512 for X ~ Bin(9, 1/2)
    assert binomial_quantile(Fraction(1, 20), 9) == 2
    assert binomial_quantile(Fraction(10, 512), 9) == 1  # P(X <= 1) is exactly the probability


def test_a_chart_that_keeps_crossing_its_median_has_no_anhoej_signal():
    result = analyse(ALTERNATING)
    assert (result.median, result.useful, result.longest_run, result.crossings) == (5, 12, 1, 11)
    assert result.signals == ()


def test_a_step_after_six_of_twelve_points_is_too_few_crossings_but_not_a_long_run():
    result = analyse(list(range(1, 13)))  # median 6.5: six below, six above, one crossing
    assert (result.useful, result.longest_run, result.crossings) == (12, 6, 1)
    assert result.signals == (Signal("few_crossings", tuple(range(12))),)


def test_points_on_the_median_neither_break_nor_lengthen_a_long_run():
    # Baseline alternates around 5 and ends above it (index 11); then ten points at 7 or on
    # the median (indices 14 and 20). Counting only useful points the run above is 9 long,
    # n is 20 and its limit 7: a long run upwards, which a break at each 5 would have hidden.
    values = [*ALTERNATING, 7, 7, 5, 7, 7, 7, 7, 7, 5, 7]
    result = analyse(values)
    assert (result.median, result.useful, result.longest_run, result.crossings) == (5, 20, 9, 11)
    assert rules(result, "long_run") == [
        Signal("long_run", (11, 12, 13, 15, 16, 17, 18, 19, 21), "up")
    ]
    assert rules(result, "few_crossings") == []


def test_a_long_run_below_the_median_points_down():
    values = [*ALTERNATING, 1, 1, 1, 1, 1, 1, 1, 1]  # 8 below after a point above: n 20
    result = analyse(values)
    assert rules(result, "long_run") == [Signal("long_run", tuple(range(12, 20)), "down")]


def test_at_ten_useful_points_a_run_of_seven_is_long_and_a_run_of_six_is_not():
    # A baseline of 2 freezes the median at 5; two crossings are not fewer than the limit 2.
    six = analyse([1, 9, 9, 9, 9, 9, 9, 1, 1, 1], baseline=2)
    seven = analyse([1, 9, 9, 9, 9, 9, 9, 9, 1, 1], baseline=2)
    assert (six.useful, six.longest_run, six.crossings, six.signals) == (10, 6, 2, ())
    assert seven.signals == (Signal("long_run", tuple(range(1, 8)), "up"),)


def test_with_fewer_than_ten_useful_points_anhoej_says_nothing():
    # Nine points all above a frozen median of 1 (the first point); only 9 are useful.
    result = analyse([1, *[2] * 9], baseline=1)
    assert (result.useful, result.longest_run) == (9, 9)
    assert result.signals == ()


def test_the_latest_of_two_equally_long_runs_is_the_one_reported():
    values = [1] * 8 + [9] * 8  # median 5 over all 16 (baseline 16): two runs of 8
    result = analyse(values, baseline=16)
    assert [s.points for s in rules(result, "long_run")] == [tuple(range(8, 16))]


# -- Perla, Provost & Murray 2011 (rules: ihi) -------------------------------------------------


def test_six_points_on_one_side_are_a_shift_counting_past_a_point_on_the_median():
    # median 5; index 11 (6) is above, then 6, 7, 5 (on the median), 8, 6, 7
    values = [*ALTERNATING, 6, 7, 5, 8, 6]
    result = analyse(values, "ihi")
    assert rules(result, "shift") == []  # only 5 useful points above: not yet a shift
    result = analyse([*values, 7], "ihi")
    assert rules(result, "shift") == [Signal("shift", (11, 12, 13, 15, 16, 17), "up")]


def test_every_shift_is_reported_below_and_above():
    result = analyse([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], "ihi")
    assert rules(result, "shift") == [
        Signal("shift", (0, 1, 2, 3, 4, 5), "down"),
        Signal("shift", (6, 7, 8, 9, 10, 11), "up"),
    ]


def test_five_points_going_up_are_a_trend_and_four_are_not():
    assert rules(analyse([1, 2, 3, 4, 5], "ihi"), "trend") == [
        Signal("trend", (0, 1, 2, 3, 4), "up")
    ]
    assert rules(analyse([1, 2, 3, 4], "ihi"), "trend") == []


def test_a_repeated_value_neither_counts_nor_breaks_a_trend():
    # 1 2 2 3 4 5: the second 2 is set aside, five points remain, all going up.
    assert rules(analyse([1, 2, 2, 3, 4, 5], "ihi"), "trend") == [
        Signal("trend", (0, 1, 3, 4, 5), "up")
    ]
    # 1 2 3 3 4: four points once the repeat is set aside.
    assert rules(analyse([1, 2, 3, 3, 4], "ihi"), "trend") == []


def test_a_rise_then_a_fall_share_their_turning_point():
    values = [1, 2, 3, 4, 5, 4, 3, 2, 1]
    assert rules(analyse(values, "ihi"), "trend") == [
        Signal("trend", (0, 1, 2, 3, 4), "up"),
        Signal("trend", (4, 5, 6, 7, 8), "down"),
    ]


def test_the_runs_table_flags_too_few_runs():
    result = analyse(list(range(1, 13)), "ihi")  # 12 useful points, 2 runs; fewer than 3
    assert rules(result, "few_runs") == [Signal("few_runs", tuple(range(12)))]


def test_the_runs_table_flags_too_many_runs():
    result = analyse(ALTERNATING, "ihi")  # 12 useful points, 12 runs; more than 11
    assert rules(result, "many_runs") == [Signal("many_runs", tuple(range(12)))]
    assert rules(analyse(ALTERNATING[:-1], "ihi"), "many_runs") == []  # 11 runs of 11: fine


def test_runs_at_the_table_limits_are_no_signal():
    # 10 useful points (median 5): too few below 3 runs, too many above 9.
    two_runs = [1, 1, 1, 1, 1, 9, 9, 9, 9, 9]
    three_runs = [1, 1, 1, 9, 9, 9, 9, 9, 1, 1]
    nine_runs = [1, 9, 1, 9, 1, 9, 1, 9, 9, 1]
    ten_runs = [1, 9] * 5
    assert [analyse(v, "ihi").useful for v in (two_runs, three_runs, nine_runs)] == [10] * 3
    assert len(rules(analyse(two_runs, "ihi"), "few_runs")) == 1
    assert rules(analyse(three_runs, "ihi"), "few_runs") == []
    assert rules(analyse(nine_runs, "ihi"), "many_runs") == []
    assert len(rules(analyse(ten_runs, "ihi"), "many_runs")) == 1


def test_outside_the_runs_table_the_runs_test_is_not_applied():
    assert min(RUNS_TABLE) == 10 and max(RUNS_TABLE) == 40
    many = [1, 9] * 21  # 42 useful points, 42 runs
    assert rules(analyse(many, "ihi", baseline=42), "many_runs") == []
    short = [1, 9] * 4  # 8 useful points, 8 runs
    assert rules(analyse(short, "ihi"), "many_runs") == []


def test_the_ihi_runs_test_ignores_points_on_the_median():
    # 13 points, one on the median (5): 12 useful points, 12 runs: too many.
    values = [*ALTERNATING[:6], 5, *ALTERNATING[6:]]
    result = analyse(values, "ihi", baseline=13)
    assert (result.median, result.useful) == (5, 12)
    assert rules(result, "many_runs") == [Signal("many_runs", (*range(6), *range(7, 13)))]


# -- names for SMS -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signal", "key"),
    [
        (Signal("long_run", (1,), "up"), "supervision.signal.up"),
        (Signal("shift", (1,), "down"), "supervision.signal.down"),
        (Signal("trend", (1,), "up"), "supervision.signal.trend_up"),
        (Signal("trend", (1,), "down"), "supervision.signal.trend_down"),
        (Signal("few_crossings", (1,)), "supervision.signal.few_crossings"),
        (Signal("few_runs", (1,)), "supervision.signal.few_crossings"),
        (Signal("many_runs", (1,)), "supervision.signal.many_crossings"),
    ],
)
def test_each_signal_has_a_short_name_for_sms_in_french_and_bambara(signal, key):
    assert signal.short == key
    assert set(MESSAGES[key]) == {"fr", "bm"}


# -- values as integer pairs (the digest's fast way) ----------------------------------------------

ratios = st.lists(st.tuples(st.integers(-50, 200), st.integers(1, 60)), min_size=0, max_size=40)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(values=ratios, scales=st.lists(st.integers(1, 7), min_size=40, max_size=40))
def test_a_value_written_with_another_denominator_changes_nothing(values, scales):
    """Sides of the median are cross-products of integers: 3/4 and 6/8 must be the same point."""
    rewritten = [(n * k, d * k) for (n, d), k in zip(values, scales, strict=False)]
    for rules in ("anhoej", "ihi"):
        assert analyse_ratios(rewritten, rules) == analyse_ratios(values, rules)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(values=ratios, baseline=st.integers(1, 20))
def test_the_median_is_the_exact_median_of_the_baseline(values, baseline):
    found = analyse_ratios(values, "anhoej", baseline).median
    first = [Fraction(n, d) for n, d in values[:baseline]]
    assert found == (statistics.median(first) if first else None)
    assert median([Fraction(n, d) for n, d in values], baseline) == found
