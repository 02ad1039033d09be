"""The retry policy: what is worth another try, when, how often, and what a retry is marked.

Retryable: a request that failed as a whole (timeout, refused, 5xx, unreadable answer) and a
number the gateway answered "retry" (its own failure, not the number's). Not retryable: a
number answered "final" (invalid, blacklisted, do-not-disturb...), recorded as failed at once.

A job that fails (the database cut its connection, say) is run again by RQ a little later:
its rows still `queued` go then, not when the sweeper finds them ten minutes on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rq import Retry

MAX_ATTEMPTS = 6
JOB_RETRY_INTERVALS = [5, 30, 120]
"""Seconds before RQ runs a failed outbox job again (its scheduler moves it back)."""


def backoff(attempts: int) -> timedelta:
    """30 s, 2 min, 8 min, 32 min, then hourly: a gateway outage is not hammered."""
    return min(timedelta(seconds=30 * 4 ** (attempts - 1)), timedelta(hours=1))


def after_failure(attempts: int, reason: str, now: datetime, *, in_doubt: bool) -> dict[str, Any]:
    """The columns of a row whose `attempts`-th try did not get it accepted.

    Back to `pending` after the backoff, or `failed` once MAX_ATTEMPTS tries are spent.
    `in_doubt`: the failed request may have reached the gateway, so the next send is marked a
    possible duplicate (a row that is given up is not sent again, so it is not marked).
    """
    if attempts >= MAX_ATTEMPTS:
        return {
            "status": "failed",
            "failure_reason": f"gave up after {attempts} attempts: {reason}"[:64],
            "updated_at": now,
        }
    values: dict[str, Any] = {
        "status": "pending",
        "failure_reason": reason[:64],
        "not_before": now + backoff(attempts),
        "updated_at": now,
    }
    if in_doubt:
        values["possible_duplicate"] = True
    return values


def job_retry() -> Retry:
    """RQ's retry for every outbox job: each is safe to run again (rows are claimed once)."""
    return Retry(max=len(JOB_RETRY_INTERVALS), interval=JOB_RETRY_INTERVALS)
