"""Delivery reports: they only move a message forward, and none is dropped for arriving early.

A report can reach us before the worker has recorded the gateway id it quotes (the gateway
answers the send, then reports within milliseconds). Such a report is kept in
`early_delivery_reports` and applied as soon as the id is known. Both sides write first and
read second (the webhook stores the report, then looks for the id; the worker commits the
ids, then looks for reports), so whichever commits last sees the other's write: a report
can be applied twice, which moving forward only makes harmless, but never zero times.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from models import OutboundMessage, db
from models.messages import EarlyDeliveryReport

PROGRESS = {
    "pending": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "submitted": 4,
    "buffered": 5,
    "absent": 6,
    "expired": 7,
    "success": 9,
    "failed": 9,
    "rejected": 9,
    "cancelled": 9,
}
"""A report may only move a message forward: a late `sent` never undoes `success`."""


def advance(message: OutboundMessage, status: str, reason: str | None, now: datetime) -> bool:
    """Apply one report to `message` if it moves it forward; says whether it did."""
    if PROGRESS[status] <= PROGRESS[message.status]:
        return False
    message.status = status
    message.failure_reason = reason
    message.updated_at = now
    return True


def keep_early(gateway_id: str, status: str, reason: str | None, now: datetime) -> None:
    """Store a report whose message id is not recorded yet (the caller commits)."""
    db.session.add(
        EarlyDeliveryReport(
            gateway_id=gateway_id, status=status, failure_reason=reason, received_at=now
        )
    )


def apply_early(now: datetime) -> int:
    """Apply and forget every kept report whose message id is recorded (the caller commits).

    It sees the ids committed before it runs, so a caller that records ids calls it in a
    later transaction. A join, not a list of ids: the table is nearly always empty, and a
    wave records up to thousands of ids at once.
    """
    found = db.session.execute(
        sa.select(EarlyDeliveryReport, OutboundMessage)
        .join(OutboundMessage, OutboundMessage.gateway_id == EarlyDeliveryReport.gateway_id)
        .order_by(EarlyDeliveryReport.id)
        .with_for_update()
    ).all()
    for report, message in found:
        advance(message, report.status, report.failure_reason, now)
    if found:
        db.session.execute(
            sa.delete(EarlyDeliveryReport).where(
                EarlyDeliveryReport.id.in_([report.id for report, _ in found])
            )
        )
    return len(found)
