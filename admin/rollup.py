"""Completion of the scheduled flows over their recent periods: who reported, x of y.

Built on services/expected.py's `statuses` (who is expected and who reported, the contract's
rule, including `per: worker` flows), one statement per period over every CSCom in scope, then
counted here by district (the roll-up) or laid out by CSCom (a district's grid).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from flows.definition import Flow as FlowDefinition
from flows.definition import Schedule
from flows.schedule import current_period, short_period
from models import Facility, db
from services.expected import CscomStatus, statuses
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
class _FlowStatuses:
    flow: FlowDefinition
    periods: tuple[str, ...]
    by_period: tuple[list[CscomStatus], ...]


def recent_periods(schedule: Schedule, local_now: datetime, count: int = PERIODS) -> list[str]:
    """The labels of the open period and the `count - 1` before it, newest first."""
    period = current_period(schedule, local_now)
    labels = [period.label]
    while len(labels) < count:
        period = current_period(schedule, period.opens_at - timedelta(seconds=1))
        labels.append(period.label)
    return labels


def district_rollup(scope: sa.Select, now: datetime, timezone: str) -> list[FlowTable]:
    """Per scheduled flow, one line per district with CSComs expected in `scope`."""
    tables = []
    for found in _statuses(scope, now, timezone):
        counts = [_by_district(statuses) for statuses in found.by_period]
        district_ids = sorted({district for count in counts for district in count})
        names = _facilities(district_ids)
        lines = [
            Line(
                district,
                *names[district],
                tuple(Cell(*count.get(district, (0, 0))) for count in counts),
            )
            for district in sorted(district_ids, key=lambda d: names[d][1])
        ]
        tables.append(_table(found, lines))
    return tables


def district_grid(scope: sa.Select, now: datetime, timezone: str) -> list[FlowTable]:
    """Per scheduled flow, one line per CSCom expected in `scope`: reported (1/1) or not (0/1)."""
    tables = []
    for found in _statuses(scope, now, timezone):
        cscoms = {s.facility_id: s for statuses in found.by_period for s in statuses}
        reported = [{s.facility_id: s.reported for s in statuses} for statuses in found.by_period]
        lines = [
            Line(
                cscom.facility_id,
                cscom.code,
                cscom.name,
                tuple(
                    Cell(int(done.get(cscom.facility_id, False)), int(cscom.facility_id in done))
                    for done in reported
                ),
            )
            for cscom in sorted(cscoms.values(), key=lambda s: s.code)
        ]
        tables.append(_table(found, lines))
    return tables


def _statuses(scope: sa.Select, now: datetime, timezone: str) -> list[_FlowStatuses]:
    local = now.astimezone(ZoneInfo(timezone))
    connection = db.session.connection()
    found = []
    for active in active_flows():
        flow = definition(active.version_id)
        if flow.schedule is None:
            continue
        periods = recent_periods(flow.schedule, local)
        by_period = tuple(
            statuses(connection, active.flow_id, flow.schedule, period, scope) for period in periods
        )
        found.append(_FlowStatuses(flow, tuple(periods), by_period))
    return found


def _table(found: _FlowStatuses, lines: list[Line]) -> FlowTable:
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


def _by_district(found: list[CscomStatus]) -> dict[int, tuple[int, int]]:
    """district id -> (reported, expected); a CSCom filed under no CSRef belongs to no line."""
    found = [s for s in found if s.district_id is not None]
    expected = Counter(s.district_id for s in found)
    reported = Counter(s.district_id for s in found if s.reported)
    return {district: (reported[district], n) for district, n in expected.items()}


def _facilities(ids: list[int]) -> dict[int, tuple[str, str]]:
    rows = db.session.execute(
        sa.select(Facility.id, Facility.code, Facility.name).where(Facility.id.in_(ids))
    )
    return {row.id: (row.code, row.name) for row in rows}
