"""The retry policy: what is worth another try, when, how often, and what a retry is marked.

Retryable: a request that failed as a whole (timeout, refused, 5xx, unreadable answer) and a
number the gateway answered "retry" (its own failure, not the number's). Not retryable: a
number answered "final" (invalid, blacklisted, do-not-disturb...), recorded as failed at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

MAX_ATTEMPTS = 6


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
