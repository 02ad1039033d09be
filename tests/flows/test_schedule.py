"""Specification for flows.schedule: which period's check-in is open at a given local moment."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from flows.definition import Schedule
from flows.schedule import Period, current_period, recent_periods

BAMAKO = ZoneInfo("Africa/Bamako")

WEEKLY = Schedule(every="week", opens="mon 08:00")
DAILY = Schedule(every="day", opens="07:30")
MONTHLY = Schedule(every="month", opens="1 08:00")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0):
    return datetime(year, month, day, hour, minute, second, tzinfo=BAMAKO)


# --- weekly ------------------------------------------------------------------------------------


def test_on_monday_after_the_opening_the_new_week_is_open():
    # 2026-11-23 is a Monday of ISO week 48.
    assert current_period(WEEKLY, at(2026, 11, 23, 9, 15)) == Period(
        "2026-W48", at(2026, 11, 23, 8), at(2026, 11, 30, 8)
    )


def test_on_monday_at_the_opening_minute_the_new_week_is_open():
    assert current_period(WEEKLY, at(2026, 11, 23, 8, 0)).label == "2026-W48"


def test_on_monday_before_the_opening_the_previous_week_is_still_open():
    assert current_period(WEEKLY, at(2026, 11, 23, 7, 59, 59)) == Period(
        "2026-W47", at(2026, 11, 16, 8), at(2026, 11, 23, 8)
    )


def test_on_sunday_the_week_that_opened_last_monday_is_open():
    assert current_period(WEEKLY, at(2026, 11, 29, 23, 59)) == Period(
        "2026-W48", at(2026, 11, 23, 8), at(2026, 11, 30, 8)
    )


def test_a_week_can_open_on_another_day():
    friday = Schedule(every="week", opens="fri 17:00")

    # Wednesday 2026-11-25: the period opened on Friday 2026-11-20, in ISO week 47.
    assert current_period(friday, at(2026, 11, 25, 12)) == Period(
        "2026-W47", at(2026, 11, 20, 17), at(2026, 11, 27, 17)
    )


def test_the_iso_week_label_crosses_the_year_boundary():
    # 2026 has 53 ISO weeks: W53 runs from Monday 2026-12-28 to Sunday 2027-01-03.
    assert current_period(WEEKLY, at(2026, 12, 31, 10)) == Period(
        "2026-W53", at(2026, 12, 28, 8), at(2027, 1, 4, 8)
    )
    assert current_period(WEEKLY, at(2027, 1, 3, 12)).label == "2026-W53"
    assert current_period(WEEKLY, at(2027, 1, 4, 7)).label == "2026-W53"
    assert current_period(WEEKLY, at(2027, 1, 4, 8)) == Period(
        "2027-W01", at(2027, 1, 4, 8), at(2027, 1, 11, 8)
    )


def test_an_iso_week_can_belong_to_the_next_year():
    # Monday 2029-12-31 starts ISO week 1 of 2030.
    assert current_period(WEEKLY, at(2029, 12, 31, 9)).label == "2030-W01"


def test_week_labels_sort_in_time_order():
    mondays = [at(2026, 3, 2, 9), at(2026, 11, 23, 9), at(2027, 1, 4, 9)]
    labels = [current_period(WEEKLY, moment).label for moment in mondays]

    assert labels == ["2026-W10", "2026-W48", "2027-W01"]
    assert labels == sorted(labels)


# --- daily -------------------------------------------------------------------------------------


def test_a_day_after_the_opening_is_that_day():
    assert current_period(DAILY, at(2026, 11, 27, 7, 30)) == Period(
        "2026-11-27", at(2026, 11, 27, 7, 30), at(2026, 11, 28, 7, 30)
    )


def test_a_day_before_the_opening_is_still_the_previous_day():
    assert current_period(DAILY, at(2026, 11, 27, 7, 29)) == Period(
        "2026-11-26", at(2026, 11, 26, 7, 30), at(2026, 11, 27, 7, 30)
    )


def test_the_first_of_january_before_the_opening_is_still_the_last_day_of_the_year():
    assert current_period(DAILY, at(2027, 1, 1, 6)).label == "2026-12-31"


# --- monthly -----------------------------------------------------------------------------------


def test_a_month_after_its_opening_is_that_month():
    assert current_period(MONTHLY, at(2026, 11, 1, 8)) == Period(
        "2026-11", at(2026, 11, 1, 8), at(2026, 12, 1, 8)
    )
    assert current_period(MONTHLY, at(2026, 11, 30, 23, 59)).label == "2026-11"


def test_a_month_before_its_opening_is_still_the_previous_month():
    assert current_period(MONTHLY, at(2026, 11, 1, 7, 59)) == Period(
        "2026-10", at(2026, 10, 1, 8), at(2026, 11, 1, 8)
    )


def test_december_closes_when_january_opens():
    assert current_period(MONTHLY, at(2026, 12, 15)) == Period(
        "2026-12", at(2026, 12, 1, 8), at(2027, 1, 1, 8)
    )
    assert current_period(MONTHLY, at(2027, 1, 1, 7)).label == "2026-12"
    assert current_period(MONTHLY, at(2027, 1, 1, 8)) == Period(
        "2027-01", at(2027, 1, 1, 8), at(2027, 2, 1, 8)
    )


def test_a_month_opening_late_in_the_month_works_across_february():
    on_28th = Schedule(every="month", opens="28 18:00")

    assert current_period(on_28th, at(2027, 2, 10)) == Period(
        "2027-01", at(2027, 1, 28, 18), at(2027, 2, 28, 18)
    )
    assert current_period(on_28th, at(2027, 3, 1)) == Period(
        "2027-02", at(2027, 2, 28, 18), at(2027, 3, 28, 18)
    )
    assert current_period(on_28th, at(2027, 1, 5)).label == "2026-12"


# --- every schedule ----------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", [WEEKLY, DAILY, MONTHLY], ids=["week", "day", "month"])
@pytest.mark.parametrize(
    "now", [at(2026, 11, 23, 7), at(2026, 12, 31, 23, 59), at(2027, 1, 1, 8), at(2028, 2, 29, 12)]
)
def test_the_period_contains_now_and_closes_when_the_next_one_opens(schedule, now):
    period = current_period(schedule, now)

    assert period.opens_at <= now < period.closes_at
    assert current_period(schedule, period.closes_at).opens_at == period.closes_at
    assert current_period(schedule, period.closes_at).label > period.label
    assert period.opens_at.tzinfo is BAMAKO


def test_recent_periods_are_the_open_one_and_those_before_it_newest_first():
    labels = [p.label for p in recent_periods(WEEKLY, at(2027, 1, 5, 9), 4)]
    assert labels == ["2027-W01", "2026-W53", "2026-W52", "2026-W51"]
    months = recent_periods(MONTHLY, at(2026, 3, 1, 7), 2)  # before March's opening
    assert [p.label for p in months] == ["2026-02", "2026-01"]
    assert months[0].opens_at == months[1].closes_at
