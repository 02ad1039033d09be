"""Specification for supervision.indicators: points from answers, gaps where there is no point."""

from fractions import Fraction
from pathlib import Path

from flows.definition import Indicator
from flows.loader import load_flow
from supervision.indicators import Point, Row, analysis, points, signals_in, week_signals
from supervision.runchart import Signal
from supervision.texts import WeekSignal

RATIO = Indicator("anc4", {"fr": "CPN4"}, numerator="done", denominator="due")
COUNT = Indicator("births", {"fr": "Accouchements"}, numerator="births")


def test_a_point_is_the_numerator_over_the_denominator_in_percent():
    rows = [Row("KAT01", "2026-W01", {"done": "3", "due": "4"})]
    [point] = points(RATIO, rows)["KAT01"]
    assert (point.period, point.numerator, point.denominator) == ("2026-W01", 3, 4)
    assert point.value == 75


def test_percentages_stay_exact():
    assert Point("KAT01", "2026-W01", 1, 3).value == Fraction(100, 3)


def test_without_a_denominator_the_numerator_is_a_count():
    rows = [Row("KAT01", "2026-W01", {"births": 7})]
    assert [p.value for p in points(COUNT, rows)["KAT01"]] == [7]


def test_each_facility_gets_its_points_in_period_order():
    rows = [
        Row("KAT02", "2026-W02", {"done": "1", "due": "2"}),
        Row("KAT01", "2026-W02", {"done": "2", "due": "2"}),
        Row("KAT01", "2026-W01", {"done": "1", "due": "4"}),
    ]
    result = points(RATIO, rows)
    assert {f: [(p.period, p.value) for p in s] for f, s in result.items()} == {
        "KAT01": [("2026-W01", 25), ("2026-W02", 100)],
        "KAT02": [("2026-W02", 50)],
    }


def test_a_zero_denominator_a_missing_or_malformed_answer_is_no_point():
    rows = [
        Row("KAT01", "2026-W01", {"done": "0", "due": "0"}),
        Row("KAT01", "2026-W02", {"due": "4"}),
        Row("KAT01", "2026-W03", {"done": "2"}),
        Row("KAT01", "2026-W04", {"done": "deux", "due": "4"}),
        Row("KAT01", "2026-W05", {"done": "1", "due": "2"}),
    ]
    assert [p.period for p in points(RATIO, rows)["KAT01"]] == ["2026-W05"]


def test_a_facility_with_no_usable_answer_has_no_series():
    assert points(RATIO, [Row("KAT01", "2026-W01", {"done": "1", "due": "0"})]) == {}


def test_several_check_ins_of_one_period_add_up():
    # A `per: worker` flow: two workers of one CSCom report the same week.
    rows = [
        Row("KAT01", "2026-W01", {"done": "1", "due": "4"}),
        Row("KAT01", "2026-W01", {"done": "2", "due": "2"}),
    ]
    [point] = points(RATIO, rows)["KAT01"]
    assert (point.numerator, point.denominator, point.value) == (3, 6, 50)


def weekly(values: list[int]) -> list[Point]:
    """A count indicator's points, one a week from 2026-W01."""
    return [Point("KAT01", f"2026-W{week:02d}", v, None) for week, v in enumerate(values, 1)]


def test_the_indicator_rule_set_and_baseline_drive_the_analysis():
    series = weekly(list(range(1, 13)))
    assert [s.rule for s in analysis(COUNT, series).signals] == ["few_crossings"]
    ihi = Indicator("births", {"fr": "Acc"}, numerator="births", rules="ihi")
    assert {s.rule for s in analysis(ihi, series).signals} == {"shift", "trend", "few_runs"}
    frozen = Indicator("births", {"fr": "Acc"}, numerator="births", baseline=2)
    assert analysis(frozen, series).median == Fraction(3, 2)


def test_a_digest_reports_the_signals_that_reach_its_period():
    # Alternating weeks 1-12 around 5, then 8 weeks below (weeks 13-20), then 2 on the median.
    series = weekly([4, 6] * 6 + [1] * 8 + [5, 5])
    long_run = Signal("long_run", tuple(range(12, 20)), "down")
    assert signals_in(COUNT, series, "2026-W20") == (long_run,)
    assert signals_in(COUNT, series, "2026-W16") == (long_run,)
    assert signals_in(COUNT, series, "2026-W22") == ()  # the run ended: history, not news
    assert signals_in(COUNT, series, "2026-W30") == ()  # no point that week


def test_the_default_weekly_check_in_charts_the_share_given_the_good_practice():
    flow = load_flow(Path("flows/weekly_qi.yaml").read_text(encoding="utf-8"))
    [indicator] = flow.indicators
    answers = {"met": "yes", "denominator": "40", "numerator": "30", "comment": "RAS"}
    [point] = points(indicator, [Row("KAT01", "2026-W49", answers)])["KAT01"]
    assert (point.value, indicator.rules, indicator.baseline) == (75, "anhoej", 12)


def test_the_digest_names_one_signal_per_facility_runs_and_trends_first():
    shifted = weekly([4, 6] * 6 + [1] * 8)  # a long run down in weeks 13-20
    stepped = weekly(list(range(1, 13)) + [13] * 8)  # few crossings, weeks 1-20
    calm = weekly([4, 6] * 10)
    series = {"KAT03": stepped, "KAT02": calm, "KAT01": shifted}
    assert {s.rule for s in signals_in(COUNT, stepped, "2026-W20")} == {
        "long_run",
        "few_crossings",
    }
    assert week_signals(COUNT, series, "2026-W20") == [
        WeekSignal("KAT01", COUNT.label, "supervision.signal.down"),
        WeekSignal("KAT03", COUNT.label, "supervision.signal.up"),
    ]
