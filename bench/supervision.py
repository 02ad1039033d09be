"""Supervision benchmark: the clock's tick on a national dataset, beside SQL floors.

    .venv/bin/python bench/supervision.py            # 75 districts, 1,500 CSComs, 52 weeks
    .venv/bin/python bench/supervision.py --quick    # 10 districts, 200 CSComs, 20 weeks
    .venv/bin/python bench/supervision.py --profile  # + cProfile of one digest and one opening

A benchmark, not a test. In-process, on PostgreSQL only. One run:

1. creates its own database (`--database-url`, default bench_supervision on 127.0.0.1; dropped
   first if a previous run left it, and dropped at the end unless `--keep`), migrates it,
   publishes flows/weekly_qi.yaml and builds the national data with a few INSERT ... SELECT
   over generate_series: regions, districts (CSRefs), CSComs with a QI focal point, a DTC, a
   midwife and a nurse each (some Bambara-speaking, some opted out, a few inactive), a supervisor
   per district and a regional viewer per region; 52 weeks (20) of the weekly QI check-in,
   most completed with their answers (some missed, some numerators unanswered, some zero
   denominators; a sixth of the CSComs improve in the last 12 weeks, so run charts signal),
   the schedule's marks of those weeks and a year of outbox history (invitations, reminders,
   escalations, digests already sent), then ANALYZE;
2. times the Monday digest tick (07:00 UTC, Bamako's time, reporting the week that ended)
   `--runs` times, removing its marks and outbox rows before each run, in turns with two floors
   (so that other load on the machine weighs on both alike), each one SQL statement: reported x/y and the missing CSComs per district; the same plus the
   week's alerts and every CSCom's indicator series over the history the digest reads;
3. times the Monday opening tick (08:00: check-ins opened and invitations written) the same way
   (the reported week's open check-ins, which the tick marks missed, are reopened too),
   beside its floor: one INSERT ... SELECT opening the check-ins and writing the same outbox rows
   (checked equal to the tick's, column by column);
4. counts the SQL statements of an idle minute's tick (08:01) with SQLAlchemy's
   before_cursor_execute on the engine, with the current flows cached (a tick within
   flow_store.ACTIVE_FLOWS_TTL of the last) and read again (the clock's minute is longer);
5. prints the machine and one table: median times, ratios to the floors, statement counts,
   and PASS/MISS against the targets (digest and opening within 3x their floors; an idle tick
   at most 5 statements).

Redis (`--redis-url`, default db 7) only receives the tick's nudge; the database is flushed
at the start and the end. `--profile` writes the profiles to bench/results/ (git-ignored) and
prints the functions with the most cumulative time. `--setup-sql` runs SQL after the build (an
index, say) to size a change without editing the app; `--keep` keeps the database and
`--reuse` measures again on it without building.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
sys.path.insert(0, str(REPO))

from app import create_app  # noqa: E402
from config import Settings  # noqa: E402
from flows.messages import say  # noqa: E402
from flows.schedule import short_period  # noqa: E402
from models import db  # noqa: E402
from services import flow_store  # noqa: E402
from services.outbox import message_row  # noqa: E402
from services.tick import tick  # noqa: E402

DIGEST_MONDAY = datetime(2026, 12, 7, tzinfo=UTC)
"""The Monday of the measured ticks (Bamako is UTC all year): its digest reports 2026-W49."""
DIGEST_AT, OPENING_AT = DIGEST_MONDAY.replace(hour=7), DIGEST_MONDAY.replace(hour=8)
IDLE_AT = OPENING_AT + timedelta(minutes=1)
REPORTED_WEEK, NEW_WEEK = "2026-W49", "2026-W50"
ASKED = ("qi_focal_point", "dtc")
CSCOM_ROLES = ("qi_focal_point", "dtc", "midwife", "nurse")
TARGET_RATIO, TARGET_IDLE_STATEMENTS = 3.0, 5


@dataclass(frozen=True)
class Size:
    regions: int
    districts: int
    cscoms: int
    weeks: int

    def __str__(self) -> str:
        return (
            f"{self.regions} regions, {self.districts} districts, {self.cscoms:,} CSComs, "
            f"{self.cscoms * len(CSCOM_ROLES) + self.districts + self.regions:,} workers, "
            f"{self.weeks} weeks"
        )


FULL, QUICK = Size(8, 75, 1500, 52), Size(3, 10, 200, 20)


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# -- the database ----------------------------------------------------------------------------------


@contextmanager
def own_database(url: str, keep: bool, reuse: bool):
    """Create the benchmark's database (dropping a leftover first); drop it at the end.

    `reuse` measures again on the database a `--keep` run left, as it is, and keeps it.
    """
    parsed = make_url(url)
    name = parsed.database
    if not name or name in ("test", "postgres"):
        sys.exit(f"refusing to use the database {name!r}: give the benchmark one of its own")
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    drop = sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if not reuse:
        with admin.connect() as connection:
            connection.execute(drop)
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield
    finally:
        if not keep and not reuse:
            with admin.connect() as connection:
                connection.execute(drop)
        admin.dispose()


def build(size: Size) -> tuple[int, int]:
    """Migrate, publish the weekly check-in and fill the tables; returns (flow id, version id)."""
    from flask_migrate import upgrade

    upgrade()
    source = (REPO / "flows" / "weekly_qi.yaml").read_text(encoding="utf-8")
    version, _ = flow_store.publish(source, "flows/weekly_qi.yaml")
    db.session.commit()
    flow_id, version_id = version.flow_id, version.id
    first_open = DIGEST_MONDAY - timedelta(weeks=size.weeks, hours=-8)
    params = {
        "regions": size.regions,
        "districts": size.districts,
        "cscoms": size.cscoms,
        "weeks": size.weeks,
        "flow": flow_id,
        "version": version_id,
        "first_open": first_open,
        "improve_from": DIGEST_MONDAY - timedelta(weeks=12),
        "reported": REPORTED_WEEK,
        "asked": list(ASKED),
        "roles": list(CSCOM_ROLES),
    }
    for name, statement in DATA:
        started = time.perf_counter()
        rows = db.session.execute(sa.text(statement), params).rowcount
        log(f"  {name}: {rows:,} rows in {time.perf_counter() - started:.1f} s")
    _history(params)
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
    return flow_id, version_id


DATA = [
    (
        "regions",
        """INSERT INTO facilities (code, name, kind)
        SELECT 'REG-' || lpad(i::text, 2, '0'), 'Région ' || i, 'region'
        FROM generate_series(1, :regions) i""",
    ),
    (
        "districts (CSRefs)",
        """INSERT INTO facilities (code, name, kind, parent_id)
        SELECT 'CSREF-' || lpad(i::text, 3, '0'), 'CSRef ' || i, 'csref', r.id
        FROM generate_series(1, :districts) i
        JOIN facilities r ON r.code = 'REG-' || lpad(((i - 1) % :regions + 1)::text, 2, '0')""",
    ),
    (
        "CSComs",
        """INSERT INTO facilities (code, name, kind, parent_id)
        SELECT 'CSCOM-' || lpad(i::text, 4, '0'), 'CSCom ' || i, 'cscom', d.id
        FROM generate_series(1, :cscoms) i
        JOIN facilities d ON d.code = 'CSREF-' || lpad(((i - 1) % :districts + 1)::text, 3, '0')""",
    ),
    (
        "workers",
        """INSERT INTO workers (name, phone, facility_id, role, language, active, opted_out,
                                created_at)
        SELECT 'Agent ' || n, '+223' || (70000000 + n), f.id, role, lang, active, opted_out,
               now()
        FROM (
            SELECT f.id, role,
                   row_number() OVER (ORDER BY f.id, role) AS n,
                   CASE WHEN f.id % 3 = 0 THEN 'bm' ELSE 'fr' END AS lang,
                   (f.id * 7 + length(role)) % 89 <> 0 AS active,
                   (f.id * 5 + length(role)) % 97 = 0 AS opted_out
            FROM facilities f
            CROSS JOIN LATERAL (
                SELECT unnest(CASE f.kind WHEN 'cscom' THEN CAST(:roles AS varchar[])
                                          WHEN 'csref' THEN ARRAY['supervisor']::varchar[]
                                          ELSE ARRAY['regional']::varchar[] END)
            ) r(role)
        ) f""",
    ),
    (
        "check-ins",
        # Week w opens on Monday 08:00; the reported week's are completed or still open, the
        # earlier ones completed or missed. Completed by the CSCom's QI focal point.
        """INSERT INTO checkins (flow_id, flow_version_id, facility_id, period, status,
                                 opened_at, closes_at, completed_at, completed_by_id, channel)
        SELECT :flow, :version, c.facility, c.label,
               CASE WHEN c.done THEN 'completed'
                    WHEN c.label = :reported THEN 'open' ELSE 'missed' END,
               c.opens, c.opens + interval '7 days',
               CASE WHEN c.done THEN c.opens + interval '26 hours' END,
               CASE WHEN c.done THEN w.id END,
               CASE WHEN c.done THEN 'ussd' END
        FROM (
            SELECT f.id AS facility, opens,
                   to_char(opens AT TIME ZONE 'UTC', 'IYYY-"W"IW') AS label,
                   abs(hashtext(f.id || ':' || week)) % 100
                       < CASE WHEN week = :weeks THEN 80 ELSE 93 END AS done
            FROM facilities f
            CROSS JOIN generate_series(1, :weeks) week
            CROSS JOIN LATERAL (
                SELECT CAST(:first_open AS timestamptz) + (week - 1) * interval '7 days'
            ) o(opens)
            WHERE f.kind = 'cscom'
        ) c
        JOIN workers w ON w.facility_id = c.facility AND w.role = 'qi_focal_point'""",
    ),
    (
        "answers",
        # The CSCom's indicator: a base rate of its own, +20 points over the last 12 weeks for
        # a sixth of the CSComs; some numerators unanswered, some zero denominators.
        """INSERT INTO answers (checkin_id, worker_id, question_key, value_text, value_number,
                                raw, answered_at)
        SELECT c.id, c.completed_by_id, a.key, a.text, a.number,
               coalesce(a.text, a.number::text), c.completed_at
        FROM (
            SELECT c.*, h, den,
                   greatest(0, least(den, round(den * (35 + c.facility_id % 50 + h % 21 - 10
                       + CASE WHEN c.facility_id % 6 = 0 AND c.opened_at >= :improve_from
                              THEN 20 ELSE 0 END) / 100.0)))::bigint AS num
            FROM checkins c
            CROSS JOIN LATERAL (SELECT abs(hashtext(c.id::text)) % 1000 AS h) hashed
            CROSS JOIN LATERAL (
                SELECT CASE WHEN h % 97 = 0 THEN 0 ELSE 10 + (h * 7) % 40 END AS den
            ) d
            WHERE c.status = 'completed'
        ) c
        CROSS JOIN LATERAL (VALUES
            ('met', CASE WHEN h % 25 = 0 THEN 'no' ELSE 'yes' END, NULL::bigint),
            ('attendees', NULL, CASE WHEN h % 25 <> 0 THEN 4 + h % 9 END),
            ('change_status', CASE WHEN h % 71 = 0 THEN 'abandoned' ELSE
                (ARRAY['not_started', 'being_tested', 'adopted', 'adapted'])[1 + h % 4] END,
             NULL),
            ('denominator', NULL, den),
            ('numerator', NULL, CASE WHEN h % 53 <> 0 THEN num END),
            ('obstacle', (ARRAY['none', 'staff', 'stock_out', 'equipment', 'community',
                                'other'])[1 + h % 6], NULL),
            ('support', CASE WHEN h % 31 = 0 THEN 'yes' ELSE 'no' END, NULL)
        ) a(key, text, number)
        WHERE a.text IS NOT NULL OR a.number IS NOT NULL""",
    ),
    (
        "schedule marks",
        # Every week's opening, reminders and escalation were done; each week's digest was
        # sent the Monday after, except the reported week's (the measured tick sends it).
        """INSERT INTO schedule_runs (key, done_at)
        SELECT k.kind || ':' || :flow || ':' || p.period || coalesce(':' || k.n, ''),
               p.opens + k.after
        FROM (SELECT DISTINCT period, opened_at AS opens FROM checkins) p
        CROSS JOIN (VALUES ('open', NULL, interval '0'), ('remind', 1, interval '1 day'),
                           ('remind', 2, interval '2 days'),
                           ('escalate', NULL, interval '3 days'),
                           ('digest', NULL, interval '7 days -1 hour')) k(kind, n, after)
        WHERE k.kind <> 'digest' OR p.period <> :reported""",
    ),
]


def _history(params: dict) -> None:
    """A year of the outbox: the messages the service sent about each past week, all delivered.

    It is what the daily limit's look-up reads through in production.
    """
    settings = Settings.from_env({})
    samples = {
        kind: message_row(settings, DIGEST_MONDAY, phone="+0", text="x" * length, kind=kind)
        for kind, length in {
            "invitation": 60,
            "reminder": 80,
            "escalation": 150,
            "digest": 300,
        }.items()
    }
    statement = """INSERT INTO outbox (phone, worker_id, text, language, encoding, segments, kind,
                                urgent, status, attempts, dedupe_key, not_before, created_at,
                                updated_at, sent_at, possible_duplicate)
        SELECT w.phone, w.id, :text, w.language, :encoding, :segments, :kind, false,
               'success', 1, :prefix || ':' || :flow || ':' || p.period || :suffix || ':' || w.id,
               p.opens + :after, p.opens + :after, p.opens + :after, p.opens + :after, false
        FROM (SELECT DISTINCT period, opened_at AS opens FROM checkins) p
        JOIN workers w ON w.role = ANY(CAST(:roles AS varchar[]))
        WHERE w.active AND NOT w.opted_out AND abs(hashtext(w.id || p.period)) % 100 < :share"""
    messages = [
        ("invitation", "open", "", timedelta(0), list(ASKED), 100),
        ("reminder", "remind", ":1", timedelta(days=1), list(ASKED), 30),
        ("reminder", "remind", ":2", timedelta(days=2), list(ASKED), 15),
        ("escalation", "escalate", "", timedelta(days=3), ["supervisor"], 100),
        ("digest", "digest", "", timedelta(days=7, hours=-1), ["supervisor", "regional"], 100),
    ]
    started, total = time.perf_counter(), 0
    for kind, prefix, suffix, after, roles, share in messages:
        sample = samples[kind]
        total += db.session.execute(
            sa.text(statement),
            {
                **params,
                "text": sample["text"],
                "encoding": sample["encoding"],
                "segments": sample["segments"],
                "kind": kind,
                "prefix": prefix,
                "suffix": suffix,
                "after": after,
                "roles": roles,
                "share": share,
            },
        ).rowcount
    log(f"  outbox history: {total:,} rows in {time.perf_counter() - started:.1f} s")


# -- measuring -------------------------------------------------------------------------------------


class Statements:
    """Counts the SQL statements the engine sends while `counting` (an executemany is one)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count, self.counting = 0, False
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        if self.counting:
            self.count += 1

    @contextmanager
    def counted(self):
        self.count, self.counting = 0, True
        try:
            yield
        finally:
            self.counting = False


