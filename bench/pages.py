"""Results pages benchmark: each page of the console, in-process on national data, beside its floor.

    .venv/bin/python bench/pages.py            # 75 districts, 1,500 CSComs, 52 weeks
    .venv/bin/python bench/pages.py --quick    # 10 districts, 200 CSComs, 20 weeks
    .venv/bin/python bench/pages.py --profile  # + cProfile of each page once

A benchmark, not a test. In-process, on PostgreSQL only. One run:

1. builds the national data of bench/supervision.py (its `build`: regions, districts, CSComs
   and their workers, 52 weeks of the weekly QI check-in with answers, a year of the outbox),
   in a database of its own (`--database-url`, default bench_pages, dropped first and at the end
   unless `--keep`; `--reuse` measures again on a kept one), and adds what the results pages
   read that the tick does not: a third of the check-ins answered by SMS (the SMS in, the reply
   out, delivered and costed), and the alerts their answers raised (one outbox row per alert
   and district supervisor, keyed as services/submissions.py keys them); then ANALYZE;
2. signs in an admin and the supervisor of one district (create-admin, the login form) and
   times each page with Flask's test client, the whole request (session, scope, reading,
   rendering), on Sunday 2026-12-06 12:00 (the views' clock is frozen there: week 49 open,
   twelve weeks of reports behind it):
   - the national roll-up (`/admin/`, admin) and a district's grid (`/admin/districts/<id>`);
   - a CSCom's page (`/admin/results/facilities/<id>`, one whose indicator signals);
   - the alerts and the message log, as the admin (the whole country) and as the supervisor
     (their district's people);
   and, for scale, an empty page of the audit log (a signed-in page that reads nothing: the
   fixed cost of any page), each beside its floor, the one SQL statement that returns what the page shows (the roll-up's
   x/y per district and period; the grid's reported periods per CSCom; the CSCom's check-ins
   over the chart's history with their answers; the newest hundred alerts or messages with
   their people and places), run on a connection of the pool, in turns with the page so that
   other load on the machine weighs on both alike (`--runs`, median);
3. prints the machine, a table (median and minimum, the page's ratio to its floor, the same
   less the fixed cost, the HTML's size) and PASS/MISS against the targets: each page within 3x its floor, the national
   roll-up's HTML under 100 KB.

Redis (`--redis-url`, default db 5) holds only the login throttle; it is flushed at the start
and the end.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from admin import views  # noqa: E402
from admin.rollup import recent_periods  # noqa: E402
from app import create_app  # noqa: E402
from bench.supervision import (  # noqa: E402
    ASKED,
    FULL,
    QUICK,
    RESULTS,
    Size,
    build,
    log,
    machine,
    own_database,
)
from config import Settings  # noqa: E402
from models import db  # noqa: E402
from services import flow_store  # noqa: E402
from services.digests import HISTORY  # noqa: E402
from services.exports import LOG_PAGE  # noqa: E402

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
"""Sunday of week 49 (Bamako is UTC): the week still open, twelve weeks of reports behind it."""
TARGET_RATIO, TARGET_ROLLUP_BYTES = 3.0, 100_000
PASSWORD = "un mot de passe de banc d'essai"
ADMIN, SUPERVISOR = "admin@bench.example", "superviseur@bench.example"
DISTRICT = "CSREF-001"
FIXED = "fixed cost"
"""An empty page of the audit log (`?before=1`): a signed-in page that reads nothing, what any
page costs before its own work (the session, the account's row, the CSRF token, the menu, the
base template)."""

SMS_AND_ALERTS = [
    (
        "SMS check-ins (in)",
        """INSERT INTO inbox (gateway_id, phone, "to", text, worker_id, encoding, segments,
                              received_at)
        SELECT 'bench-' || c.id, w.phone, '12345', 'QI 1 6 2 45 40 1 2 RAS', w.id, 'GSM-7', 1,
               c.completed_at
        FROM checkins c JOIN workers w ON w.id = c.completed_by_id
        WHERE c.status = 'completed' AND c.id % 3 = 0""",
    ),
    (
        "their replies (out)",
        """INSERT INTO outbox (phone, worker_id, text, language, encoding, segments, kind, urgent,
                               status, attempts, gateway_id, cost, not_before, created_at,
                               updated_at, sent_at, possible_duplicate)
        SELECT w.phone, w.id, 'Merci, vos réponses sont enregistrées.', w.language, 'GSM-7', 1,
               'reply', false, 'success', 1, 'ATPid_bench_' || c.id, 'XOF 25',
               c.completed_at, c.completed_at, c.completed_at, c.completed_at, false
        FROM checkins c JOIN workers w ON w.id = c.completed_by_id
        WHERE c.status = 'completed' AND c.id % 3 = 0""",
    ),
    (
        "alerts",
        # The weekly flow's three alerts: met=no, support=yes (urgent), change abandoned.
        """INSERT INTO outbox (phone, worker_id, text, language, encoding, segments, kind, urgent,
                               status, attempts, dedupe_key, not_before, created_at, updated_at,
                               sent_at, possible_duplicate)
        SELECT s.phone, s.id,
               CASE a.n WHEN 2 THEN 'URGENT ' ELSE '' END || f.name || ': '
                   || a.says || ' (' || w.name || ', ' || w.phone || ')',
               s.language, 'GSM-7', 1, 'alert', a.n = 2, 'success', 1,
               'alert:' || c.id || ':None:' || a.n || ':' || s.id,
               c.completed_at, c.completed_at, c.completed_at, c.completed_at, false
        FROM checkins c
        JOIN answers x ON x.checkin_id = c.id
        JOIN (VALUES (1, 'met', 'no', 'pas de réunion QI cette semaine'),
                     (2, 'support', 'yes', 'l''équipe QI demande l''appui du CSRef'),
                     (3, 'change_status', 'abandoned', 'idée de changement abandonnée'))
             a(n, key, value, says) ON a.key = x.question_key AND a.value = x.value_text
        JOIN facilities f ON f.id = c.facility_id
        JOIN workers w ON w.id = c.completed_by_id
        JOIN workers s ON s.facility_id = f.parent_id AND s.role = 'supervisor'
        WHERE c.status = 'completed'""",
    ),
]


# -- the floors ------------------------------------------------------------------------------------

EXPECTED = """expected AS (
    SELECT f.id, f.code, f.name, f.parent_id FROM facilities f
    WHERE f.kind = 'cscom' AND EXISTS (
        SELECT 1 FROM workers w
        WHERE w.facility_id = f.id AND w.active AND w.role = ANY(CAST(:asked AS varchar[]))))"""

ROLLUP_FLOOR = f"""WITH {EXPECTED},
periods AS (SELECT unnest(CAST(:periods AS varchar[])) AS label)
SELECT d.id, d.code, d.name, p.label, count(*) AS expected, count(c.id) AS reported
FROM expected e
CROSS JOIN periods p
JOIN facilities d ON d.id = e.parent_id
LEFT JOIN checkins c ON c.flow_id = :flow AND c.period = p.label AND c.status = 'completed'
                     AND c.facility_id = e.id AND c.worker_id IS NULL
