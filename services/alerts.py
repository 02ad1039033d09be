"""Alerts to supervisors when a submitted check-in meets an alert's conditions.

Written to the outbox in the same transaction as the answers, so an alert exists exactly
when its answers do; the dedupe key makes a second submission path unable to alert twice.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from config import Settings
from flows.definition import Flow
from flows.engine import Answer, triggered_alerts
from flows.templates import render
from models import Checkin, OutboundMessage, Worker, db
from services.outbox import compose


def supervisors_of(checkin: Checkin) -> list[Worker]:
    """The active supervisors at the CSRef above the check-in's facility."""
    parent_id = checkin.facility.parent_id
    if parent_id is None:
        return []
    return list(
        db.session.scalars(
            sa.select(Worker).where(
                Worker.facility_id == parent_id,
                Worker.role == "supervisor",
                Worker.active.is_(True),
            )
        )
    )


def queue_alerts(
    settings: Settings,
    checkin: Checkin,
    flow: Flow,
    final: dict[str, Answer],
    worker: Worker,
    now: datetime,
) -> list[OutboundMessage]:
    alerts = triggered_alerts(flow, final)
    if not alerts:
        return []
    queued = []
    for number, alert in enumerate(flow.alerts, 1):
        if alert not in alerts:
            continue
        for supervisor in supervisors_of(checkin):
            fields = dict(
                final,
                facility=checkin.facility.name,
                name=worker.name,
                phone=worker.phone,
                period=checkin.period,
                flow=flow.text(flow.title, supervisor.language),
            )
            message = compose(
                settings,
                now,
                phone=supervisor.phone,
                text=render(flow.text(alert.text, supervisor.language), fields),
                kind="alert",
                language=supervisor.language,
                worker=supervisor,
                urgent=alert.urgent,
                dedupe_key=f"alert:{checkin.id}:{number}:{supervisor.id}",
            )
            if message is not None:
                queued.append(message)
    return queued
