"""Fault benchmark: does the outbox lose or double SMS when a process, Redis, PostgreSQL or the
gateway fails in the middle of a burst?

    .venv/bin/python bench/faults.py                         # 5 faults x 2,000 messages, 12-25 min
    .venv/bin/python bench/faults.py --only kill-worker --burst 300 --wait 60

A benchmark, not a test: everything runs as it does in production, as real processes on
loopback, and faults are done to them from outside.

1. Creates a PostgreSQL schema of its own (`faults_<pid>`, in the database of `--database-url`,
   default the `test` database) and migrates it with `flask --app app db upgrade`; the schema is
   dropped at the end. Every process of the service connects with `application_name` set to the
   schema's name, which is how the PostgreSQL fault finds their connections (and only theirs).
2. Starts its own `redis-server` on a free port (append-only file, fsync every second: the
   "Redis that persists" the README asks for), the gateway stand-in (`python -m dev.standin`,
   auto-delivering reports to the app), the app served by granian as in the Procfile, one RQ
   worker (`rq worker --with-scheduler -w workers.worker.AppWorker`) and the clock (`flask
   --app app clock --every 5`: the tick as the clock runs it, every 5 s instead of every
   minute). Children get QUIET_HOURS="" and AT_TIMEOUT=2.
3. For each fault, from a clean state (outbox emptied, stand-in reset, a fresh worker),
   writes `--burst` owed messages through `services.outbox.compose` (distinct numbers +2237F…,
   one text of their own each, so any duplicate is visible), nudges the outbox with one `flask
   --app app tick`, and, once a quarter of the rows have left (the burst is under way), does
   the fault:
   - `kill-worker`:   `kill -9` of the worker's process group, a new worker 2 s later;
   - `restart-redis`: `kill -9` of redis-server, restarted on the same files 5 s later;
   - `cut-postgres`:  `pg_terminate_backend` of every connection of the app, worker and clock;
   - `gateway-5xx`:   the stand-in answers 503 to every request for 30 s;
   - `gateway-slow`:  the stand-in answers every request after AT_TIMEOUT + 1 s for 30 s (and
     still accepts it: the sender gave up, the phone gets the SMS).
   Throughout, a supervisor loop restarts the worker, web or clock if one exits (as systemd or
   a PaaS would) and says so: whether the worker survived the Redis restart is part of the
   result.
4. Waits until no row is pending, queued or sending, or `--wait` (300) s pass, lets the last
   requests settle, and compares the outbox with what the stand-in accepted.

Per fault it prints: owed rows; accepted (rows the stand-in accepted at least once); marked
(rows carrying the outbox's possible-duplicate mark: "n/a" while the outbox has no such column);
real duplicates (rows the stand-in accepted more than once); at risk (rows the fault could
double: rows `sending` just after a process fault, plus the numbers of requests the stand-in
answered late); skipped (never sent by a visible rule: `cancelled` with its reason); lost (owed,
never accepted, not skipped, with the statuses they were left in); and the time from the nudge
until nothing was pending, queued or sending. Targets (issue 7): 0 lost, every real duplicate
marked, no more duplicates than rows at risk. The exit status is 1 when any fault lost a
message (or could not be run). Logs and a JSON result go to bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
import redis
from fanout import REPO, RESULTS, VENV_BIN, free_port, http_json, libpq_url, log, stop_group

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
AT_TIMEOUT = 2
WINDOW = 30
"""Seconds the gateway faults last."""
MID_BURST = 0.25
"""Share of the burst that has left when the fault is done."""
POLL = 0.25
TRIGGER_POLL = 0.05
"""Seconds between polls while waiting for the moment of the fault: a burst moves fast."""
SETTLE = 3.0
"""Seconds after the drain for requests still in the stand-in to be recorded."""
REPORTS_WAIT = 60
"""Seconds at most for the stand-in to post the delivery reports it still owes the app."""
IN_FLIGHT = ("pending", "queued", "sending")
SKIPPED = ("cancelled",)
FIRST_NAMES = ["Awa", "Moussa", "Fatoumata", "Oumar", "Mariam", "Seydou", "Kadiatou", "Ibrahim"]


def phone(fault_index: int, row: int) -> str:
    """A Mali mobile number (+223 7x xx xx xx) of this fault's own range."""
    return f"+2237{fault_index}{row:06d}"


