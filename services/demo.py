"""A demo region to try the service with: the district of Kati (a CSRef, three CSComs, their
staff and supervisor), a second district (Koulikoro: one CSCom, its own supervisor) and a
regional viewer, so that what one supervisor may see, and not see, shows in the demo.

Running it again updates the same rows, so `seed-demo` is safe to repeat.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from models import Facility, Worker, db
from services.flow_store import publish

FLOWS_DIR = Path(__file__).resolve().parent.parent / "flows"

FACILITIES = [
    ("REG-KKR", "Région de Koulikoro", "region", None),
    ("CSREF-KATI", "CSRef de Kati", "csref", "REG-KKR"),
    ("CSCOM-MLB", "CSCom Malibougou", "cscom", "CSREF-KATI"),
    ("CSCOM-KTD", "CSCom Kati Dar Salam", "cscom", "CSREF-KATI"),
    ("CSCOM-SNB", "CSCom Sanankoroba", "cscom", "CSREF-KATI"),
    ("CSREF-KLK", "CSRef de Koulikoro", "csref", "REG-KKR"),
    ("CSCOM-KLB", "CSCom Koulikoro Gare", "cscom", "CSREF-KLK"),
]

WORKERS = [
    ("Dr Awa Traoré", "+22370000001", "CSREF-KATI", "supervisor", "fr"),
    ("Dr Seydou Diallo", "+22370000002", "REG-KKR", "regional", "fr"),
    ("Dr Mamadou Touré", "+22370000003", "CSREF-KLK", "supervisor", "fr"),
    ("Fatoumata Diarra", "+22370000011", "CSCOM-MLB", "qi_focal_point", "fr"),
    ("Moussa Coulibaly", "+22370000012", "CSCOM-MLB", "dtc", "bm"),
    ("Kadiatou Keita", "+22370000013", "CSCOM-MLB", "midwife", "bm"),
    ("Aminata Sangaré", "+22370000021", "CSCOM-KTD", "qi_focal_point", "bm"),
    ("Oumar Dembélé", "+22370000022", "CSCOM-KTD", "dtc", "fr"),
    ("Mariam Konaté", "+22370000031", "CSCOM-SNB", "qi_focal_point", "fr"),
    ("Ibrahim Sidibé", "+22370000032", "CSCOM-SNB", "dtc", "bm"),
    ("Assitan Coulibaly", "+22370000041", "CSCOM-KLB", "qi_focal_point", "fr"),
    ("Bakary Doumbia", "+22370000042", "CSCOM-KLB", "dtc", "bm"),
]


def seed_demo() -> dict[str, int]:
    """Create or update the demo region; returns how many of each thing it holds."""
    by_code: dict[str, Facility] = {}
    for code, name, kind, parent in FACILITIES:
        facility = db.session.scalar(sa.select(Facility).where(Facility.code == code)) or Facility(
            code=code
        )
        facility.name, facility.kind = name, kind
        facility.parent = by_code.get(parent) if parent else None
        db.session.add(facility)
        by_code[code] = facility
    db.session.flush()
    for name, phone, facility_code, role, language in WORKERS:
        worker = db.session.scalar(sa.select(Worker).where(Worker.phone == phone)) or Worker(
            phone=phone
        )
        worker.name, worker.role, worker.language = name, role, language
        worker.facility, worker.active = by_code[facility_code], True
        db.session.add(worker)
    flows = sorted(FLOWS_DIR.glob("*.yaml"))
    for path in flows:
        publish(path.read_text(encoding="utf-8"), str(path))
    db.session.commit()
    return {"facilities": len(FACILITIES), "workers": len(WORKERS), "flows": len(flows)}
