"""Which check-ins a worker may answer now, opening them when due, and submitting them.

The database decides every race: a check-in is unique per facility (or worker), flow and
period, and completing one is a conditional UPDATE, so two colleagues answering at once
cannot both complete it, and the second is told who did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from flows.definition import Flow as FlowDefinition
from flows.engine import Answer as AnswerValue
from flows.schedule import current_period
from models import Answer, Checkin, Flow, FlowVersion, Worker, db
from services.flow_store import active_flows, definition


@dataclass(frozen=True)
class Option:
    """A flow the worker may answer now; `checkin` is None for an on-demand flow not yet begun."""

    flow: Flow
    version: FlowVersion
    checkin: Checkin | None

    @property
    def done(self) -> bool:
        return self.checkin is not None and self.checkin.status == "completed"


def options_for(worker: Worker, now: datetime, timezone: str) -> list[Option]:
    """Every flow this worker may answer at `now`, opening the current period's check-ins."""
    local_now = now.astimezone(ZoneInfo(timezone))
    options = []
    for flow, version in active_flows():
        schedule = definition(version.id).schedule
        if schedule is None:
            options.append(Option(flow, version, None))
        elif not schedule.roles or worker.role in schedule.roles:
            period = current_period(schedule, local_now)
            worker_id = worker.id if schedule.per == "worker" else None
            checkin = _get_or_open(flow, version, worker, worker_id, period.label, period.closes_at)
            options.append(Option(flow, version, checkin))
    return options


def begin_on_demand(option: Option, worker: Worker, now: datetime) -> Checkin:
    """An on-demand flow gets a check-in of its own each time a worker starts it."""
    checkin = Checkin(
        flow_id=option.flow.id,
        flow_version_id=option.version.id,
        facility_id=worker.facility_id,
        worker_id=worker.id,
        period=now.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        opened_at=now,
    )
    db.session.add(checkin)
    db.session.flush()
    return checkin


def _get_or_open(
    flow: Flow,
    version: FlowVersion,
    worker: Worker,
    worker_id: int | None,
    period: str,
    closes_at: datetime,
) -> Checkin:
    query = sa.select(Checkin).where(
        Checkin.flow_id == flow.id,
        Checkin.facility_id == worker.facility_id,
        Checkin.period == period,
        Checkin.worker_id.is_(None) if worker_id is None else Checkin.worker_id == worker_id,
    )
    found = db.session.scalar(query)
    if found is not None:
        return found
    checkin = Checkin(
        flow_id=flow.id,
        flow_version_id=version.id,
        facility_id=worker.facility_id,
        worker_id=worker_id,
        period=period,
        closes_at=closes_at,
    )
    try:
        with db.session.begin_nested():
            db.session.add(checkin)
    except IntegrityError:
        # A colleague opened it in the same instant: theirs is the one.
        return db.session.scalars(query).one()
    return checkin


def submit(
    checkin: Checkin,
    flow: FlowDefinition,
    final: dict[str, AnswerValue],
    raw: dict[str, str],
    worker: Worker,
    session_id: int | None,
    channel: str,
    now: datetime,
) -> bool:
    """Complete `checkin` with `final` answers; False when someone else completed it first."""
    completed = db.session.execute(
        sa.update(Checkin)
        .where(Checkin.id == checkin.id, Checkin.status == "open")
        .values(status="completed", completed_at=now, completed_by_id=worker.id, channel=channel)
        .execution_options(synchronize_session=False)
    )
    if completed.rowcount != 1:
        return False
    db.session.add_all(
        Answer(
            checkin_id=checkin.id,
            session_id=session_id,
            worker_id=worker.id,
            question_key=question.key,
            value_text=None if isinstance(value, int) else value,
            value_number=value if isinstance(value, int) else None,
            raw=raw.get(question.key, ""),
            answered_at=now,
        )
        for question in flow.questions
        if (value := final.get(question.key)) is not None
    )
    db.session.refresh(checkin)
    return True
