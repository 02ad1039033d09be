"""Rules the database itself enforces, whatever the code above it does."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from models import Checkin, Facility, Flow, FlowVersion, Worker, db
from services.demo import seed_demo


@pytest.fixture
def weekly(app):
    seed_demo()
    version = db.session.scalars(sa.select(FlowVersion)).one()
    facility = db.session.scalars(sa.select(Facility).where(Facility.code == "CSCOM-MLB")).one()
    worker = db.session.scalars(sa.select(Worker).where(Worker.phone == "+22370000011")).one()
    return version, facility, worker


def checkin(
    version: FlowVersion, facility: Facility, worker: Worker | None = None, period="2026-W48"
):
    return Checkin(
        flow_id=version.flow_id,
        flow_version_id=version.id,
        facility_id=facility.id,
        worker_id=worker.id if worker else None,
        period=period,
    )


def test_one_checkin_per_facility_flow_and_period(weekly):
    version, facility, _ = weekly
    db.session.add(checkin(version, facility))
    db.session.commit()
    db.session.add(checkin(version, facility))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(checkin(version, facility, period="2026-W49"))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Checkin.id))) == 2


def test_one_checkin_per_worker_flow_and_period_beside_the_facilitys(weekly):
    version, facility, worker = weekly
    db.session.add_all([checkin(version, facility), checkin(version, facility, worker)])
    db.session.commit()
    db.session.add(checkin(version, facility, worker))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_a_phone_belongs_to_one_worker(weekly):
    _, facility, worker = weekly
    db.session.add(Worker(name="Copie", phone=worker.phone, facility=facility, role="nurse"))
    with pytest.raises(IntegrityError):
        db.session.commit()


@pytest.mark.parametrize(("field", "value"), [("role", "chef"), ("language", "en")])
def test_roles_and_languages_are_checked(weekly, field, value):
    _, facility, _ = weekly
    fields = {"role": "nurse", "language": "fr", field: value}
    db.session.add(Worker(name="X", phone="+22376000001", facility=facility, **fields))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_a_flow_version_number_is_used_once(weekly):
    version, _, _ = weekly
    db.session.add(FlowVersion(flow_id=version.flow_id, version=version.version, source="x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Flow.id))) == 1