def text_for(row: int) -> str:
    """A text no other row has, so the stand-in's record tells rows apart."""
    return (
        f"Bonjour {FIRST_NAMES[row % 8]}, rappel {row:06d}: le point QI de la semaine est "
        f"attendu avant vendredi. Composez *384*12# pour le remplir."
    )


# -- processes -----------------------------------------------------------------------------------


@dataclass
class Child:
    """One process of the served system, in a process group of its own (killed as a whole)."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "a") as out:
            out.write(f"\n== {datetime.now():%H:%M:%S} {shlex.join(self.command)}\n")
            out.flush()
            self.process = subprocess.Popen(
                self.command, cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def exit_code(self) -> int | None:
        """None while it runs (or before it was started)."""
        return None if self.process is None else self.process.poll()

    def kill9(self) -> None:
        """SIGKILL the whole group, as a power cut or an OOM kill of its container would."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)


class Stack:
    """The served system and the handles to hurt it: Redis, stand-in, web, worker and clock."""

    def __init__(self, args: argparse.Namespace, stamp: str, tmp: Path) -> None:
        self.schema = f"faults_{os.getpid()}"
        self.redis_port, self.standin_port, self.web_port = free_port(), free_port(), free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.standin_url = f"http://127.0.0.1:{self.standin_port}"
        self.database_url = self._schema_url(args.database_url, self.schema)
        # The harness's own connections carry another name: the PostgreSQL fault spares them.
        self.bench_url = self._schema_url(args.database_url, f"{self.schema}_bench")
        self.env = self._env()
        self.events: list[str] = []
        self.started = time.monotonic()
        self.workers_started = 0
        redis_server = shutil.which("redis-server") or str(VENV_BIN / "redis-server")
        clock = [str(VENV_BIN / "flask"), "--app", "app", "clock", "--every", str(args.tick_every)]
        self.redis = self._child("redis", [redis_server, *self._redis_options(tmp)], stamp)
        self.standin = self._child("stand-in", self._standin_command(), stamp)
        self.web = self._child("web", self._web_command(), stamp)
        self.worker = self._child("worker", [], stamp)
        self.clock = self._child("clock", clock, stamp)

    def _child(self, name: str, command: list[str], stamp: str) -> Child:
        return Child(name, command, self.env, RESULTS / f"{stamp}-faults-{name}.log")

    def _schema_url(self, base: str, application_name: str) -> str:
        """The database URL with this run's schema first on the search path."""
        joiner = "&" if "?" in base else "?"
        return (
            f"{base}{joiner}options=-csearch_path%3D{self.schema}"
            f"&application_name={application_name}"
        )

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            AT_API_URL=self.standin_url,
            AT_API_KEY="bench-faults-key",
            AT_USERNAME="sandbox",
            AT_TIMEOUT=str(AT_TIMEOUT),
            QUIET_HOURS="",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            PYTHONDONTWRITEBYTECODE="1",
            PATH=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]),
        )
        for name in ("AT_SENDER_ID", "WEBHOOK_TOKEN", "AT_BATCH_SIZE"):
            env.pop(name, None)
        return env

    def _redis_options(self, tmp: Path) -> list[str]:
        return [
            "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", str(tmp),
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            "--daemonize", "no",
        ]  # fmt: skip

    def _standin_command(self) -> list[str]:
        delivery = f"http://127.0.0.1:{self.web_port}/sms/delivery"
        return [
            sys.executable, "-m", "dev.standin", "--port", str(self.standin_port),
            "--delivery-url", delivery, "--auto-deliver", "--threads", "64",
        ]  # fmt: skip

    def _web_command(self) -> list[str]:
        """The Procfile's web line, on loopback."""
        return [
            str(VENV_BIN / "granian"), "--interface", "wsgi", "--factory", "app:create_app",
            "--host", "127.0.0.1", "--port", str(self.web_port), "--workers", "2",
            "--blocking-threads", "1",
        ]  # fmt: skip

    # -- life cycle

    def since(self) -> str:
        return f"+{time.monotonic() - self.started:.1f} s"

    def start_redis(self) -> None:
        self.redis.start()
        wait_for(lambda: redis.Redis.from_url(self.redis_url).ping(), "redis-server", self.redis)

    def start_standin(self) -> None:
        self.standin.start()
        wait_for(lambda: self.control("reset", {}), "the stand-in", self.standin)

    def start_web(self) -> None:
        self.web.start()
        wait_for(
            lambda: http_json(f"http://127.0.0.1:{self.web_port}/healthz", timeout=2),
            "the web app",
            self.web,
        )

    def start_worker(self) -> None:
        """A new RQ worker (the Procfile's line), once it has registered with Redis."""
        self.workers_started += 1
        name = f"{self.schema}-{self.workers_started}"
        self.worker.command = [
            str(VENV_BIN / "rq"), "worker", "--with-scheduler", "-w", "workers.worker.AppWorker",
            "--url", self.redis_url, "--name", name,
        ]  # fmt: skip
        self.worker.start()
        key = f"rq:worker:{name}".encode()
        connection = redis.Redis.from_url(self.redis_url)
        wait_for(lambda: key in connection.smembers("rq:workers"), "the worker", self.worker)

    def start_all(self) -> None:
        self.start_redis()
        self.start_standin()
        self.start_web()
        self.clock.start()

    def stop_all(self) -> None:
        for child in (self.clock, self.worker, self.web, self.standin, self.redis):
            child.stop()

    def supervise(self) -> None:
        """Restart the worker, web or clock if it exited, as a process supervisor would."""
        for child, restart in (
            (self.worker, self.start_worker),
            (self.web, self.start_web),
            (self.clock, self.clock.start),
        ):
            code = child.exit_code()
            if code is not None:
                self.events.append(
                    f"{self.since()}: {child.name} exited with code {code}; restarted"
                )
                log(self.events[-1])
                restart()
        for child in (self.redis, self.standin):
            if child.exit_code() is not None:
                raise RuntimeError(f"{child.name} exited ({child.exit_code()}): see its log")

    # -- what the harness reads and does

    def control(self, path: str, body: dict | None = None) -> dict:
        """The stand-in's control API: GET without a body, POST with one."""
        data = None if body is None else json.dumps(body).encode()
        return http_json(f"{self.standin_url}/_standin/{path}", data, timeout=60)

    def terminate_service_connections(self) -> int:
        """pg_terminate_backend on every connection of the app, worker and clock."""
        with psycopg.connect(libpq_url(self.bench_url), autocommit=True) as conn:
            return len(
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = %s AND pid <> pg_backend_pid()",
                    (self.schema,),
                ).fetchall()
            )