GROUP BY d.id, d.code, d.name, p.label"""

GRID_FLOOR = f"""WITH {EXPECTED},
periods AS (SELECT unnest(CAST(:periods AS varchar[])) AS label)
SELECT e.id, e.code, e.name, array_agg(p.label ORDER BY p.label) FILTER (WHERE c.id IS NOT NULL)
FROM expected e
CROSS JOIN periods p
LEFT JOIN checkins c ON c.flow_id = :flow AND c.period = p.label AND c.status = 'completed'
                     AND c.facility_id = e.id AND c.worker_id IS NULL
WHERE e.parent_id = :district
GROUP BY e.id, e.code, e.name"""

FACILITY_FLOOR = """SELECT c.id, c.period, c.status, c.channel, c.completed_at, w.name,
       jsonb_object_agg(a.question_key, coalesce(a.value_number::text, a.value_text))
           FILTER (WHERE a.id IS NOT NULL)
FROM checkins c
LEFT JOIN workers w ON w.id = c.completed_by_id
LEFT JOIN answers a ON a.checkin_id = c.id AND a.reference
WHERE c.facility_id = :facility AND c.flow_id = :flow
  AND c.period IN (SELECT DISTINCT period FROM checkins WHERE flow_id = :flow
                   ORDER BY period DESC LIMIT :history)
