"""The weekly digest: what the database says about one week, for each supervisor and region.

A supervisor learns in one SMS how many CSComs of their district reported, which are missing,
the week's alerts and the run-chart signals; a regional viewer, each district's share. The
texts are composed by supervision/texts.py within two GSM-7 segments; this module reads what
they need with a handful of statements over every CSCom at once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from config import Settings
from flows.definition import Alert
from flows.definition import Flow as FlowDefinition
from flows.engine import triggered_alerts
from flows.schedule import subject_of
from flows.templates import render
from models import Answer, Checkin, Facility, ScheduleRun, Worker
from services.expected import CscomStatus, statuses
from services.flow_store import definition
from services.outbox import message_row
from services.started_messages import write
from supervision.indicators import Row, series_of, week_signals_of
from supervision.texts import DistrictWeek, WeekAlert, WeekSignal, digest_text, regional_text

HISTORY = 104
"""Periods of history a run chart looks back on (two years of weeks)."""
_EMPTY_PARENS = re.compile(r"\s*\(\W*\)")


class Digest:
    """One flow's digest about one period, for every supervisor and regional viewer."""

    def __init__(
        self, settings: Settings, now: datetime, flow_id: int, flow: FlowDefinition, period: str
    ) -> None:
        self.settings, self.now = settings, now
        self.flow_id, self.flow, self.period = flow_id, flow, period

    def write(self, connection: sa.Connection) -> int:
        """Write each viewer's digest to the outbox; returns how many were written."""
        if not self._was_open(connection):
            return 0  # nobody was asked that week: nothing to report
        week = Week.read(self, connection)
        rows = []
        for person in _viewers(connection, list(week.districts)):
            subject = subject_of(self.period)
            if person.role == "supervisor":
                district = week.district(person.facility_id, person.language)
                text = digest_text(subject, district, person.language)
            else:
                districts = week.region(person.facility_id, person.language)
                text = regional_text(subject, person.facility_name, districts, person.language)
            rows.append(self._row(person, text))
        return write(connection, self.settings, rows)

    # -- what the week holds ----------------------------------------------------------------------

    def _was_open(self, connection: sa.Connection) -> bool:
        """Whether the service invited for this period (not started later, nor opened late)."""
        base = f"{self.flow_id}:{self.period}"
        marks = set(
            connection.scalars(
                sa.select(ScheduleRun.key).where(
                    ScheduleRun.key.in_([f"open:{base}", f"uninvited:{base}"])
                )
            )
        )
        return marks == {f"open:{base}"}

    def alerts(self, connection: sa.Connection) -> Iterator[tuple[str, FlowDefinition, Alert]]:
        """The alerts the week's submissions raised, re-read from their answers."""
        for (code, version_id, _), answers in sorted(
            self._answers(connection, [self.period]).items()
        ):
            flow = definition(version_id)
            for alert in triggered_alerts(flow, answers):
                yield code, flow, alert

    def signals(self, connection: sa.Connection) -> list[WeekSignal]:
        """Each CSCom's run-chart signals reaching this period, per indicator of the flow."""
        if not self.flow.indicators:
            return []
        periods = history_periods(connection, self.flow_id, self.period)
        # Only the CSComs that completed this period: one without a point this period has no
        # signal to report (indicators.signals_in).
        reporting = sa.select(Checkin.facility_id).where(self._completed([self.period]))
        query, columns = _indicator_query(self.flow_id, self.flow, periods, reporting)
        rows = connection.execute(query).all()
        found = []
        for indicator in self.flow.indicators:
            # Each check-in's two answers read straight off its row, as indicator_rows reads
            # them: a national history is some 60,000 rows, too many for a Row and a dict each.
            numerator = columns[indicator.numerator]
            denominator = columns.get(indicator.denominator or "", numerator)
            entries = (
                (
                    row[0],
                    row[1],
                    row[numerator] if row[numerator] is not None else row[numerator + 1],
                    row[denominator] if row[denominator] is not None else row[denominator + 1],
                )
                for row in rows
            )
            found += week_signals_of(indicator, series_of(indicator, entries), self.period)
        return found

    def _answers(self, connection, periods) -> dict:
        """Completed check-ins' answers of `periods`, by (CSCom code, flow version, check-in):
        a `per: worker` flow has several check-ins per CSCom, each judged on its own answers."""
        query = (
            sa.select(
                Facility.code,
                Checkin.flow_version_id,
                Checkin.id,
                Answer.question_key,
                Answer.value_text,
                Answer.value_number,
            )
            .join(Checkin, Checkin.id == Answer.checkin_id)
            .join(Facility, Facility.id == Checkin.facility_id)
            .where(self._completed(periods), Answer.reference.is_(True))
        )
        grouped: dict = defaultdict(dict)
        for code, version_id, checkin_id, key, text, number in connection.execute(query).all():
            grouped[(code, version_id, checkin_id)][key] = number if number is not None else text
        return grouped

    def _completed(self, periods) -> sa.ColumnElement[bool]:
        return _completed(self.flow_id, periods)

    def _row(self, person, text: str) -> dict:
        return message_row(
            self.settings,
            self.now,
            phone=person.phone,
            text=text,
            kind="digest",
            language=person.language,
            worker_id=person.id,
            dedupe_key=f"digest:{self.flow_id}:{self.period}:{person.id}",
        )


