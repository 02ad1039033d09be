"""Applying a confirmed check-in: the one function every channel and path calls.

The engine decides what a confirmation produces (`flows.engine.Submission`: the answers that
count and the alerts they raise); this module stores it, in the caller's transaction, with plain
statements on a connection. The USSD hot path (its own autocommitting connection), the careful
ORM path and SMS (the ORM session's connection) all come here, so a side effect added to a
submission reaches every channel at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from config import Settings
from flows.definition import Alert
from flows.definition import Flow as FlowDefinition
from flows.engine import Submission
from flows.templates import render
from models import Checkin, Facility, OutboundMessage, Worker
from services import checkins
from services.outbox import message_row

_INSERT_BY_DIALECT = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}
_checkins, _facilities, _workers = Checkin.__table__, Facility.__table__, Worker.__table__
_outbox = OutboundMessage.__table__


@dataclass(frozen=True)
class Submitter:
    """Who confirmed, and through which session and channel."""

    worker_id: int
    session_id: int | None
    channel: str


@dataclass(frozen=True)
class Recorded:
    """What `record` did: whether the submission is the check-in's reference (the first
    completed), and how many alerts it wrote."""

    reference: bool
    alerts: int = 0


def record(
    connection: sa.Connection,
    settings: Settings,
    flow: FlowDefinition,
    version_id: int,
    checkin_id: int,
    submission: Submission,
    by: Submitter,
    now: datetime,
) -> Recorded:
    """Store the submission's answers (of `flow`, published as `version_id`) and write its
    alerts to the outbox.

    A colleague may have completed the check-in first: the answers are kept all the same (not
    as the reference) and their alerts go out, so an urgent request is never dropped.
    """
    reference = checkins.submit(
        connection,
        checkin_id,
        flow,
        version_id,
        submission.answers,
        submission.raw,
        by.worker_id,
        by.session_id,
        by.channel,
        now,
    )
    alerts = _write_alerts(connection, settings, flow, checkin_id, submission, by, now)
    return Recorded(reference, alerts)


def _write_alerts(
    connection: sa.Connection,
    settings: Settings,
    flow: FlowDefinition,
    checkin_id: int,
    submission: Submission,
    by: Submitter,
    now: datetime,
) -> int:
    """One outbox row per alert and supervisor of the facility's CSRef; returns how many.

    The dedupe key (check-in, session, alert, supervisor) makes a repeated submission unable
    to alert twice, while a colleague's submission alerts on its own. Opted-out supervisors are skipped: alerts are messages the service starts.
    """
    if not submission.alerts:
        return 0
    context = connection.execute(
        sa.select(_checkins.c.period, _facilities.c.name, _facilities.c.parent_id)
        .join(_facilities, _facilities.c.id == _checkins.c.facility_id)
        .where(_checkins.c.id == checkin_id)
    ).one()
    submitter = connection.execute(
        sa.select(_workers.c.name, _workers.c.phone).where(_workers.c.id == by.worker_id)
    ).one()
    supervisors = connection.execute(
        sa.select(_workers.c.id, _workers.c.phone, _workers.c.language).where(
            _workers.c.facility_id == context.parent_id,
            _workers.c.role == "supervisor",
            _workers.c.active.is_(True),
            _workers.c.opted_out.is_(False),
        )
    ).all()
    rows = []
    for supervisor in supervisors:
        fields = {
            "facility": context.name,
            "name": submitter.name,
            "phone": submitter.phone,
            "period": context.period,
            "flow": flow.text(flow.title, supervisor.language),
        }
        rows += [
            message_row(
                settings,
                now,
                phone=supervisor.phone,
                text=alert_text(flow, alert, submission, supervisor.language, fields),
                kind="alert",
                language=supervisor.language,
                worker_id=supervisor.id,
                urgent=alert.urgent,
                dedupe_key=(
                    f"alert:{checkin_id}:{by.session_id}:"
                    f"{flow.alerts.index(alert) + 1}:{supervisor.id}"
                ),
            )
            for alert in submission.alerts
        ]
    if not rows:
        return 0
    insert = _INSERT_BY_DIALECT[connection.dialect.name](_outbox)
    written = connection.execute(
        insert.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(_outbox.c.id),
        rows,
    ).all()
    return len(written)


def alert_text(
    flow: FlowDefinition, alert: Alert, submission: Submission, language: str, fields: dict
) -> str:
    """The alert in `language`, its placeholders filled from the answers and `fields`."""
    return render(flow.text(alert.text, language), {**submission.answers, **fields})
