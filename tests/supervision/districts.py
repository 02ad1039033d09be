"""Test data for scoping: the demo's region, and another region nobody in the demo may see.

The demo's region of Koulikoro (REG-KKR): the district of Kati (CSREF-KATI: MLB, KTD, SNB, with
supervisor Dr Awa Traoré), the district of Koulikoro (CSREF-KLK: KLB, with its own supervisor)
and a regional viewer. Added here, the region of Ségou (REG-SGU): one district, one CSCom.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from models import Facility, Worker, db
from services.demo import seed_demo

SUPERVISOR = "+22370000001"  # Dr Awa Traoré, CSRef de Kati, French
REGIONAL = "+22370000002"  # Dr Seydou Diallo, Région de Koulikoro, French
OTHER_SUPERVISOR = "+22370000003"  # CSRef de Koulikoro
FOCAL_POINT = "+22370000011"  # Fatoumata Diarra, CSCOM-MLB, French
DTC = "+22370000012"  # Moussa Coulibaly, CSCOM-MLB, Bambara
KTD_FOCAL_POINT = "+22370000021"  # Aminata Sangaré, CSCOM-KTD, Bambara
SNB_FOCAL_POINT = "+22370000031"  # Mariam Konaté, CSCOM-SNB
KLB_FOCAL_POINT = "+22370000041"  # Assitan Coulibaly, CSCOM-KLB (the other district)
SGU_FOCAL_POINT = "+22370000051"  # CSCOM-SGU (the other region)
WEDNESDAY = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
"""Week 49 is open (it opened on Monday 08:00, Bamako is UTC); outside quiet hours."""
LATE_EVENING = datetime(2026, 12, 2, 22, 0, tzinfo=UTC)
"""Inside quiet hours (20:00-07:00): messages the service starts wait until 07:00."""
COMPACT = "QI 1 6 2 45 40 1 2 RAS"

FACILITIES = [
    ("REG-SGU", "Région de Ségou", "region", None),
    ("CSREF-SGU", "CSRef de Ségou", "csref", "REG-SGU"),
    ("CSCOM-SGU", "CSCom Pelengana", "cscom", "CSREF-SGU"),
]
WORKERS = [
    ("Fanta Camara", SGU_FOCAL_POINT, "CSCOM-SGU", "qi_focal_point", "fr"),
]


def seed_districts() -> None:
    """The demo, then the other region."""
    seed_demo()
    for code, name, kind, parent in FACILITIES:
        facility = facility_by_code(code) or Facility(code=code)
        facility.name, facility.kind = name, kind
        facility.parent = facility_by_code(parent) if parent else None
        db.session.add(facility)
        db.session.flush()
    for name, phone, code, role, language in WORKERS:
        person = worker(phone) or Worker(phone=phone)
        person.name, person.role, person.language = name, role, language
        person.facility, person.active = facility_by_code(code), True
        db.session.add(person)
    db.session.commit()


def facility_by_code(code: str) -> Facility | None:
    return db.session.scalar(sa.select(Facility).where(Facility.code == code))


def worker(phone: str) -> Worker | None:
    return db.session.scalar(sa.select(Worker).where(Worker.phone == phone))


def update_worker(phone: str, **values: object) -> None:
    db.session.execute(sa.update(Worker).where(Worker.phone == phone).values(**values))
    db.session.commit()