GROUP BY c.id, w.name
ORDER BY c.period DESC"""

PEOPLE = """people AS (
    SELECT w.id FROM workers w
    WHERE w.facility_id IN (SELECT id FROM facilities WHERE parent_id = :district AND kind = 'cscom'
                            UNION SELECT :district))"""
"""A supervisor's people: the workers of their district's CSComs and of its CSRef."""


def alerts_floor(scoped: bool) -> str:
    return f"""WITH {PEOPLE}
SELECT o.id, o.created_at, o.kind, o.urgent, o.text, o.status, w.name, c.period, f.name
FROM outbox o
LEFT JOIN workers w ON w.id = o.worker_id
LEFT JOIN checkins c ON o.kind = 'alert' AND c.id = CAST(split_part(o.dedupe_key, ':', 2) AS int)
LEFT JOIN facilities f ON f.id = coalesce(c.facility_id, w.facility_id)
WHERE o.kind IN ('alert', 'escalation')
      {"AND o.worker_id IN (SELECT id FROM people)" if scoped else ""}
ORDER BY o.created_at DESC, o.id DESC
LIMIT :page"""


def messages_floor(scoped: bool) -> str:
    return f"""WITH {PEOPLE}
(SELECT 'out' AS direction, o.id, o.created_at AS at, o.phone, w.name, o.kind, o.text,
        o.encoding, o.segments, o.status, o.cost, o.attempts
 FROM outbox o LEFT JOIN workers w ON w.id = o.worker_id
 {"WHERE o.worker_id IN (SELECT id FROM people)" if scoped else ""}
 ORDER BY o.created_at DESC, o.id DESC LIMIT :page)
UNION ALL
(SELECT 'in', i.id, i.received_at, i.phone, w.name, NULL, i.text, i.encoding, i.segments,
        'received', NULL, NULL
 FROM inbox i LEFT JOIN workers w ON w.id = i.worker_id
 {"WHERE i.worker_id IN (SELECT id FROM people)" if scoped else ""}
 ORDER BY i.received_at DESC, i.id DESC LIMIT :page)