def wait_for(ready: Callable[[], object], what: str, child: Child, limit: float = 60) -> None:
    """Poll `ready` until it answers truthy without raising; fail if the child exits first."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if child.exit_code() is not None:
            raise RuntimeError(f"{what} exited ({child.exit_code()}); see {child.log_path}")
        with contextlib.suppress(OSError, urllib.error.URLError, redis.RedisError, ValueError):
            if ready():
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} was not ready within {limit:g} s; see {child.log_path}")


# -- the database --------------------------------------------------------------------------------


def create_schema(stack: Stack) -> None:
    with psycopg.connect(libpq_url(stack.bench_url), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {stack.schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {stack.schema}")
    done = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "app", "db", "upgrade"],
        cwd=REPO, env=stack.env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed:\n{done.stdout}{done.stderr}")


def drop_schema(stack: Stack) -> None:
    with psycopg.connect(libpq_url(stack.bench_url), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {stack.schema} CASCADE")


def mark_column(conn: psycopg.Connection, schema: str) -> tuple[str, str] | None:
    """The outbox's possible-duplicate mark (name, type), if the code has one yet."""
    found = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = 'outbox' AND column_name LIKE %s",
        (schema, "%duplicate%"),
    ).fetchone()
    return (found[0], found[1]) if found else None


def unfinished(conn: psycopg.Connection) -> int:
    return conn.execute(
        "SELECT count(*) FROM outbox WHERE status = ANY(%s)", (list(IN_FLIGHT),)
    ).fetchone()[0]