@dataclass
class Timing:
    name: str
    seconds: list[float]
    statements: int | None = None
    rows: int | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def interleaved(
    works: list[tuple[str, Callable[[], int | None]]],
    reset: Callable[[], None],
    runs: int,
    statements: Statements,
) -> list[Timing]:
    """Each of `works` `runs` times, in turns, each after `reset` (untimed).

    In turns, so that whatever else the machine runs meanwhile weighs on the tick and its
    floor alike. The statements are those of the last run.
    """
    timings = [Timing(name, []) for name, _ in works]
    for _ in range(runs):
        for timing, (_, work) in zip(timings, works, strict=True):
            reset()
            db.session.commit()
            with statements.counted():
                started = time.perf_counter()
                timing.rows = work()
                db.session.commit()
                timing.seconds.append(time.perf_counter() - started)
            timing.statements = statements.count
    for timing in timings:
        log(
            f"  {timing.name.strip()}: median {timing.median * 1000:.1f} ms over {runs} runs, "
            f"{timing.statements} statements, {timing.rows} rows"
        )
    return timings


def execute(statement: str, **params) -> None:
    db.session.execute(sa.text(statement), params)


# -- the digest ------------------------------------------------------------------------------------

EXPECTED = """expected AS (
    SELECT f.id, f.code, f.parent_id FROM facilities f
    WHERE f.kind = 'cscom' AND EXISTS (
        SELECT 1 FROM workers w
        WHERE w.facility_id = f.id AND w.active AND w.role = ANY(CAST(:asked AS varchar[]))))"""

