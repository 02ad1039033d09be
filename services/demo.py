"""A demo region to try the service with: the district of Kati (a CSRef, three CSComs, their
staff and supervisor), a second district (Koulikoro: one CSCom, its own supervisor) and a
regional viewer, so that what one supervisor may see, and not see, shows in the demo.

Running it again updates the same rows, so `seed-demo` is safe to repeat. `seed_history` adds
past weeks of reports, so the console's run charts and the digests have a story to tell: one
CSCom whose indicator improved, one steady, one that misses weeks, one that never reports.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from flows.schedule import recent_periods
from models import Answer, Checkin, Facility, Flow, Worker, db
from services.flow_store import definition, latest_version, publish

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
            phone=phone, active=True
        )
        # Whether someone is active is the admins' to decide (the console deactivates a closed
        # facility's staff with it): a restart of the demo leaves it as they set it.
        worker.name, worker.role, worker.language = name, role, language
        worker.facility = by_code[facility_code]
        db.session.add(worker)
    flows = sorted(FLOWS_DIR.glob("*.yaml"))
    for path in flows:
        publish(path.read_text(encoding="utf-8"), str(path))
    db.session.commit()
    return {"facilities": len(FACILITIES), "workers": len(WORKERS), "flows": len(flows)}


HISTORY_FLOW = "weekly_qi"
HISTORY = {
    # CSCom: (reporter, share of good practice before -> after the change idea, weeks missed)
    "CSCOM-MLB": ("+22370000011", (0.55, 0.85), ()),
    "CSCOM-KTD": ("+22370000022", (0.70, 0.70), ()),
    "CSCOM-SNB": ("+22370000031", (0.60, 0.65), (2, 5, 6, 11)),
}
"""Koulikoro Gare (CSCOM-KLB) never reports, as in the supervision examples."""


def seed_history(now: datetime, weeks: int, timezone: str) -> int:
    """Add `weeks` completed weekly check-ins before the open one for the demo CSComs.

    The values are drawn from a seeded generator, so every demo tells the same story; a
    period that already has a check-in is left as it is, so running it again adds nothing.
    Returns how many check-ins it added.
    """
    flow = db.session.scalar(sa.select(Flow).where(Flow.key == HISTORY_FLOW))
    version = latest_version(flow)
    schedule = definition(version.id).schedule
    local = now.astimezone(ZoneInfo(timezone))
    periods = list(reversed(recent_periods(schedule, local, weeks + 1)[1:]))  # oldest first
    added = 0
    for code, (phone, (before, after), missed) in HISTORY.items():
        facility = db.session.scalar(sa.select(Facility).where(Facility.code == code))
        reporter = db.session.scalar(sa.select(Worker).where(Worker.phone == phone))
        draw = random.Random(code)
        done = set(
            db.session.scalars(
                sa.select(Checkin.period).where(
                    Checkin.facility_id == facility.id, Checkin.flow_id == flow.id
                )
            )
        )
        for week, period in enumerate(periods):
            if period.label in done or week in missed:
                continue
            completed = period.opens_at + timedelta(days=1, hours=draw.randint(0, 8))
            checkin = Checkin(
                flow_id=flow.id,
                flow_version_id=version.id,
                facility_id=facility.id,
                period=period.label,
                status="completed",
                opened_at=period.opens_at.astimezone(UTC),
                closes_at=period.closes_at.astimezone(UTC),
                completed_at=completed.astimezone(UTC),
                completed_by_id=reporter.id,
                channel="ussd",
            )
            db.session.add(checkin)
            db.session.flush()
            share = before if week < len(periods) // 2 else after
            for key, value in _weekly_answers(draw, share).items():
                db.session.add(
                    Answer.of(
                        key,
                        value,
                        checkin_id=checkin.id,
                        worker_id=reporter.id,
                        answered_at=completed.astimezone(UTC),
                    )
                )
            added += 1
    db.session.commit()
    return added


def _weekly_answers(draw: random.Random, share: float) -> dict[str, int | str]:
    """One plausible week of the weekly QI check-in around `share` of good practice."""
    eligible = draw.randint(25, 45)
    practised = min(eligible, max(0, round(eligible * (share + draw.uniform(-0.08, 0.08)))))
    met = draw.random() < 0.85
    answers: dict[str, int | str] = {"met": "yes" if met else "no"}
    if met:
        answers["attendees"] = draw.randint(4, 9)
    answers |= {
        "change_status": "being_tested" if share < 0.7 else "adopted",
        "denominator": eligible,
        "numerator": practised,
        "obstacle": draw.choice(("none", "none", "staff", "stock_out")),
        "support": "no",
    }
    return answers
