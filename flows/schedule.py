"""When a scheduled flow's check-in is open: pure calendar arithmetic in local time.

A period opens at the schedule's opening time and stays open until the next one opens, so a
team that answers late on Monday morning still reports on the week that just ended. The
period's label is stable and sortable (2026-W48, 2026-11-27, 2026-11) because it is stored
in a unique constraint and shown to supervisors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flows.definition import Schedule

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Period:
    label: str
    opens_at: datetime
    closes_at: datetime


def current_period(schedule: Schedule, now: datetime) -> Period:
    """The period whose check-in is open at `now` (a local, timezone-aware datetime)."""
    opens = _latest_opening(schedule, now)
    return Period(_label(schedule, opens), opens, _next_opening(schedule, opens))


def recent_periods(schedule: Schedule, now: datetime, count: int) -> list[Period]:
    """The period open at `now` and the `count - 1` before it, newest first."""
    periods = [current_period(schedule, now)]
    while len(periods) < count:
        periods.append(current_period(schedule, periods[-1].opens_at - timedelta(seconds=1)))
    return periods


def _opening_time(schedule: Schedule) -> time:
    hours, minutes = schedule.opens.split()[-1].split(":")
    return time(int(hours), int(minutes))


def _latest_opening(schedule: Schedule, now: datetime) -> datetime:
    at = _opening_time(schedule)
    today = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if schedule.every == "day":
        return today if today <= now else today - timedelta(days=1)
    if schedule.every == "week":
        weekday = WEEKDAYS.index(schedule.opens.split()[0])
        candidate = today - timedelta(days=(now.weekday() - weekday) % 7)
        return candidate if candidate <= now else candidate - timedelta(days=7)
    day = int(schedule.opens.split()[0])
    candidate = today.replace(day=day)
    if candidate <= now:
        return candidate
    previous_month = candidate.replace(day=1) - timedelta(days=1)
    return previous_month.replace(day=day)


def _next_opening(schedule: Schedule, opens: datetime) -> datetime:
    if schedule.every == "day":
        return opens + timedelta(days=1)
    if schedule.every == "week":
        return opens + timedelta(days=7)
    following = (opens.replace(day=1) + timedelta(days=32)).replace(day=opens.day)
    return following


def _label(schedule: Schedule, opens: datetime) -> str:
    if schedule.every == "day":
        return opens.date().isoformat()
    if schedule.every == "week":
        year, week, _ = opens.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{opens.year}-{opens.month:02d}"


def latest_weekly(spec: str, local: datetime) -> datetime:
    """The latest moment at or before `local` matching `spec` ("mon 07:00", like DIGEST_AT)."""
    day, _, at = spec.partition(" ")
    hours, minutes = (int(part) for part in at.split(":"))
    candidate = local.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    candidate -= timedelta(days=(local.weekday() - WEEKDAYS.index(day)) % 7)
    return candidate if candidate <= local else candidate - timedelta(days=7)


def short_period(label: str) -> str:
    """A period's label as an SMS names it: 2026-W49 -> S49, 2026-11-27 -> 27/11, 2026-11 -> 11/2026."""
    if "-W" in label:
        return f"S{label.split('-W')[1]}"
    parts = label.split("-")
    return f"{parts[2]}/{parts[1]}" if len(parts) == 3 else f"{parts[1]}/{parts[0]}"


def subject_of(period: str) -> str:
    """What a supervisor's SMS is about, in as few characters as possible: "QI S49"."""
    return f"QI {short_period(period)}"
