"""The first page after login: completion by district over the last twelve periods, x/y in
text, each person within their scope; a district's grid of CSComs; the national roll-up light
enough for a phone over 3G."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from admin.rollup import PERIODS, recent_periods
from flows.definition import Schedule
from models import Checkin, Facility, Worker, db
from services.flow_store import active_flows, definition
from tests.admin.conftest import ADMIN, REGIONAL, SUPERVISOR, page_text

ROW = re.compile(r'<tr><th scope="row">(.*?)</tr>', re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>")
TAG = re.compile(r"<[^>]+>")


def rows(page: str) -> dict[str, list[str]]:
    """Each table line's first cell (its name, without the code under it) -> its cells' text."""
    found = {}
    for row in ROW.findall(page):
        name = TAG.sub("", row.split("</th>")[0].split("<small>")[0])
        found[name] = CELL.findall(row)
    return found


def periods_now() -> list[str]:
    flow = definition(active_flows()[0].version_id)
    return recent_periods(flow.schedule, datetime.now(ZoneInfo("Africa/Bamako")))


def complete(code: str, period: str) -> None:
    facility = db.session.scalar(sa.select(Facility).where(Facility.code == code))
    active = active_flows()[0]
    db.session.add(
        Checkin(
            flow_id=active.flow_id,
            flow_version_id=active.version_id,
            facility_id=facility.id,
            period=period,
            status="completed",
            completed_at=datetime.now(UTC),
        )
    )
    db.session.commit()


@pytest.fixture
def reports(region) -> list[str]:
    """Malibougou reported the open period and the one before; Kati Dar Salam only the one before."""
    periods = periods_now()
    complete("CSCOM-MLB", periods[0])
    complete("CSCOM-MLB", periods[1])
    complete("CSCOM-KTD", periods[1])
    return periods


def test_the_admin_sees_each_district_reported_x_of_y_newest_period_first(signed_in, reports):
    page = page_text(signed_in(ADMIN).get("/admin/"))
    lines = rows(page)
    assert set(lines) == {"CSRef de Kati", "CSRef de Koulikoro", "CSRef de Ségou", "Total"}
    assert lines["CSRef de Kati"] == ["1/3", "2/3", *["0/3"] * (PERIODS - 2)]
    assert lines["CSRef de Koulikoro"] == ["0/1"] * PERIODS
    assert lines["Total"][:2] == ["1/5", "2/5"]
    week = reports[0].split("-W")[1]
    assert f"S{week}<small>en cours</small>" in page
    assert "Suivi QI" in page


def test_a_supervisor_sees_only_their_district(signed_in, reports):
    lines = rows(page_text(signed_in(SUPERVISOR).get("/admin/")))
    assert set(lines) == {"CSRef de Kati"}
    assert lines["CSRef de Kati"][:2] == ["1/3", "2/3"]


def test_a_regional_viewer_sees_the_districts_of_their_region(signed_in, reports):
    lines = rows(page_text(signed_in(REGIONAL).get("/admin/")))
    assert set(lines) == {"CSRef de Kati", "CSRef de Koulikoro", "Total"}


def test_a_district_page_says_which_cscom_reported_each_period(signed_in, reports, region):
    page = page_text(signed_in(SUPERVISOR).get(f"/admin/districts/{region['CSREF-KATI']}"))
    lines = rows(page)
    assert lines["CSCom Malibougou"][:3] == ["oui", "oui", "non"]
    assert lines["CSCom Kati Dar Salam"][:3] == ["pas encore", "oui", "non"]
    assert lines["CSCom Sanankoroba"][:3] == ["pas encore", "non", "non"]
    assert "CSCom Koulikoro Gare" not in lines


def test_a_district_outside_every_scope_is_not_found(signed_in):
    assert signed_in(ADMIN).get("/admin/districts/999999").status_code == 404


@pytest.mark.parametrize(
    ("schedule", "now", "expected"),
    [
        (Schedule("week", "mon 08:00"), datetime(2026, 12, 2, 10), ["2026-W49", "2026-W48"]),
        (Schedule("week", "mon 08:00"), datetime(2026, 11, 30, 7), ["2026-W48", "2026-W47"]),
        (Schedule("week", "mon 08:00"), datetime(2026, 1, 6, 9), ["2026-W02", "2026-W01"]),
        (Schedule("month", "1 08:00"), datetime(2026, 1, 15), ["2026-01", "2025-12"]),
        (Schedule("day", "07:00"), datetime(2026, 3, 1, 8), ["2026-03-01", "2026-02-28"]),
    ],
)
def test_recent_periods_are_the_open_one_and_those_before_it(schedule, now, expected):
    local = now.replace(tzinfo=ZoneInfo("Africa/Bamako"))
    found = recent_periods(schedule, local)
    assert found[:2] == expected
    assert len(found) == PERIODS == len(set(found))


def test_the_national_roll_up_of_75_districts_stays_under_100_kb(app, signed_in, region):
    national(districts=75, cscoms=20, periods=periods_now())
    started = time.perf_counter()
    response = signed_in(ADMIN).get("/admin/")
    elapsed = time.perf_counter() - started
    page = response.get_data()
    assert response.status_code == 200
    assert len(rows(page.decode())) == 75 + 3 + 1  # the demo's and Ségou's districts, the total
    assert len(page) < 100_000, f"{len(page)} bytes"
    print(f"national roll-up: {len(page)} bytes in {elapsed:.2f} s")


def national(districts: int, cscoms: int, periods: list[str]) -> None:
    """A region of `districts` districts of `cscoms` CSComs, each with a focal point; every
    other CSCom reported every other period."""
    region = Facility(code="REG-NAT", name="Région nationale", kind="region")
    db.session.add(region)
    db.session.flush()
    district_rows = [
        {"code": f"CSREF-N{d:02d}", "name": f"CSRef n°{d}", "kind": "csref", "parent_id": region.id}
        for d in range(districts)
    ]
    db.session.execute(sa.insert(Facility), district_rows)
    ids = dict(
        db.session.execute(
            sa.select(Facility.code, Facility.id).where(Facility.code.like("CSREF-N%"))
        ).all()
    )
    cscom_rows = [
        {
            "code": f"CSCOM-N{d:02d}-{c:02d}",
            "name": f"CSCom {d}-{c}",
            "kind": "cscom",
            "parent_id": ids[f"CSREF-N{d:02d}"],
        }
        for d in range(districts)
        for c in range(cscoms)
    ]
    db.session.execute(sa.insert(Facility), cscom_rows)
    cscom_ids = db.session.scalars(
        sa.select(Facility.id).where(Facility.code.like("CSCOM-N%")).order_by(Facility.id)
    ).all()
    db.session.execute(
        sa.insert(Worker),
        [
            {
                "name": f"Point focal {n}",
                "phone": f"+2236{n:07d}",
                "facility_id": facility_id,
                "role": "qi_focal_point",
                "language": "fr",
                "active": True,
                "opted_out": False,
                "created_at": datetime.now(UTC),
            }
            for n, facility_id in enumerate(cscom_ids)
        ],
    )
    active = active_flows()[0]
    now = datetime.now(UTC) - timedelta(hours=1)
    db.session.execute(
        sa.insert(Checkin),
        [
            {
                "flow_id": active.flow_id,
                "flow_version_id": active.version_id,
                "facility_id": facility_id,
                "period": period,
                "status": "completed",
                "opened_at": now,
                "completed_at": now,
            }
            for n, facility_id in enumerate(cscom_ids)
            for p, period in enumerate(periods)
            if (n + p) % 2 == 0
        ],
    )
    db.session.commit()
