"""Which check-ins a worker may answer now, opening them when due, and submitting them.

The database decides every race: a check-in is unique per facility (or worker), flow and
period, and completing one is a conditional UPDATE, so two colleagues answering at once
cannot both complete it, and the second is told who did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from flows.definition import Flow as FlowDefinition
from flows.engine import Answer as AnswerValue
from flows.schedule import current_period
from models import Answer, Checkin, Worker, db
from services.flow_store import ActiveFlow, active_flows, definition

_INSERT_BY_DIALECT = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}
_checkins = Checkin.__table__
_answers = Answer.__table__


@dataclass(frozen=True)
class Option:
    """A flow the worker may answer now; `checkin` is None for an on-demand flow not yet begun."""

    flow_id: int
    version_id: int
    checkin: Checkin | None

    @property
    def done(self) -> bool:
        return self.checkin is not None and self.checkin.status == "completed"


def options_for(worker: Worker, now: datetime, timezone: str) -> list[Option]:
    """Every flow this worker may answer at `now`, opening the current period's check-ins."""
    local_now = now.astimezone(ZoneInfo(timezone))
    options = []
    for active in active_flows():
        schedule = definition(active.version_id).schedule
        if schedule is None:
            options.append(Option(active.flow_id, active.version_id, None))
        elif not schedule.roles or worker.role in schedule.roles:
            period = current_period(schedule, local_now)
            worker_id = worker.id if schedule.per == "worker" else None
            checkin = _get_or_open(active, worker, worker_id, period.label, period.closes_at)
            # A session begun now asks the newest version, even of a check-in opened before it
            # was published; sessions under way finish on theirs, and the first to be confirmed
            # gives the check-in its version (`submit`). A colleague's later submission asks the
            # version already confirmed, so the two compare question by question.
            version = active.version_id if checkin.status == "open" else checkin.flow_version_id
            options.append(Option(active.flow_id, version, checkin))
    return options


def begin_on_demand(option: Option, worker: Worker, now: datetime) -> Checkin:
    """An on-demand flow gets a check-in of its own each time a worker starts it."""
    checkin = Checkin(
        flow_id=option.flow_id,
        flow_version_id=option.version_id,
        facility_id=worker.facility_id,
        worker_id=worker.id,
        period=now.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        opened_at=now,
    )
    db.session.add(checkin)
    db.session.flush()
    return checkin


def _get_or_open(
    active: ActiveFlow,
    worker: Worker,
    worker_id: int | None,
    period: str,
    closes_at: datetime,
) -> Checkin:
    """The period's check-in, opened now if nobody has: the unique index settles a tie."""
    query = sa.select(Checkin).where(
        Checkin.flow_id == active.flow_id,
        Checkin.facility_id == worker.facility_id,
        Checkin.period == period,
        Checkin.worker_id.is_(None) if worker_id is None else Checkin.worker_id == worker_id,
    )
    found = db.session.scalar(query)
    if found is not None:
        return found
    insert = _INSERT_BY_DIALECT[db.session.get_bind().dialect.name]
    per_worker = worker_id is not None
    opened = db.session.scalar(
        insert(Checkin)
        .values(
            flow_id=active.flow_id,
            flow_version_id=active.version_id,
            facility_id=worker.facility_id,
            worker_id=worker_id,
            period=period,
            closes_at=closes_at,
        )
        .on_conflict_do_nothing(
            index_elements=["flow_id", "worker_id" if per_worker else "facility_id", "period"],
            index_where=Checkin.worker_id.is_not(None)
            if per_worker
            else Checkin.worker_id.is_(None),
        )
        .returning(Checkin)
    )
    # None: a colleague opened it in the same instant, and theirs is the one.
    return opened if opened is not None else db.session.scalars(query).one()


def submit(
    connection: sa.Connection,
    checkin_id: int,
    flow: FlowDefinition,
    version_id: int,
    final: Mapping[str, AnswerValue],
    raw: Mapping[str, str],
    worker_id: int,
    session_id: int | None,
    channel: str,
    now: datetime,
) -> bool:
    """Store a submission's answers; True when it is the check-in's reference (the first).

    The first completes the check-in and makes `version_id` (the version its session asked)
    the check-in's; a colleague's later one is kept whole, not as the
    reference. Plain statements on the caller's connection, so the USSD fast way and the ORM
    path share it; the caller expires any Checkin object it holds.
    """
    completed = connection.execute(
        sa.update(_checkins)
        .where(_checkins.c.id == checkin_id, _checkins.c.status == "open")
        .values(
            status="completed",
            completed_at=now,
            completed_by_id=worker_id,
            channel=channel,
            flow_version_id=version_id,
        )
    )
    reference = completed.rowcount == 1
    rows = [
        {
            "checkin_id": checkin_id,
            "session_id": session_id,
            "worker_id": worker_id,
            "reference": reference,
            "question_key": question.key,
            "value_text": None if isinstance(value, int) else value,
            "value_number": value if isinstance(value, int) else None,
            "raw": raw.get(question.key, ""),
            "answered_at": now,
        }
        for question in flow.questions
        if (value := final.get(question.key)) is not None
    ]
    if rows:
        connection.execute(sa.insert(_answers), rows)
    return reference
