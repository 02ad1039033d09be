"""Quiet hours: messages the service starts wait until people are awake.

Pure arithmetic on local time. Replies to a person's own message and urgent alerts never
wait; invitations, reminders and digests do.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def parse_window(spec: str) -> tuple[time, time] | None:
    """'20:00-07:00' -> (20:00, 07:00); '' -> None (no quiet hours). Raises ValueError if malformed."""
    if not spec.strip():
        return None
    start, _, end = spec.partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def release_time(now: datetime, spec: str, timezone: str) -> datetime:
    """`now` when outside quiet hours, else the moment they end (same zone as `now`)."""
    window = parse_window(spec)
    if window is None:
        return now
    start, end = window
    local = now.astimezone(ZoneInfo(timezone))
    at = local.timetz().replace(tzinfo=None)
    crosses_midnight = start > end
    quiet = (at >= start or at < end) if crosses_midnight else (start <= at < end)
    if not quiet:
        return now
    release = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if release <= local:
        release += timedelta(days=1)
    return release.astimezone(now.tzinfo)
