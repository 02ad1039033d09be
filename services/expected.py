"""Who is expected to report a scheduled flow's period, and who has (DESIGN.md's contract).

For a scheduled flow and period, each CSCom (or each worker, for `per: worker`) with at least
one active worker of an asked role is expected: all roles but the viewers' (supervisor,
regional) when the schedule names none. Supervisors think in CSComs, so the status is given per
CSCom: with `per: worker`, a CSCom has reported once each of its expected workers has.
Every question here is one SQL statement over all CSComs at once (no loop per facility), so
the national tick, the digest and MANQUANTS cost the same few statements at any size.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from flows.definition import Schedule
from models import Checkin, Facility, Worker
from models.directory import VIEWER_ROLES


@dataclass(frozen=True)
class CscomStatus:
    """One CSCom's standing for one flow and period."""

    facility_id: int
    code: str
    name: str
    district_id: int | None
    reported: bool


def asked(schedule: Schedule, worker=Worker) -> sa.ColumnElement[bool]:
    """The condition on `worker` (Worker or an alias) for being asked: active, an asked role."""
    roles = worker.role.in_(schedule.roles) if schedule.roles else worker.role.not_in(VIEWER_ROLES)
    return sa.and_(worker.active.is_(True), roles)


def expected_cscoms(schedule: Schedule) -> sa.Select:
    """SELECT of the ids of the CSComs expected to report: active, with one asked worker or more.

    A deactivated CSCom (closed, merged) is expected no more: no check-in is opened for it,
    and it leaves the counts of reports expected."""
    has_asked = sa.select(Worker.id).where(Worker.facility_id == Facility.id, asked(schedule))
    return sa.select(Facility.id).where(
        Facility.kind == "cscom", Facility.active.is_(True), has_asked.exists()
    )


def statuses(
    connection: sa.Connection,
    flow_id: int,
    schedule: Schedule,
    period: str,
    scope: sa.Select | None = None,
) -> list[CscomStatus]:
    """Every expected CSCom (within `scope`, a SELECT of facility ids) and whether it reported."""
    query = (
        sa.select(
            Facility.id,
            Facility.code,
            Facility.name,
            Facility.parent_id,
            reported(flow_id, schedule, period).label("reported"),
        )
        .where(Facility.id.in_(expected_cscoms(schedule)))
        .order_by(Facility.code)
    )
    if scope is not None:
        query = query.where(Facility.id.in_(scope))
    return [CscomStatus(*row) for row in connection.execute(query)]


def reported(flow_id: int, schedule: Schedule, period: str) -> sa.ColumnElement[bool]:
    """Whether the CSCom of the enclosing query (Facility) reported the period: its team's
    check-in completed, or for a `per: worker` flow, every asked worker's."""
    completed = sa.select(Checkin.id).where(
        Checkin.flow_id == flow_id,
        Checkin.period == period,
        Checkin.status == "completed",
        Checkin.facility_id == Facility.id,
    )
    if schedule.per != "worker":
        return completed.where(Checkin.worker_id.is_(None)).exists()
    late = aliased(Worker)
    pending = sa.select(late.id).where(
        late.facility_id == Facility.id,
        asked(schedule, late),
        ~completed.where(Checkin.worker_id == late.id).exists(),
    )
    return ~pending.exists()