def sending(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM outbox WHERE status = 'sending'").fetchone()[0]


class BurstWriter:
    """Writes owed messages the way the service does (`services.outbox.compose`), in-process."""

    def __init__(self, stack: Stack) -> None:
        from app import create_app
        from config import Settings

        self.settings = Settings.from_env(dict(stack.env, DATABASE_URL=stack.bench_url))
        self.app = create_app(self.settings)

    def write(self, fault_index: int, count: int) -> None:
        from models import db
        from models.base import utcnow
        from services.outbox import compose

        with self.app.app_context():
            now = utcnow()
            for row in range(count):
                compose(
                    self.settings, now,
                    phone=phone(fault_index, row), text=text_for(row), kind="reminder",
                )  # fmt: skip
            db.session.commit()
            db.session.remove()


# -- faults --------------------------------------------------------------------------------------


def kill_worker(stack: Stack, conn: psycopg.Connection) -> tuple[str, int]:
    stack.worker.kill9()
    at_risk = sending(conn)
    time.sleep(2)
    stack.start_worker()
    return f"worker killed (-9) with {at_risk} rows sending; a new worker 2 s later", at_risk


def restart_redis(stack: Stack, conn: psycopg.Connection) -> tuple[str, int]:
    worker_pid = stack.worker.process.pid if stack.worker.process else None
    stack.redis.kill9()
    at_risk = sending(conn)
    time.sleep(5)
    stack.start_redis()
    stack.events.append(f"{stack.since()}: redis-server back after 5 s")
    alive = stack.worker.exit_code() is None
    verdict = "still running" if alive else f"exited with code {stack.worker.exit_code()}"
    return f"redis-server killed (-9), restarted 5 s later; worker {worker_pid} {verdict}", at_risk


def cut_postgres(stack: Stack, conn: psycopg.Connection) -> tuple[str, int]:
    cut = stack.terminate_service_connections()
    return f"{cut} PostgreSQL connections of the service terminated", sending(conn)


def gateway_5xx(stack: Stack, conn: psycopg.Connection) -> tuple[str, int]:
    stack.control("faults", {"http_status": 503, "seconds": WINDOW})
    return f"the stand-in answers 503 for {WINDOW} s", 0


def gateway_slow(stack: Stack, conn: psycopg.Connection) -> tuple[str, int]:
    delay = AT_TIMEOUT + 1
    stack.control("faults", {"delay_seconds": delay, "seconds": WINDOW})
    return f"the stand-in answers after {delay} s (AT_TIMEOUT {AT_TIMEOUT}) for {WINDOW} s", 0


FAULTS: dict[str, Callable[[Stack, psycopg.Connection], tuple[str, int]]] = {
    "kill-worker": kill_worker,
    "restart-redis": restart_redis,
    "cut-postgres": cut_postgres,
    "gateway-5xx": gateway_5xx,
    "gateway-slow": gateway_slow,
}


# -- one fault -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    fault: str
    owed: int = 0
    accepted: int = 0
    marked: int | None = None
    duplicated: int = 0
    extra_messages: int = 0
    unmarked_duplicates: int | None = None
    at_risk: int = 0
    left_at_fault: int = 0
    skipped: int = 0
    lost: int = 0
    lost_by_status: dict[str, int] = field(default_factory=dict)
    strays: int = 0
    reports_acknowledged: int = 0
    reports_unapplied: int = 0
    drain_seconds: float | None = None
    what: str = ""
    events: list[str] = field(default_factory=list)
    error: str | None = None


def fresh_state(stack: Stack, conn: psycopg.Connection) -> None:
    """No row, fault or record left from the previous fault; a new worker.

    Redis is not flushed: a job left from before names ids that no longer exist (ids are not
    restarted), and an emptied Redis is itself a fault the sweeper reacts to.
    """
    stack.worker.stop()
    conn.execute("TRUNCATE outbox CASCADE")
    stack.control("reset", {})
    wait_for_scheduler_lock(stack)
    stack.start_worker()
    stack.events = []


def wait_for_scheduler_lock(stack: Stack) -> None:
    """Let a lock held by a dead RQ scheduler expire (61 s at most) before the next worker.

    A worker takes the scheduler (which runs RQ's job retries) only if the lock is free when
    it starts, and tries again only every 10 minutes. A scheduler that died in the previous
    fault would otherwise leave the next fault without retries: a fault's harm carried over.
    """
    connection = redis.Redis.from_url(stack.redis_url)
    deadline, waited = time.monotonic() + 75, time.monotonic()
    while connection.keys("rq:scheduler-lock:*") and time.monotonic() < deadline:
        time.sleep(1)
    if time.monotonic() - waited > 1:
        log(f"waited {time.monotonic() - waited:.0f} s for a dead RQ scheduler's lock to expire")


def nudge(stack: Stack) -> subprocess.Popen:
    """One tick, as the clock would run it, to hand the owed rows to the outbox at once.

    Not waited for: the burst is under way before the tick's process has even exited.
    """
    with open(stack.clock.log_path, "a") as out:
        return subprocess.Popen(
            [str(VENV_BIN / "flask"), "--app", "app", "tick"],
            cwd=REPO, env=stack.env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def reap_nudge(stack: Stack, tick: subprocess.Popen) -> None:
    """Wait for the nudging tick; a failure is an event of the run (the clock catches up)."""
    try:
        code = tick.wait(timeout=120)
    except subprocess.TimeoutExpired:
        stop_group(tick)
        code = tick.returncode
    if code != 0:
        stack.events.append(f"{stack.since()}: the nudging tick exited with code {code}")


def run_fault(
    stack: Stack, writer: BurstWriter, conn: psycopg.Connection, name: str, index: int, args
) -> Outcome:
    outcome = Outcome(name)
    fresh_state(stack, conn)
    writer.write(index, args.burst)
    log(f"{name}: {args.burst} rows owed; nudging the outbox")
    started = stack.started = time.monotonic()
    tick = nudge(stack)
    try:
        outcome.left_at_fault = wait_until(
            stack, conn, lambda n: n <= args.burst * (1 - MID_BURST), started + 120, TRIGGER_POLL
        )
        log(f"{name}: {args.burst - outcome.left_at_fault} rows out; doing the fault")
        outcome.what, outcome.at_risk = FAULTS[name](stack, conn)
        log(f"{name}: {outcome.what}")
        reap_nudge(stack, tick)
    finally:
        stop_group(tick)
    left = wait_until(stack, conn, lambda n: n == 0, started + args.wait)
    if left == 0:
        outcome.drain_seconds = time.monotonic() - started
    time.sleep(SETTLE)
    measure(stack, conn, outcome)
    outcome.events = list(stack.events)
    return outcome


def wait_until(
    stack: Stack,
    conn: psycopg.Connection,
    done: Callable[[int], bool],
    deadline: float,
    every: float = POLL,
) -> int:
    """Supervise and poll the rows in flight until `done(rows)` or the deadline; the rows left."""
    while True:
        stack.supervise()
        left = unfinished(conn)
        if done(left) or time.monotonic() >= deadline:
            return left
        time.sleep(every)


def measure(stack: Stack, conn: psycopg.Connection, outcome: Outcome) -> None:
    """Compare every outbox row with what the stand-in accepted for its (number, text)."""
    mark = mark_column(conn, stack.schema)
    marked_sql = "false" if mark is None else _marked_sql(mark)
    messages = reported_messages(stack)
    rows = conn.execute(
        f"SELECT phone, text, status, failure_reason, {marked_sql}, gateway_id FROM outbox"
    ).fetchall()
    accepted = collections.Counter((m["number"], m["text"]) for m in messages)
    delayed = {
        number
        for r in stack.control("requests")["requests"]
        if (r.get("fault") or "").startswith("delayed")
        for number in r["to"].split(",")
    }
    lost: collections.Counter[str] = collections.Counter()
    owned, marked_rows, unmarked = set(), 0, 0
    for number, text, status, reason, marked, _ in rows:
        times = accepted[number, text]
        owned.add((number, text))
        outcome.accepted += times > 0
        outcome.duplicated += times > 1
        outcome.extra_messages += max(0, times - 1)
        marked_rows += bool(marked)
        unmarked += times > 1 and not marked
        if times == 0 and status in SKIPPED and reason:
            outcome.skipped += 1
        elif times == 0:
            lost[status] += 1
    outcome.owed = len(rows)
    if mark is not None:
        outcome.marked, outcome.unmarked_duplicates = marked_rows, unmarked
    outcome.at_risk += len(delayed)
    outcome.lost, outcome.lost_by_status = sum(lost.values()), dict(lost)
    outcome.strays = sum(n for pair, n in accepted.items() if pair not in owned)
    count_reports(outcome, messages, rows, accepted)


def reported_messages(stack: Stack) -> list[dict]:
    """The stand-in's messages once it has posted the delivery reports it still owes the app
    (one at a time, a second after each acceptance): when two looks 2 s apart agree."""
    deadline, seen = time.monotonic() + REPORTS_WAIT, -1
    while True:
        messages = stack.control("messages")["messages"]
        reported = sum(1 for m in messages if m["delivery_status"])
        if reported == seen or time.monotonic() >= deadline:
            return messages
        seen = reported
        time.sleep(2)


def count_reports(
    outcome: Outcome, messages: list[dict], rows: list, accepted: collections.Counter
) -> None:
    """Success reports the app acknowledged, and those that left their row short of `success`.

    A report for the second copy of a doubled row names an id the row does not keep: those
    are not counted as unapplied. Any other is a report the app answered 200 and dropped (one
    that came before the id was recorded, say): the gateway never sends it again.
    """
    delivered = {row[-1] for row in rows if row[2] == "success"}
    acknowledged = [m for m in messages if m["delivery_status"] == "Success"]
    outcome.reports_acknowledged = len(acknowledged)
    outcome.reports_unapplied = sum(
        1
        for m in acknowledged
        if m["id"] not in delivered and accepted[m["number"], m["text"]] == 1
    )


def _marked_sql(mark: tuple[str, str]) -> str:
    name, kind = mark
    return f"{name} IS TRUE" if kind == "boolean" else f"{name} IS NOT NULL"


# -- the report ----------------------------------------------------------------------------------


def table(outcomes: list[Outcome]) -> str:
    head = (
        f"{'fault':<14} {'owed':>6} {'accepted':>8} {'marked':>6} {'real dup':>8} "
        f"{'at risk':>7} {'skipped':>7} {'lost':>5} {'drain':>9}"
    )
    lines = [head, "-" * len(head)]
    for o in outcomes:
        if o.error:
            lines.append(f"{o.fault:<14} not run: {o.error}")
            continue
        marked = "n/a" if o.marked is None else f"{o.marked:,}"
        drain = f"{o.drain_seconds:.1f} s" if o.drain_seconds is not None else "not drained"
        lines.append(
            f"{o.fault:<14} {o.owed:>6,} {o.accepted:>8,} {marked:>6} {o.duplicated:>8,} "
            f"{o.at_risk:>7,} {o.skipped:>7,} {o.lost:>5,} {drain:>9}"
        )
    return "\n".join(lines)


def details(outcome: Outcome, wait: float) -> list[str]:
    """What happened during one fault, and its verdicts against the targets."""
    if outcome.error:
        return [f"{outcome.fault}: {outcome.error}"]
    lines = [f"{outcome.fault}: {outcome.what}"]
    lines.append(
        f"    {outcome.left_at_fault:,} of {outcome.owed:,} rows still to send at the fault"
    )
    lines += [f"    {event}" for event in outcome.events]
    if outcome.drain_seconds is None:
        lines.append(f"    still pending, queued or sending after {wait:g} s")
    if outcome.lost:
        left = ", ".join(f"{n} {status}" for status, n in sorted(outcome.lost_by_status.items()))
        lines.append(f"    lost rows were left: {left}")
    if outcome.extra_messages > outcome.duplicated:
        lines.append(f"    {outcome.extra_messages} extra messages in all")
    lines.append(
        f"    delivery reports: {outcome.reports_acknowledged:,} acknowledged by the app, "
        f"{outcome.reports_unapplied:,} of them left their row short of 'success'"
    )
    if outcome.strays:
        lines.append(f"    {outcome.strays} messages accepted that match no row")
    marks = (
        "n/a (no mark column)"
        if outcome.unmarked_duplicates is None
        else _verdict(outcome.unmarked_duplicates == 0, f"{outcome.unmarked_duplicates} unmarked")
    )
    lines.append(
        f"    0 lost {_verdict(outcome.lost == 0, str(outcome.lost))}; every real duplicate "
        f"marked {marks}; duplicates <= at risk "
        f"{_verdict(outcome.duplicated <= outcome.at_risk, f'{outcome.duplicated} vs {outcome.at_risk}')}"
    )
    return lines


def _verdict(ok: bool, figures: str) -> str:
    return f"{'PASS' if ok else 'FAIL'} ({figures})"


def code_version() -> str:
    found = subprocess.run(
        ["git", "log", "-1", "--format=%h %s"], cwd=REPO, capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "--", "workers", "services",
         "gateway", "models", "migrations", "webhooks"],
        cwd=REPO, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    return found.stdout.strip()[:72] + (" (+ uncommitted changes)" if dirty else "")


def report(args, outcomes: list[Outcome], seconds: float) -> str:
    lines = [
        "== Outbox fault benchmark ==",
        f"machine   {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        f"code      {code_version()}",
        f"command   {shlex.join([Path(sys.executable).name, *sys.argv])}",
        f"setup     {args.burst:,} owed SMS per fault (one number and text each), 1 worker, "
        f"clock every {args.tick_every} s, AT_TIMEOUT {AT_TIMEOUT} s, fault at "
        f"{MID_BURST:.0%} sent, wait <= {args.wait:g} s; whole run {seconds / 60:.1f} min",
        "",
        table(outcomes),
        "",
    ]
    for outcome in outcomes:
        lines += details(outcome, args.wait)
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", choices=sorted(FAULTS), action="append", help="run this fault (repeatable)"
    )
    parser.add_argument("--burst", type=int, default=2000, help="owed messages per fault")
    parser.add_argument("--wait", type=float, default=300, help="seconds to wait for the drain")
    parser.add_argument(
        "--tick-every", type=int, default=5, help="seconds between the clock's ticks"
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    args = parser.parse_args()
    if not 1 <= args.burst <= 999_999:
        parser.error("--burst must be from 1 to 999,999")
    return args


def _interrupted(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupted)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    began = time.monotonic()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="faults-redis-") as tmp:
        stack = Stack(args, stamp, Path(tmp))
        try:
            outcomes = run(stack, args)
        finally:
            log("stopping every process and dropping the schema")
            stack.stop_all()
            with contextlib.suppress(psycopg.Error):
                drop_schema(stack)
    text = report(args, outcomes, time.monotonic() - began)
    print("\n" + text)
    (RESULTS / f"{stamp}-faults.txt").write_text(text + "\n")
    results = json.dumps([asdict(o) for o in outcomes], indent=1)
    (RESULTS / f"{stamp}-faults.json").write_text(results)
    failed = any(o.error or o.lost for o in outcomes)
    print(f"\nRESULT    {'FAIL: messages lost or a fault not run' if failed else 'PASS: 0 lost'}")
    return 1 if failed else 0


def run(stack: Stack, args: argparse.Namespace) -> list[Outcome]:
    log(f"schema {stack.schema}: migrating")
    create_schema(stack)
    log("starting redis-server, the stand-in, web, worker and clock")
    stack.start_all()
    writer = BurstWriter(stack)
    outcomes = []
    with psycopg.connect(libpq_url(stack.bench_url), autocommit=True) as conn:
        for index, name in enumerate(FAULTS):
            if args.only and name not in args.only:
                continue
            try:
                outcomes.append(run_fault(stack, writer, conn, name, index, args))
            except (RuntimeError, subprocess.SubprocessError, OSError, redis.RedisError) as exc:
                log(f"{name}: could not be run: {exc}")
                outcomes.append(Outcome(name, error=str(exc)[:300]))
    return outcomes


if __name__ == "__main__":
    sys.exit(main())
