"""Test data for scoping: the demo district, a second district of its region, another region.

Region of Koulikoro (REG-KKR): the demo's district of Kati (CSREF-KATI: MLB, KTD, SNB, with
supervisor Dr Awa Traoré) and the district of Koulikoro (CSREF-KLK: KLB, with its own
supervisor); a regional viewer at REG-KKR. Region of Ségou (REG-SGU): one district, one CSCom,
which no one above may see. Idempotent, so it stays right whatever the demo itself seeds.
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
    ("CSREF-KLK", "CSRef de Koulikoro", "csref", "REG-KKR"),
    ("CSCOM-KLB", "CSCom Koulikoro Gare", "cscom", "CSREF-KLK"),
    ("REG-SGU", "Région de Ségou", "region", None),
    ("CSREF-SGU", "CSRef de Ségou", "csref", "REG-SGU"),
    ("CSCOM-SGU", "CSCom Pelengana", "cscom", "CSREF-SGU"),
]
WORKERS = [
    ("Dr Seydou Diallo", REGIONAL, "REG-KKR", "regional", "fr"),
    ("Dr Mamadou Touré", OTHER_SUPERVISOR, "CSREF-KLK", "supervisor", "fr"),
    ("Assitan Coulibaly", KLB_FOCAL_POINT, "CSCOM-KLB", "qi_focal_point", "fr"),
    ("Fanta Camara", SGU_FOCAL_POINT, "CSCOM-SGU", "qi_focal_point", "fr"),
]


def seed_districts() -> None:
    """The demo, then the second district, the regional viewer and the other region."""
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