REPORTED = """reported AS (
    SELECT e.*, EXISTS (SELECT 1 FROM checkins c
                        WHERE c.flow_id = :flow AND c.period = :period
                          AND c.status = 'completed' AND c.facility_id = e.id
                          AND c.worker_id IS NULL) AS reported
    FROM expected e)"""

DIGEST_FLOOR = f"""WITH {EXPECTED}, {REPORTED}
SELECT d.id, d.name, d.parent_id, count(*) AS expected, count(*) FILTER (WHERE e.reported),
       array_agg(e.code ORDER BY e.code) FILTER (WHERE NOT e.reported) AS missing
FROM reported e JOIN facilities d ON d.id = e.parent_id
GROUP BY d.id, d.name, d.parent_id"""

DIGEST_FLOOR_SERIES = f"""WITH {EXPECTED}, {REPORTED},
history AS (
    SELECT DISTINCT period FROM checkins
    WHERE flow_id = :flow AND period <= :period ORDER BY period DESC LIMIT :history),
series AS (
    SELECT c.facility_id,
           array_agg(round(100.0 * n.value_number / d.value_number, 2) ORDER BY c.period) AS points
    FROM checkins c
    JOIN answers n ON n.checkin_id = c.id AND n.question_key = 'numerator'
    JOIN answers d ON d.checkin_id = c.id AND d.question_key = 'denominator'
    WHERE c.flow_id = :flow AND c.status = 'completed' AND d.value_number > 0
      AND c.period IN (SELECT period FROM history)
    GROUP BY c.facility_id),
alerts AS (
    SELECT c.facility_id, array_agg(a.question_key || '=' || a.value_text) AS raised
    FROM checkins c JOIN answers a ON a.checkin_id = c.id
    WHERE c.flow_id = :flow AND c.period = :period AND c.status = 'completed'
      AND (a.question_key, a.value_text) IN (('met', 'no'), ('support', 'yes'),
                                             ('change_status', 'abandoned'))
    GROUP BY c.facility_id)
SELECT d.id, d.name, d.parent_id, count(*) AS expected, count(*) FILTER (WHERE e.reported),
       array_agg(e.code ORDER BY e.code) FILTER (WHERE NOT e.reported) AS missing,
       jsonb_object_agg(e.code, jsonb_build_object('points', s.points, 'alerts', a.raised))
FROM reported e
JOIN facilities d ON d.id = e.parent_id
LEFT JOIN series s ON s.facility_id = e.id
LEFT JOIN alerts a ON a.facility_id = e.id
GROUP BY d.id, d.name, d.parent_id"""


