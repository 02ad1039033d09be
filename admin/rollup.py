"""Completion of the scheduled flows over their recent periods: who reported, x of y.

Built on services/expected.py's rule (`expected_cscoms`: who is expected; a team's completed
check-in, or for `per: worker` flows its `reported`, each asked worker's: who reported), one
statement per flow over every CSCom in scope and all its recent periods at once, counted in SQL:
by district for the roll-up (75 lines for the country, not 18,000 statuses to count in Python),
by CSCom for a district's grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from flows.definition import Flow as FlowDefinition
from flows.definition import Schedule
from flows.schedule import recent_periods as schedule_periods
from flows.schedule import short_period
from models import Checkin, Facility, db
from services.expected import expected_cscoms, reported
from services.flow_store import active_flows, definition

PERIODS = 12


@dataclass(frozen=True)
class Cell:
    reported: int
    expected: int

    @property
    def grade(self) -> str:
        """A CSS class; the page also shows x/y as text, so colour is never the only sign."""
        if self.expected == 0:
            return "na"
        if self.reported == self.expected:
            return "all"
        return "some" if self.reported else "none"


@dataclass(frozen=True)
class Line:
    """One row of a table: a district of the roll-up, or a CSCom of a district's grid."""

    id: int
    code: str
    name: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class FlowTable:
    key: str
    title: str
    periods: tuple[str, ...]
    """Short labels (S49), the open period first."""
    lines: tuple[Line, ...]
    total: tuple[Cell, ...]


@dataclass(frozen=True)
class _FlowPeriods:
    flow: FlowDefinition
    periods: tuple[str, ...]
    expected: sa.ColumnElement[bool]
    """The condition on Facility of being expected to report the flow."""
    done: sa.Subquery
    """(facility_id, period) of every report of the periods."""

    def counts(self, aggregate) -> list[sa.ColumnElement[int]]:
        """Per period, `aggregate` (sum: how many CSComs; max: whether one) of its reports."""
        return [
            sa.func.coalesce(aggregate(sa.case((self.done.c.period == period, 1), else_=0)), 0)
            for period in self.periods
        ]


def recent_periods(schedule: Schedule, local_now: datetime, count: int = PERIODS) -> list[str]:
    """The labels of the open period and the `count - 1` before it, newest first."""
    return [period.label for period in schedule_periods(schedule, local_now, count)]


def district_rollup(scope: sa.Select, now: datetime, timezone: str) -> list[FlowTable]:
    """Per scheduled flow, one line per district with CSComs expected in `scope`."""
    tables = []
    for found in _scheduled(now, timezone):
        district = aliased(Facility)
        query = (
            sa.select(
                district.id,
                district.code,
                district.name,
                sa.func.count(sa.distinct(Facility.id)),
                *found.counts(sa.func.sum),
            )
            .select_from(Facility)
            .join(district, district.id == Facility.parent_id)
            .outerjoin(found.done, found.done.c.facility_id == Facility.id)
            .where(found.expected, Facility.id.in_(scope))
            .group_by(district.id, district.code, district.name)
            .order_by(district.name)
        )
        lines = [
            Line(id_, code, name, tuple(Cell(done, expected) for done in reported))
            for id_, code, name, expected, *reported in db.session.execute(query)
        ]
        tables.append(_table(found, lines))
    return tables


def district_grid(scope: sa.Select, now: datetime, timezone: str) -> list[FlowTable]:
    """Per scheduled flow, one line per CSCom expected in `scope`: reported (1/1) or not (0/1)."""
    tables = []
    for found in _scheduled(now, timezone):
        query = (
            sa.select(Facility.id, Facility.code, Facility.name, *found.counts(sa.func.max))
            .outerjoin(found.done, found.done.c.facility_id == Facility.id)
            .where(found.expected, Facility.id.in_(scope))
            .group_by(Facility.id, Facility.code, Facility.name)
            .order_by(Facility.code)
        )
        lines = [
            Line(id_, code, name, tuple(Cell(done, 1) for done in reported))
            for id_, code, name, *reported in db.session.execute(query)
        ]
        tables.append(_table(found, lines))
    return tables


def _scheduled(now: datetime, timezone: str) -> list[_FlowPeriods]:
    """Each current scheduled flow, its recent periods and who reported which of them."""
    local = now.astimezone(ZoneInfo(timezone))
    found = []
    for active in active_flows():
        flow = definition(active.version_id)
        if flow.schedule is None:
            continue
        periods = tuple(recent_periods(flow.schedule, local))
        expected = Facility.id.in_(expected_cscoms(flow.schedule))
        done = _done(active.flow_id, flow.schedule, periods, expected)
        found.append(_FlowPeriods(flow, periods, expected, done))
    return found


def _done(
    flow_id: int, schedule: Schedule, periods: tuple[str, ...], expected: sa.ColumnElement[bool]
) -> sa.Subquery:
    """(facility_id, period) of each CSCom that reported each of `periods`.

    A team's report is its completed check-in (one per CSCom and period, a unique index says):
    one scan of the periods' check-ins. A `per: worker` flow's CSCom has reported once each of
    its asked workers has: services/expected.py's condition, period by period.
    """
    if schedule.per != "worker":
        return (
            sa.select(Checkin.facility_id, Checkin.period)
            .where(
                Checkin.flow_id == flow_id,
                Checkin.status == "completed",
                Checkin.period.in_(periods),
                Checkin.worker_id.is_(None),
            )
            .subquery()
        )
    return sa.union_all(
        *(
            sa.select(Facility.id.label("facility_id"), sa.literal(period).label("period")).where(
                expected, reported(flow_id, schedule, period)
            )
            for period in periods
        )
    ).subquery()


def _table(found: _FlowPeriods, lines: list[Line]) -> FlowTable:
    total = tuple(
        Cell(
            sum(line.cells[i].reported for line in lines),
            sum(line.cells[i].expected for line in lines),
        )
        for i in range(len(found.periods))
    )
    return FlowTable(
        found.flow.key,
        found.flow.text(found.flow.title, "fr"),
        tuple(short_period(label) for label in found.periods),
        tuple(lines),
        total,
    )