ORDER BY at DESC, direction DESC, id DESC
LIMIT :page"""


# -- measuring -------------------------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    seconds: list[float]
    size: int | None = None
    """The page's HTML in bytes, or the floor's rows."""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass(frozen=True)
class Case:
    """A page and its floor."""

    name: str
    page: Callable[[], int]
    floor: Callable[[], int]


class _FrozenClock(datetime):
    """The views' `datetime`, stopped at NOW (the data's week 49)."""

    @classmethod
    def now(cls, tz=None):
        return NOW.astimezone(tz) if tz else NOW.replace(tzinfo=None)


def sign_in(app, email: str):
    client = app.test_client()
    login_page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    response = client.post(
        "/admin/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    if response.status_code != 302:
        sys.exit(f"!!! could not sign in {email}: {response.status_code}")
    return client


def page(client, path: str) -> Callable[[], int]:
    def get() -> int:
        response = client.get(path)
        if response.status_code != 200:
            sys.exit(f"!!! {path}: {response.status_code}")
        return len(response.get_data())

    return get


def floor(engine: sa.Engine, statement: str, **params) -> Callable[[], int]:
    def run() -> int:
        with engine.connect() as connection:
            return len(connection.execute(sa.text(statement), params).all())

    return run


def interleaved(cases: list[Case], runs: int) -> list[tuple[Timing, Timing]]:
    """Each page and floor `runs` times, in turns, after one unmeasured warm-up each."""
    timings = [(Timing(case.name, []), Timing("  floor", [])) for case in cases]
    for case in cases:
        case.page(), case.floor()
    for _ in range(runs):
        for case, (page_timing, floor_timing) in zip(cases, timings, strict=True):
            for work, timing in ((case.page, page_timing), (case.floor, floor_timing)):
                started = time.perf_counter()
                timing.size = work()
                timing.seconds.append(time.perf_counter() - started)
    for page_timing, floor_timing in timings:
        log(
            f"  {page_timing.name}: {page_timing.median * 1000:.1f} ms, floor "
            f"{floor_timing.median * 1000:.1f} ms"
        )
    return timings


# -- the run ---------------------------------------------------------------------------------------


def prepare(app, size: Size, reuse: bool) -> dict:
    """Build (or find) the data, the two accounts; returns the ids and values the cases need."""
    with app.app_context():
        if reuse:
            log(f"reusing the kept database (built as {size})")
        else:
            log(f"building {size}")
            build(size)
            for name, statement in SMS_AND_ALERTS:
                started = time.perf_counter()
                rows = db.session.execute(sa.text(statement)).rowcount
                log(f"  {name}: {rows:,} rows in {time.perf_counter() - started:.1f} s")
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(sa.text("VACUUM ANALYZE"))
        runner = app.test_cli_runner()
        for email, role in ((ADMIN, "admin"), (SUPERVISOR, "supervisor")):
            args = ["create-admin", email, "--role", role, "--password-stdin"]
            if role == "supervisor":
                args += ["--facility", DISTRICT]
            runner.invoke(args=args, input=f"{PASSWORD}\n")  # a kept database has them already
        flow_id, version_id = db.session.execute(
            sa.text("SELECT flow_id, id FROM flow_versions ORDER BY id DESC LIMIT 1")
        ).one()
        district = db.session.scalar(
            sa.text("SELECT id FROM facilities WHERE code = :code"), {"code": DISTRICT}
        )
        # A CSCom of the district whose indicator improved (bench/supervision.py: id % 6 = 0).
        facility = db.session.scalar(
            sa.text(
                "SELECT id FROM facilities WHERE parent_id = :d AND id % 6 = 0 ORDER BY id LIMIT 1"
            ),
            {"d": district},
        )
        schedule = flow_store.definition(version_id).schedule
        periods = recent_periods(schedule, NOW.astimezone(ZoneInfo("Africa/Bamako")))
        db.session.commit()
    return {
        "flow": flow_id,
        "district": district,
        "facility": facility,
        "periods": periods,
    }


def cases(app, found: dict) -> list[Case]:
    admin, supervisor = sign_in(app, ADMIN), sign_in(app, SUPERVISOR)
    engine = found["engine"]
    flow, district, facility = found["flow"], found["district"], found["facility"]
    common = {"flow": flow, "asked": list(ASKED), "periods": found["periods"]}
    log_page = {"district": district, "page": LOG_PAGE}
    return [
        Case(
            FIXED,
            page(admin, "/admin/audit?before=1"),
            floor(engine, "SELECT * FROM audit_log WHERE id < 1 ORDER BY id DESC LIMIT 100"),
        ),
        Case("roll-up, national", page(admin, "/admin/"), floor(engine, ROLLUP_FLOOR, **common)),
        Case(
            "district grid",
            page(admin, f"/admin/districts/{district}"),
            floor(engine, GRID_FLOOR, **common, district=district),
        ),
        Case(
            "CSCom page",
            page(admin, f"/admin/results/facilities/{facility}"),
            floor(engine, FACILITY_FLOOR, flow=flow, facility=facility, history=HISTORY),
        ),
        Case(
            "alerts, national",
            page(admin, "/admin/alerts"),
            floor(engine, alerts_floor(False), **log_page),
        ),
        Case(
            "alerts, a district",
            page(supervisor, "/admin/alerts"),
            floor(engine, alerts_floor(True), **log_page),
        ),
        Case(
            "messages, national",
            page(admin, "/admin/messages"),
            floor(engine, messages_floor(False), **log_page),
        ),
        Case(
            "messages, a district",
            page(supervisor, "/admin/messages"),
            floor(engine, messages_floor(True), **log_page),
        ),
    ]


def profile(all_cases: list[Case]) -> None:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for case in all_cases:
        profiler = cProfile.Profile()
        profiler.runcall(case.page)
        path = RESULTS / f"{stamp}-pages-{case.name.replace(', ', '-').replace(' ', '-')}.prof"
        profiler.dump_stats(path)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(20)
        print(f"\n--- cProfile of {case.name} ({path.relative_to(REPO)}) ---")
        print(text.getvalue())


def report(size: Size, timings, seconds: float, load: float, app) -> bool:
    """The table and the verdicts. "net" is the page's median less the fixed cost (the audit
    log's), over its floor's: what the page's own work costs beside the floor."""
    with app.app_context():
        where = machine()
    fixed = timings[0][0].median
    print(f"\nResults pages, {size}; {where}; {seconds:.0f} s in all")
    print(f"load average (1 min) {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print(f"{'what':<24} {'median ms':>10} {'min ms':>8} {'ratio':>6} {'net':>6} {'size':>10}")
    print("-" * 68)
    checks = []
    for page_timing, floor_timing in timings:
        ratio = page_timing.median / floor_timing.median
        net = (page_timing.median - fixed) / floor_timing.median
        print(
            f"{page_timing.name:<24} {page_timing.median * 1000:>10.1f} "
            f"{min(page_timing.seconds) * 1000:>8.1f} {'':>6} {'':>6} {page_timing.size:>9,}B"
        )
        print(
            f"{floor_timing.name:<24} {floor_timing.median * 1000:>10.1f} "
            f"{min(floor_timing.seconds) * 1000:>8.1f} {ratio:>5.1f}x "
            f"{'' if page_timing.name == FIXED else f'{net:.1f}x':>6} {floor_timing.size:>5,} rows"
        )
        if page_timing.name != FIXED:
            checks.append((f"{page_timing.name} within {TARGET_RATIO:g}x its floor", ratio))
    print(
        "(ratio: the page's median over its floor's; net: less the fixed cost first; size: the "
        "page's HTML, the floor's rows)"
    )
    print()
    passed = []
    for text, ratio in checks:
        passed.append(ratio <= TARGET_RATIO)
        print(f"{'PASS' if passed[-1] else 'MISS'}  {text}: {ratio:.1f}x")
    rollup = timings[1][0].size
    passed.append(rollup < TARGET_ROLLUP_BYTES)
    print(f"{'PASS' if passed[-1] else 'MISS'}  national roll-up under 100 KB: {rollup:,} bytes")
    return all(passed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a smaller dataset")
    parser.add_argument("--runs", type=int, default=7, help="runs per measurement (median)")
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_pages",
        help="a database of the benchmark's own: dropped, created, and dropped at the end",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    parser.add_argument("--reuse", action="store_true", help="measure on a kept database")
    parser.add_argument("--profile", action="store_true", help="cProfile each page once")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    started, load = time.perf_counter(), os.getloadavg()[0]
    settings = replace(
        Settings.from_env({}), database_url=args.database_url, redis_url=args.redis_url
    )
    views.datetime = _FrozenClock
    with own_database(args.database_url, args.keep, args.reuse):
        app = create_app(settings)
        redis = app.extensions["redis"]
        redis.flushdb()
        try:
            found = prepare(app, size, args.reuse)
            with app.app_context():
                found["engine"] = db.engine
            all_cases = cases(app, found)
            log("the pages, each beside its floor")
            timings = interleaved(all_cases, args.runs)
            if args.profile:
                profile(all_cases)
            passed = report(size, timings, time.perf_counter() - started, load, app)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            redis.flushdb()
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