def history_periods(connection: sa.Connection, flow_id: int, until: str | None) -> list[str]:
    """The periods a run chart reaching `until` looks back on (all when None), newest first:
    the latest HISTORY periods the flow has check-ins for. The digest and the console's facility
    page read the same ones, so a chart shows the signals the digest named."""
    query = sa.select(Checkin.period).where(Checkin.flow_id == flow_id)
    if until is not None:
        query = query.where(Checkin.period <= until)
    return connection.scalars(query.distinct().order_by(Checkin.period.desc()).limit(HISTORY)).all()


def indicator_rows(
    connection: sa.Connection,
    flow_id: int,
    flow: FlowDefinition,
    periods: list[str],
    facilities: sa.Select,
) -> list[Row]:
    """The answers `flow`'s indicators read, of completed check-ins of `periods` at
    `facilities` (a SELECT of facility ids): one Row per check-in (CSCom code, period), so
    several check-ins of one CSCom and period (`per: worker`) add up as points.

    One row per check-in, its answers side by side (a join per key on its one reference
    answer): a national history is then half the rows to fetch and group.
    """
    query, columns = _indicator_query(flow_id, flow, periods, facilities)
    rows = []
    for row in connection.execute(query).all():
        answers: dict[str, object] = {}
        for key, at in columns.items():
            number, text = row[at], row[at + 1]
            if number is not None:
                answers[key] = number
            elif text is not None:
                answers[key] = text
        rows.append(Row(row[0], row[1], answers))
    return rows


def _indicator_query(
    flow_id: int, flow: FlowDefinition, periods: list[str], facilities: sa.Select
) -> tuple[sa.Select, dict[str, int]]:
    """indicator_rows' statement, and where each answer key's (value_number, value_text) pair
    starts in its rows."""
    keys = sorted({k for i in flow.indicators for k in (i.numerator, i.denominator) if k})
    query = sa.select(Facility.code, Checkin.period, Checkin.id).join(
        Facility, Facility.id == Checkin.facility_id
    )
    for key in keys:
        answer = aliased(Answer)
        query = query.outerjoin(
            answer,
            sa.and_(
                answer.checkin_id == Checkin.id,
                answer.question_key == key,
                answer.reference.is_(True),
            ),
        ).add_columns(answer.value_number, answer.value_text)
    query = query.where(_completed(flow_id, periods), Checkin.facility_id.in_(facilities))
    return query, {key: 3 + 2 * index for index, key in enumerate(keys)}


def _completed(flow_id: int, periods) -> sa.ColumnElement[bool]:
    return sa.and_(
        Checkin.flow_id == flow_id,
        Checkin.status == "completed",
        Checkin.period.in_(periods),
    )


@dataclass(frozen=True)
class Week:
    """What a digest reports, read once and phrased in each reader's language."""

    cscoms: tuple[CscomStatus, ...]
    alerts: tuple[tuple[str, FlowDefinition, Alert], ...]
    """(CSCom code, the flow version answered, an alert its answers raised)."""
    signals: tuple[WeekSignal, ...]
    districts: dict[int, tuple[str, int | None]]
    """CSRef id -> (name, region id)."""

    @classmethod
    def read(cls, digest: Digest, connection: sa.Connection) -> Week:
        cscoms = statuses(connection, digest.flow_id, digest.flow.schedule, digest.period)
        rows = connection.execute(
            sa.select(Facility.id, Facility.name, Facility.parent_id).where(
                Facility.id.in_({c.district_id for c in cscoms})
            )
        ).all()
        return cls(
            tuple(cscoms),
            tuple(digest.alerts(connection)),
            tuple(digest.signals(connection)),
            {row.id: (row.name, row.parent_id) for row in rows},
        )

    def district(self, district_id: int, language: str) -> DistrictWeek:
        members = [c for c in self.cscoms if c.district_id == district_id]
        codes = {c.code for c in members}
        alerts = [
            WeekAlert(code, short_alert(flow.text(alert.text, language)), alert.urgent)
            for code, flow, alert in self.alerts
            if code in codes
        ]
        return DistrictWeek(
            self.districts[district_id][0],
            tuple(c.code for c in members),
            tuple(c.code for c in members if c.reported),
            tuple(alerts),
            tuple(s for s in self.signals if s.code in codes),
        )

    def region(self, region_id: int, language: str) -> list[DistrictWeek]:
        return [
            self.district(district_id, language)
            for district_id, (_, region) in sorted(self.districts.items())
            if region == region_id
        ]


def _viewers(connection: sa.Connection, district_ids: list[int]):
    """The supervisors of these districts and the regional viewers of their regions."""
    region = aliased(Facility)
    district = aliased(Facility)
    regions = sa.select(district.parent_id).where(district.id.in_(district_ids))
    return connection.execute(
        sa.select(
            Worker.id,
            Worker.phone,
            Worker.language,
            Worker.role,
            Worker.facility_id,
            region.name.label("facility_name"),
        )
        .join(region, region.id == Worker.facility_id)
        .where(
            Worker.active.is_(True),
            Worker.opted_out.is_(False),
            sa.or_(
                sa.and_(Worker.role == "supervisor", Worker.facility_id.in_(district_ids)),
                sa.and_(Worker.role == "regional", Worker.facility_id.in_(regions)),
            ),
        )
        .order_by(Worker.id)
    ).all()


def short_alert(alert_text: str) -> str:
    """An alert's own words, without the facility and person it names: the digest says which
    CSCom already, and has no room for the rest."""
    bare = render(alert_text, {})
    return _EMPTY_PARENS.sub("", bare).strip(" :;,-")
