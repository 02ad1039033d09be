"""What a supervisor or regional viewer may read, for SMS (MANQUANTS, DETAIL) and the USSD menu.

Every read starts from services/scope.py's `cscoms_in_scope`, so a code outside the person's
district (or region) is found exactly as often as a code that does not exist: never. Answers
come back as plain values for supervision/replies.py to fit into an SMS or a screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from flows.definition import Flow as FlowDefinition
from flows.engine import Submission, triggered_alerts
from flows.schedule import current_period, short_period
from models import Answer, Checkin, Facility, Worker, db
from models.directory import VIEWER_ROLES
from services.expected import statuses
from services.flow_store import active_flows, definition
from services.scope import cscoms_in_scope
from services.submissions import alert_text
from supervision.commands import same_code
from supervision.replies import LatestCheckin, MissingList

ALERT_DAYS = 7
""""This week's alerts": those raised by check-ins completed in the last seven days."""


@dataclass(frozen=True)
class Cscom:
    id: int
    code: str
    name: str


def is_viewer(worker: Worker) -> bool:
    """Supervisors and regional viewers oversee CSComs rather than answer check-ins."""
    return worker.role in VIEWER_ROLES


def scope(viewer: Worker) -> sa.Select:
    """The ids of the CSComs `viewer` may see (the one scoping function)."""
    return cscoms_in_scope(viewer.role, viewer.facility_id)


def find_cscom(viewer: Worker, typed: str) -> Cscom | None:
    """The CSCom of `viewer`'s scope whose code `typed` names; None if unknown or outside it.

    Codes are compared as keywords are (case, accents, punctuation aside), over the scope's
    codes only: a district or a region holds tens to hundreds, one small read.
    """
    rows = db.session.execute(
        sa.select(Facility.id, Facility.code, Facility.name).where(Facility.id.in_(scope(viewer)))
    )
    return next((Cscom(*row) for row in rows if same_code(typed, row.code)), None)


def missing_lists(viewer: Worker, now: datetime, timezone: str) -> list[MissingList]:
    """Per active scheduled flow, its current period's expected CSComs in scope still missing."""
    local = now.astimezone(ZoneInfo(timezone))
    lists = []
    for active in active_flows():
        flow = definition(active.version_id)
        if flow.schedule is None:
            continue
        period = current_period(flow.schedule, local).label
        found = statuses(
            db.session.connection(), active.flow_id, flow.schedule, period, scope(viewer)
        )
        subject = f"{short_period(period)} {flow.text(flow.title, viewer.language)}"
        missing = [(status.code, status.name) for status in found if not status.reported]
        lists.append(MissingList(subject, len(found), missing))
    return lists


def latest_checkin(cscom: Cscom, timezone: str) -> LatestCheckin | None:
    """The CSCom's latest completed check-in, any flow, with its answers."""
    checkin = db.session.scalar(
        sa.select(Checkin)
        .where(Checkin.facility_id == cscom.id, Checkin.status == "completed")
        .order_by(Checkin.completed_at.desc(), Checkin.id.desc())
        .limit(1)
    )
    if checkin is None:
        return None
    flow = definition(checkin.flow_version_id)
    by = checkin.completed_by.name if checkin.completed_by else "?"
    return LatestCheckin(
        cscom.code, _period(flow, checkin, timezone), by, flow, _answers([checkin.id])[checkin.id]
    )


def week_alerts(viewer: Worker, now: datetime) -> list[tuple[str, bool]]:
    """The alerts (text, urgent) that check-ins in scope raised in the last `ALERT_DAYS` days.

    Read again from the stored answers with the flow's own conditions and texts, so a
    regional viewer (to whom alerts are not sent) sees the same as the district's supervisor.
    """
    rows = db.session.execute(
        sa.select(
            Checkin.id,
            Checkin.flow_version_id,
            Checkin.period,
            Facility.code,
            Worker.name,
            Worker.phone,
        )
        .join(Facility, Facility.id == Checkin.facility_id)
        .outerjoin(Worker, Worker.id == Checkin.completed_by_id)
        .where(
            Checkin.status == "completed",
            Checkin.completed_at >= now - timedelta(days=ALERT_DAYS),
            Checkin.facility_id.in_(scope(viewer)),
        )
        .order_by(Checkin.completed_at.desc())
    ).all()
    given = _answers([row.id for row in rows])
    alerts = []
    for row in rows:
        flow = definition(row.flow_version_id)
        submission = Submission(given[row.id], {}, ())
        fields = {
            "facility": row.code,
            "name": row.name,
            "phone": row.phone,
            "period": row.period,
            "flow": flow.text(flow.title, viewer.language),
        }
        alerts += [
            (alert_text(flow, alert, submission, viewer.language, fields), alert.urgent)
            for alert in triggered_alerts(flow, given[row.id])
        ]
    return alerts


def _answers(checkin_ids: list[int]) -> dict[int, dict[str, str | int]]:
    """Each check-in's reference answers (its first submission) by question key, in one statement."""
    found: dict[int, dict[str, str | int]] = {checkin_id: {} for checkin_id in checkin_ids}
    if not checkin_ids:
        return found
    query = sa.select(Answer).where(Answer.checkin_id.in_(checkin_ids), Answer.reference.is_(True))
    for answer in db.session.scalars(query):
        if answer.value is not None:
            found[answer.checkin_id][answer.question_key] = answer.value
    return found


def _period(flow: FlowDefinition, checkin: Checkin, timezone: str) -> str:
    """S49 for a scheduled period; the completion day (27/11) for an on-demand check-in."""
    if flow.schedule is not None:
        return short_period(checkin.period)
    return checkin.completed_at.astimezone(ZoneInfo(timezone)).strftime("%d/%m")