@dataclass
class Bench:
    """The measured tick at one moment, how to undo its work, and its context."""

    settings: Settings
    redis: object
    flow_id: int
    version_id: int
    statements: Statements
    runs: int

    def time(self, works, reset=lambda: None) -> list[Timing]:
        return interleaved(works, reset, self.runs, self.statements)

    def reset(self) -> None:
        """Undo the measured tick's work (and a floor's), so that it can be done again."""

    def again(self, work: Callable[[], int]) -> None:
        """Do `work` once more from its start, leaving its state for what is measured next."""
        self.reset()
        work()
        db.session.commit()


class DigestBench(Bench):
    def reset(self) -> None:
        flow_store.forget_active_flows()  # the clock's minute outlasts their cache: read anew
        execute("DELETE FROM outbox WHERE dedupe_key LIKE :key", key=f"digest:%:{REPORTED_WEEK}:%")
        execute("DELETE FROM schedule_runs WHERE key LIKE :key", key=f"digest:%:{REPORTED_WEEK}")

    def tick(self) -> int:
        return tick(DIGEST_AT, self.settings, self.redis).written["digest"]

    def floor(self, statement: str) -> Callable[[], int]:
        from services.digests import HISTORY

        params = {
            "flow": self.flow_id,
            "period": REPORTED_WEEK,
            "asked": list(ASKED),
            "history": HISTORY,
        }
        return lambda: len(db.session.execute(sa.text(statement), params).all())

    def measure(self) -> list[Timing]:
        works = [
            ("digest tick", self.tick),
            ("  floor: x/y + missing", self.floor(DIGEST_FLOOR)),
            ("  floor: + alerts, series", self.floor(DIGEST_FLOOR_SERIES)),
        ]
        timings = self.time(works, self.reset)
        self.again(self.tick)  # the week's digest sent, as the opening at 08:00 finds it
        return timings


