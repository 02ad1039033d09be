"""Writing outbound SMS: every message becomes an outbox row in the caller's transaction.

The row carries its cost (encoding, segments), when it may leave (quiet hours) and, for
messages that must exist once, a dedupe key. Sending is the RQ workers' job (workers/outbox/);
the caller nudges it after its commit (`workers.outbox.nudge`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from config import Settings
from flows.lint import outgoing
from flows.smstext import sms_cost
from models import OutboundMessage, Worker, db
from services.quiet_hours import release_time

SERVICE_STARTED = ("reminder", "invitation", "digest", "broadcast", "escalation", "coaching")
"""Kinds that wait for quiet hours to end and never reach an opted-out person."""
QUIET_HOURS = "held by quiet hours"
"""The reason a row waits for morning (cleared when the gateway accepts it)."""


def message_row(
    settings: Settings,
    now: datetime,
    *,
    phone: str,
    text: str,
    kind: str,
    language: str = "fr",
    worker_id: int | None = None,
    urgent: bool = False,
    dedupe_key: str | None = None,
) -> dict:
    """An outbox row's columns: the text as it will leave, its cost, and when it may leave.

    Both `compose` (the ORM) and Core INSERTs (services/submissions.py) build rows here.
    """
    body = outgoing(text, language, settings.transliterate)
    cost = sms_cost(body)
    waits = kind in SERVICE_STARTED or (kind == "alert" and not urgent)
    not_before = release_time(now, settings.quiet_hours, settings.timezone) if waits else now
    return {
        "phone": phone,
        "worker_id": worker_id,
        "text": body,
        "language": language,
        "encoding": cost.encoding,
        "segments": cost.segments,
        "kind": kind,
        "urgent": urgent,
        "dedupe_key": dedupe_key,
        "not_before": not_before,
        "failure_reason": QUIET_HOURS if not_before > now else None,
        "created_at": now,
        "updated_at": now,
    }


def compose(
    settings: Settings, now: datetime, *, worker: Worker | None = None, **fields: Any
) -> OutboundMessage | None:
    """Add an outbound SMS to the session; None when it must not be sent (opted out, a repeat).

    `fields` are `message_row`'s (phone, text, kind, language, urgent, dedupe_key).
    """
    if worker is not None and worker.opted_out and fields["kind"] != "reply":
        return None
    worker_id = worker.id if worker is not None else None
    message = OutboundMessage(**message_row(settings, now, worker_id=worker_id, **fields))
    dedupe_key = fields.get("dedupe_key")
    if dedupe_key is None:
        db.session.add(message)
        return message
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        return None
    return message
