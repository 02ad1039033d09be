"""The weekly digest names the run-chart signals of the CSComs that reported the week.

Twenty weeks of the demo district's weekly check-in, with the indicator (good practice, the
numerator over the denominator) answered: Malibougou's rose to 80% over the last eight weeks
after twelve weeks around 40% (an unusually long run above the median, Anhøj), Kati Dar Salam's
too but it has not reported the digest's week, Sanankoroba's stayed around 40%.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from models import Answer, Checkin, Facility, OutboundMessage, ScheduleRun, Worker, db
from services.demo import seed_demo
from services.digests import Digest
from services.flow_store import active_flows, definition

WEEK = "2026-W49"
MONDAY = datetime(2026, 11, 30, 8, tzinfo=UTC)  # W49 opened then
AWA = "+22370000001"  # the supervisor of Kati
BASELINE = [7, 9] * 6  # 35% and 45% of 20 eligible cases: a median of 40%
ROSE = [*BASELINE, *[16] * 8]  # 80% for the last eight weeks


def complete(code: str, numerators: list[int], skip_last: bool = False) -> None:
    """The CSCom's completed check-ins of the weeks up to WEEK, one numerator each (of 20)."""
    facility = db.session.scalar(sa.select(Facility).where(Facility.code == code))
    worker = db.session.scalar(sa.select(Worker).where(Worker.facility_id == facility.id))
    active = active_flows()[0]
    for back, numerator in enumerate(reversed(numerators)):
        if skip_last and back == 0:
            continue
        opened = MONDAY - timedelta(weeks=back)
        year, week, _ = opened.isocalendar()
        checkin = Checkin(
            flow_id=active.flow_id,
            flow_version_id=active.version_id,
            facility_id=facility.id,
            period=f"{year}-W{week:02d}",
            status="completed",
            opened_at=opened,
            closes_at=opened + timedelta(weeks=1),
            completed_at=opened + timedelta(hours=2),
            completed_by_id=worker.id,
        )
        db.session.add(checkin)
        db.session.flush()
        for key, value in (("denominator", 20), ("numerator", numerator), ("met", "yes")):
            db.session.add(Answer.of(key, value, checkin_id=checkin.id, worker_id=worker.id))


@pytest.fixture
def history(app):
    seed_demo()
    complete("CSCOM-MLB", ROSE)
    complete("CSCOM-KTD", ROSE, skip_last=True)
    complete("CSCOM-SNB", [*BASELINE, *[7, 9] * 4])
    flow_id = active_flows()[0].flow_id
    db.session.add(ScheduleRun(key=f"open:{flow_id}:{WEEK}", done_at=MONDAY))
    db.session.commit()


def digest_of(app, phone: str) -> str:
    active = active_flows()[0]
    now = datetime(2026, 12, 7, 7, tzinfo=UTC)
    report = Digest(
        app.config["SETTINGS"], now, active.flow_id, definition(active.version_id), WEEK
    )
    report.write(db.session.connection())
    db.session.commit()
    return db.session.scalar(sa.select(OutboundMessage.text).where(OutboundMessage.phone == phone))


def test_the_digest_names_the_signal_of_a_cscom_that_reported_the_week(app, history):
    assert digest_of(app, AWA) == (
        "QI S49 CSRef de Kati: 2/3 ont répondu. Manquants: CSCOM-KTD. "
        "Signaux: CSCOM-MLB Bonne pratique hausse durable"
    )