# -- the opening -----------------------------------------------------------------------------------

OPENING_FLOOR = f"""WITH {EXPECTED},
opened AS (
    INSERT INTO checkins (facility_id, worker_id, flow_id, flow_version_id, period, status,
                          opened_at, closes_at)
    SELECT id, NULL, :flow, :version, :period, 'open', :opens, :closes FROM expected
    ON CONFLICT (flow_id, facility_id, period) WHERE worker_id IS NULL DO NOTHING
    RETURNING facility_id)
INSERT INTO outbox (phone, worker_id, text, language, encoding, segments, kind, urgent, status,
                    attempts, dedupe_key, not_before, created_at, updated_at, failure_reason,
                    possible_duplicate)
SELECT w.phone, w.id, CASE w.language WHEN 'bm' THEN :bm_text ELSE :fr_text END, w.language,
       CASE w.language WHEN 'bm' THEN :bm_encoding ELSE :fr_encoding END,
       CASE w.language WHEN 'bm' THEN :bm_segments ELSE :fr_segments END,
       'invitation', false, 'pending', 0, 'open:' || :flow || ':' || :period || ':' || w.id,
       :not_before, :now, :now, :reason, false
FROM opened o
JOIN workers w ON w.facility_id = o.facility_id
WHERE w.active AND NOT w.opted_out AND w.role = ANY(CAST(:asked AS varchar[]))
ON CONFLICT (dedupe_key) DO NOTHING"""

