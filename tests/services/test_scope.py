"""The one scoping function, per role: which CSComs a person may see (services/scope.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models import Facility, db
from services.scope import cscoms_in_scope
from tests.supervision.districts import facility_by_code, seed_districts

KATI = {"CSCOM-MLB", "CSCOM-KTD", "CSCOM-SNB"}


@pytest.fixture
def districts(app):
    seed_districts()


def seen(role: str, facility_code: str | None) -> set[str]:
    facility_id = facility_by_code(facility_code).id if facility_code else None
    query = sa.select(Facility.code).where(Facility.id.in_(cscoms_in_scope(role, facility_id)))
    return set(db.session.scalars(query))


def test_a_supervisor_sees_the_cscoms_of_their_csref_only(districts):
    assert seen("supervisor", "CSREF-KATI") == KATI
    assert seen("supervisor", "CSREF-KLK") == {"CSCOM-KLB"}


def test_a_regional_viewer_sees_the_cscoms_of_every_district_of_their_region(districts):
    assert seen("regional", "REG-KKR") == KATI | {"CSCOM-KLB"}
    assert seen("regional", "REG-SGU") == {"CSCOM-SGU"}


def test_an_admin_sees_every_cscom(districts):
    assert seen("admin", None) == KATI | {"CSCOM-KLB", "CSCOM-SGU"}


@pytest.mark.parametrize("role", ["qi_focal_point", "dtc", "midwife", "nurse", "other"])
def test_a_health_worker_oversees_nothing_not_even_their_own_cscom(districts, role):
    assert seen(role, "CSCOM-MLB") == set()


@pytest.mark.parametrize("role", ["supervisor", "regional"])
def test_a_viewer_without_a_facility_sees_nothing(districts, role):
    assert seen(role, None) == set()


def test_a_role_given_the_wrong_kind_of_facility_sees_nothing_beyond_it(districts):
    assert seen("supervisor", "REG-KKR") == set()  # a region has districts, not CSComs
    assert seen("regional", "CSREF-KATI") == set()  # a CSRef has no districts under it


def test_a_cscom_placed_directly_under_a_region_is_in_no_district(districts):
    db.session.add(
        Facility(
            code="CSCOM-LOST",
            name="Sans district",
            kind="cscom",
            parent=facility_by_code("REG-KKR"),
        )
    )
    db.session.commit()
    assert "CSCOM-LOST" not in seen("regional", "REG-KKR")
    assert "CSCOM-LOST" in seen("admin", None)