OUTBOX_COLUMNS = (
    "dedupe_key, phone, worker_id, text, language, encoding, segments, kind, urgent, status, "
    "attempts, not_before, created_at, updated_at, failure_reason, possible_duplicate"
)
INVITATIONS = f"open:%:{NEW_WEEK}:%"


class OpeningBench(Bench):
    def reset(self) -> None:
        flow_store.forget_active_flows()
        execute("DELETE FROM outbox WHERE dedupe_key LIKE :key", key=INVITATIONS)
        execute("DELETE FROM checkins WHERE period = :period", period=NEW_WEEK)
        execute("DELETE FROM schedule_runs WHERE key LIKE :key", key=f"%:{NEW_WEEK}%")
        execute(  # the tick closed the reported week's open check-ins: reopen them
            "UPDATE checkins SET status = 'open' WHERE period = :period AND status = 'missed'",
            period=REPORTED_WEEK,
        )

    def tick(self) -> int:
        return tick(OPENING_AT, self.settings, self.redis).written["invitation"]

    def floor(self) -> int:
        return db.session.execute(sa.text(OPENING_FLOOR), self._floor_params()).rowcount

    def _floor_params(self) -> dict:
        """The invitation's two texts (the default one: it names no person) and row values."""
        row = message_row(self.settings, OPENING_AT, phone="+0", text="", kind="invitation")
        params = {
            "flow": self.flow_id,
            "version": self.version_id,
            "period": NEW_WEEK,
            "asked": list(ASKED),
            "opens": OPENING_AT,
            "closes": OPENING_AT + timedelta(weeks=1),
            "not_before": row["not_before"],
            "now": OPENING_AT,
            "reason": row["failure_reason"],
        }
        flow = flow_store.definition(self.version_id)
        for language in ("fr", "bm"):
            text = say(
                "schedule.invite",
                language,
                flow=flow.text(flow.title, language),
                period=short_period(NEW_WEEK),
                code=self.settings.ussd_code,
            )
            sample = message_row(
                self.settings,
                OPENING_AT,
                phone="+0",
                text=text,
                kind="invitation",
                language=language,
            )
            for column in ("text", "encoding", "segments"):
                params[f"{language}_{column}"] = sample[column]
        return params

    def written(self) -> list[tuple]:
        return db.session.execute(
            sa.text(f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE dedupe_key LIKE :key ORDER BY 1"),
            {"key": INVITATIONS},
        ).all()

    def measure(self) -> list[Timing]:
        timings = self.time(
            [("opening tick", self.tick), ("  floor: INSERT ... SELECT", self.floor)], self.reset
        )
        by_tick, by_floor = (self._rows_of(work) for work in (self.tick, self.floor))
        if by_tick != by_floor:
            differ = next((a, b) for a, b in zip(by_tick, by_floor, strict=False) if a != b)
            sys.exit(
                f"!!! the floor wrote other rows than the tick ({len(by_floor)} against "
                f"{len(by_tick)}); first difference:\n{differ}"
            )
        log(f"  the floor's {len(by_floor):,} outbox rows equal the tick's, column by column")
        self.again(self.tick)  # the tick's own work, for the idle minute
        return timings

    def _rows_of(self, work: Callable[[], int]) -> list[tuple]:
        self.again(work)
        return self.written()


# -- the idle minute -------------------------------------------------------------------------------


class IdleBench(Bench):
    def tick(self, read_flows: bool) -> int:
        if read_flows:
            flow_store.forget_active_flows()  # only marks the cache stale
        return sum(tick(IDLE_AT, self.settings, self.redis).written.values())

    def measure(self) -> list[Timing]:
        return self.time(
            [
                ("idle tick, flows cached", lambda: self.tick(False)),
                ("idle tick, flows read", lambda: self.tick(True)),
            ]
        )


# -- profiles, the report --------------------------------------------------------------------------


def profile(name: str, work: Callable[[], object], reset: Callable[[], None], stamp: str) -> None:
    reset()
    db.session.commit()
    profiler = cProfile.Profile()
    profiler.runcall(work)
    db.session.commit()
    path = RESULTS / f"{stamp}-supervision-{name}.prof"
    profiler.dump_stats(path)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
    print(f"\n--- cProfile of the {name} tick ({path.relative_to(REPO)}) ---")
    print(text.getvalue())


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    version = db.session.scalar(sa.text("SHOW server_version"))
    return (
        f"{os.cpu_count()} CPUs ({model}), PostgreSQL {version}, Python {platform.python_version()}"
    )


def report(
    size: Size, rows: list[tuple[Timing, Timing | None]], seconds: float, load: float
) -> bool:
    """The table (a floor's ratio is its tick's time over the floor's) and the verdicts."""
    print(f"\nSupervision tick, {size}; {machine()}; {seconds:.0f} s in all")
    print(f"load average (1 min) {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print(f"{'what':<28} {'median ms':>10} {'min ms':>8} {'ratio':>6} {'stmts':>6} {'rows':>7}")
    print("-" * 70)
    for timing, tick_timing in rows:
        ratio = f"{tick_timing.median / timing.median:.1f}x" if tick_timing else ""
        print(
            f"{timing.name:<28} {timing.median * 1000:>10.1f} {min(timing.seconds) * 1000:>8.1f}"
            f" {ratio:>6} {timing.statements:>6} {timing.rows if timing.rows is not None else '':>7}"
        )
    print("(ratio: the tick above over this floor; rows: outbox rows written, or rows returned)")
    return verdicts(rows)


def verdicts(rows: list[tuple[Timing, Timing | None]]) -> bool:
    by_name = {timing.name.strip(): (timing, tick_timing) for timing, tick_timing in rows}
    checks = []
    for tick_name, floor_name in (
        ("digest tick", "floor: + alerts, series"),
        ("opening tick", "floor: INSERT ... SELECT"),
    ):
        floor, tick_timing = by_name[floor_name]
        ratio = tick_timing.median / floor.median
        checks.append((f"{tick_name} within {TARGET_RATIO:g}x its floor", f"{ratio:.1f}x", ratio))
    idle = max(timing.statements for timing, _ in rows if timing.name.startswith("idle"))
    checks.append((f"idle tick at most {TARGET_IDLE_STATEMENTS} statements", str(idle), None))
    print()
    passed = []
    for text, shown, ratio in checks:
        ok = ratio <= TARGET_RATIO if ratio is not None else idle <= TARGET_IDLE_STATEMENTS
        passed.append(ok)
        print(f"{'PASS' if ok else 'MISS'}  {text}: {shown}")
    return all(passed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a smaller dataset")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_supervision",
        help="a database of the benchmark's own: dropped, created, and dropped at the end",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    parser.add_argument("--reuse", action="store_true", help="measure on a kept database")
    parser.add_argument("--profile", action="store_true", help="cProfile one digest and opening")
    parser.add_argument(
        "--setup-sql",
        action="append",
        default=[],
        help="SQL run after the build, before measuring (an index, to size a change); repeatable",
    )
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    started = time.perf_counter()
    settings = replace(
        Settings.from_env({}), database_url=args.database_url, redis_url=args.redis_url
    )
    with own_database(args.database_url, args.keep, args.reuse):
        app = create_app(settings)
        redis = app.extensions["redis"]
        redis.flushdb()
        with app.app_context():
            try:
                passed = run(size, settings, redis, args, started)
            finally:
                db.session.remove()
                db.engine.dispose()
                redis.flushdb()
    sys.exit(0 if passed else 1)


def run(size: Size, settings: Settings, redis, args, started: float) -> bool:
    load = os.getloadavg()[0]
    if args.reuse:
        flow_id, version_id = db.session.execute(
            sa.text("SELECT flow_id, id FROM flow_versions ORDER BY id DESC LIMIT 1")
        ).one()
        log(f"reusing the kept database (built as {size})")
    else:
        log(f"building {size}")
        flow_id, version_id = build(size)
    for statement in args.setup_sql:
        log(f"setup: {statement}")
        db.session.execute(sa.text(statement))
        db.session.commit()
    context = (settings, redis, flow_id, version_id, Statements(db.engine), args.runs)
    digest, opening = DigestBench(*context), OpeningBench(*context)
    log("the Monday digest (07:00)")
    digest_tick, *digest_floors = digest.measure()
    log("the Monday opening (08:00)")
    opening_tick, opening_floor = opening.measure()
    log("an idle minute (08:01)")
    idle = IdleBench(*context[:-1], max(args.runs, 10)).measure()
    if args.profile:
        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        profile("digest", digest.tick, digest.reset, stamp)
        profile("opening", opening.tick, opening.reset, stamp)
    rows = [
        (digest_tick, None),
        *((floor, digest_tick) for floor in digest_floors),
        (opening_tick, None),
        (opening_floor, opening_tick),
        *((timing, None) for timing in idle),
    ]
    return report(size, rows, time.perf_counter() - started, load)


if __name__ == "__main__":
    main()
