"""USSD throughput and latency benchmark: the real app against two Flask floors, per server.

    .venv/bin/python bench/ussd.py                   # everything, ~10 s per measurement
    .venv/bin/python bench/ussd.py --duration 5 --servers granian --profile

A benchmark, not a test: it prepares its own PostgreSQL database (DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/bench; it refuses the test suite's `test`), serves the
app, bench/bare_app.py (no database) and bench/commit_app.py (one committed INSERT per step)
with granian and gunicorn (2 workers each), and drives whole weekly
QI check-ins through them. Maximum throughput (USSD steps/s with many concurrent sessions, and
its p50/p99 latency) is measured with wrk + bench/ussd.lua (C: the load generator shares the
cores with the servers and must steal little); the real app's latency at half its own maximum
rate with a small paced asyncio client (see run_paced for why not wrk). After every real-app
run it checks in the database that each completed session left one completed check-in and all
of its answers.

Sessions are what the gateway sends: a fresh sessionId, steps strictly in order, `text`
cumulative joined by `*`, and each session on a fresh worker (one CSCom facility each), so
every session walks the whole check-in. Each response body must equal the expected screen;
any other answer is an error, and a run with errors ends with a loud banner and exit status 1.

No WEBHOOK_TOKEN: the bench removes it from the servers' environment (the check is one
compare). CPU use during each run is split between the server, PostgreSQL, the load generator
and everything else; a run disturbed by other processes (a shared machine) is measured again.
--profile adds a cProfile of the app in-process and a py-spy (GIL) profile of the server's
workers under load. Results, logs and profiles go to bench/results/ (git-ignored). Needs `wrk`
built with LuaJIT (Debian: apt-get install wrk) and, for --profile, py-spy in the venv.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import math
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
RESULTS = BENCH / "results"
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

# The walk every simulated worker does: met = yes, 6 attendees, PDSA being tested, 40 eligible,
# 38 served, no obstacle, no support needed, comment "ok", then 1 to send.
INPUTS = ["1", "6", "2", "40", "38", "1", "2", "ok", "1"]
STEP_TEXTS = ["*".join(INPUTS[:n]) for n in range(len(INPUTS) + 1)]  # "", "1", "1*6", ...
ANSWERED = ["met", "attendees", "change_status", "denominator", "numerator", "obstacle"]
ANSWERED += ["support", "comment"]  # what one completed check-in stores
PHONE_BASE = 70_000_000  # worker i has +223 (70000000 + i): Orange Mali, checked below
FLOW_FILE = REPO / "flows" / "weekly_qi.yaml"
SERVICE_CODE = "*384*12#"
UNKNOWN_PHONE = "+22379999999"  # the readiness probe: a valid number nobody has


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# -- database ------------------------------------------------------------------------------------


def libpq_url(url: str) -> str:
    """psycopg wants postgresql://; the app takes it too (config adds +psycopg)."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def app_env(args) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("WEBHOOK_TOKEN", None)
    env.update(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        PYTHONPATH=str(REPO),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def phone(index: int) -> str:
    return f"+223{PHONE_BASE + index}"


def check_phones(count: int) -> None:
    from models.phone import normalise_phone

    if PHONE_BASE + count > 79_999_999:
        sys.exit(f"--pool too large: {count} phones do not fit in +2237xxxxxxx")
    for index in {0, 1, count // 3, count // 2, count - 1}:
        if normalise_phone(phone(index)) != phone(index):
            sys.exit(f"{phone(index)} does not normalise to itself: change PHONE_BASE")
    if normalise_phone(UNKNOWN_PHONE) != UNKNOWN_PHONE:
        sys.exit(f"{UNKNOWN_PHONE} is not valid: change UNKNOWN_PHONE")


def prepare_database(args) -> None:
    url = libpq_url(args.database_url)
    if urllib.parse.urlparse(url).path.lstrip("/") == "test":
        sys.exit("refusing to use the database `test`: the test suite owns it")
    log(f"preparing {url}: new schema, migrations, flow, {args.pool:,} facilities and workers")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    flask = [str(VENV_BIN / "flask"), "--app", "app"]
    for command in (["db", "upgrade"], ["flows", "publish", str(FLOW_FILE)]):
        done = subprocess.run(
            flask + command,
            cwd=REPO,
            env=app_env(args),
            capture_output=True,
            text=True,
            timeout=180,
        )
        if done.returncode != 0:
            sys.exit(f"flask {' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    # Worker i belongs to CSCom i; the last one (i = pool) is kept for the screen capture.
    count = args.pool + 1
    check_phones(count)
    now = datetime.now(UTC)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO facilities (id, code, name, kind, parent_id)"
            " VALUES (1, 'CSREF-BENCH', 'CSRef du banc d''essai', 'csref', NULL)"
        )
        with cur.copy("COPY facilities (id, code, name, kind, parent_id) FROM STDIN") as copy:
            for i in range(count):
                copy.write_row((i + 2, f"CSCOM-B{i:07d}", f"CSCom banc {i}", "cscom", 1))
        columns = "id, name, phone, facility_id, role, language, active, opted_out, created_at"
        with cur.copy(f"COPY workers ({columns}) FROM STDIN") as copy:
            for i in range(count):
                row = (i + 1, f"Agent {i}", phone(i), i + 2, "qi_focal_point", "fr", True)
                copy.write_row((*row, False, now))
        cur.execute(  # bench/commit_app.py's one row per step
            "CREATE TABLE bench_steps (id bigserial PRIMARY KEY, session_id text NOT NULL,"
            " text text NOT NULL, at timestamptz NOT NULL DEFAULT now())"
        )
        for table in ("facilities", "workers"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        conn.commit()
        cur.execute("ANALYZE")


def db_counts(args) -> dict[str, int]:
    with psycopg.connect(libpq_url(args.database_url)) as conn:
        row = conn.execute(
            """
            SELECT
              (SELECT count(*) FROM checkins WHERE status = 'completed'),
              (SELECT count(*) FROM answers),
              (SELECT count(*) FROM sessions WHERE status = 'submitted'),
              (SELECT count(*) FROM checkins c WHERE c.status = 'completed'
                 AND (SELECT count(*) FROM answers a WHERE a.checkin_id = c.id) <> %s)
            """,
            (len(ANSWERED),),
        ).fetchone()
    return dict(zip(("completed", "answers", "submitted", "incomplete"), row, strict=True))


def settled_counts(args, timeout: float = 10.0) -> dict[str, int]:
    """The counts once in-flight requests have finished (two equal reads 0.5 s apart)."""
    deadline = time.monotonic() + timeout
    previous = db_counts(args)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        current = db_counts(args)
        if current == previous:
            break
        previous = current
    return previous


def verify(before: dict, after: dict, result: dict) -> dict:
    """Each completed session: one completed check-in, all its answers, a submitted session."""
    delta = {key: after[key] - before[key] for key in ("completed", "answers", "submitted")}
    per, done, finals = len(ANSWERED), result["completed"], result["finals_sent"]
    problems = []
    if not done <= delta["completed"] <= finals:
        problems.append(
            f"{delta['completed']} check-ins completed in the database, but the client saw"
            f" {done} sessions end and sent {finals} final steps"
        )
    if delta["answers"] != per * delta["completed"]:
        problems.append(f"{delta['answers']} answers stored for {delta['completed']} check-ins")
    if delta["submitted"] != delta["completed"]:
        problems.append(f"{delta['submitted']} sessions submitted, {delta['completed']} check-ins")
    if after["incomplete"]:
        problems.append(f"{after['incomplete']} completed check-ins without their {per} answers")
    in_flight = delta["completed"] - done
    text = (
        f"+{delta['completed']} completed check-ins, +{delta['answers']} answers"
        f" ({per} each), +{delta['submitted']} submitted sessions; client saw {done} END Merci"
    )
    if in_flight > 0:
        text += f" (+{in_flight} final steps answered after the client stopped reading)"
    return {"ok": not problems, "problems": problems, "text": text, "delta": delta}


# -- the real screens and the SQL they cost -------------------------------------------------------


def in_process_app(args):
    os.environ.update(app_env(args))
    from app import create_app

    return create_app()


def walk(client, session_id: str, index: int) -> list:
    responses = []
    for text in STEP_TEXTS:
        data = {
            "sessionId": session_id,
            "serviceCode": SERVICE_CODE,
            "phoneNumber": phone(index),
            "networkCode": "99999",
            "text": text,
        }
        responses.append(client.post("/ussd", data=data))
    return responses


def capture_screens(app, args) -> list[str]:
    """One session in-process on the reserved worker: the bodies every session must get."""
    responses = walk(app.test_client(), "bench-capture", args.pool)
    bodies = [r.get_data(as_text=True) for r in responses]
    for text, response, body in zip(STEP_TEXTS, responses, bodies, strict=True):
        if response.status_code != 200 or response.mimetype != "text/plain":
            sys.exit(f"capture: step {text!r} answered {response.status} {body!r}")
    problems = [f"step {n} {b!r}" for n, b in enumerate(bodies[:-1], 1) if b[:4] != "CON "]
    if not bodies[-1].startswith("END Merci"):
        problems.append(f"last step {bodies[-1]!r}")
    if problems:
        sys.exit("capture: the walk does not go through the check-in: " + "; ".join(problems))
    from bench.bare_app import SCREENS

    lengths = [(len(a), len(b)) for a, b in zip(bodies, SCREENS, strict=True)]
    if any(a != b for a, b in lengths):
        log(f"WARNING: bare_app.SCREENS lengths {[b for _, b in lengths]} differ from the real")
        log(f"         screens' {[a for a, _ in lengths]}: update bench/bare_app.py")
    return bodies


def count_sql(app, phones) -> list[list[str]]:
    """SQL statements each step sends, on a warm process (after two warm-up sessions)."""
    import sqlalchemy as sa

    from models import db

    with app.app_context():
        engine = db.engine
    per_step: list[list[str]] = [[] for _ in STEP_TEXTS]
    current = {"step": None}

    def record(conn, cursor, statement, parameters, context, executemany):
        if current["step"] is not None:
            per_step[current["step"]].append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", record)
    client = app.test_client()
    try:
        for _ in range(2):
            index = phones.take(1)
            walk(client, f"sql-warm-{index}", index)
        index = phones.take(1)
        for step, text in enumerate(STEP_TEXTS):
            current["step"] = step
            data = {"sessionId": f"sql-{index}", "serviceCode": SERVICE_CODE}
            data.update(phoneNumber=phone(index), networkCode="99999", text=text)
            client.post("/ussd", data=data)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return per_step


def print_sql(per_step: list[list[str]], verbose: bool) -> None:
    print(
        "\nSQL statements per step (warm process; BEGIN and COMMIT not shown: steps 2-9 have none, autocommitted):"
    )
    total = 0
    for step, statements in enumerate(per_step):
        total += len(statements)
        kinds = collections.Counter(s.split()[0] for s in statements)
        summary = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
        print(f"  step {step + 1:2d} {STEP_TEXTS[step]!r:24} {len(statements):2d}: {summary}")
        if verbose:
            for s in statements:
                print(f"        {s[:150]}")
    print(f"  {total} per session, {total / len(STEP_TEXTS):.1f} per step on average")


# -- servers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    server: str  # granian | gunicorn
    app: str  # app | bare | commit


SERVER_NAME = re.compile(r"granian(?:-t(\d+))?|gunicorn")


def floor_app(target: Target) -> str:
    """bench/bare_app.py or bench/commit_app.py."""
    return f"bench.{target.app}_app:app"


def server_command(target: Target, port: int, args) -> list[str]:
    if target.server.startswith("granian"):
        spec = ["--factory", "app:create_app"] if target.app == "app" else [floor_app(target)]
        threads = SERVER_NAME.fullmatch(target.server)[1]  # granian-t1: --blocking-threads 1
        return [
            str(VENV_BIN / "granian"),
            *("--interface", "wsgi", "--workers", str(args.workers)),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--no-access-log", "--log-level", "warning", "--working-dir", str(REPO)),
            *(("--blocking-threads", threads) if threads else ()),
            *shlex.split(args.granian_args),
            *spec,
        ]
    spec = "app:create_app()" if target.app == "app" else floor_app(target)
    return [
        str(VENV_BIN / "gunicorn"),
        *("-w", str(args.workers), "-b", f"127.0.0.1:{port}"),
        *("--log-level", "warning", "--chdir", str(REPO)),
        *shlex.split(args.gunicorn_args),
        spec,
    ]


@dataclass
class Server:
    url: str
    pgid: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(target: Target, args, stamp: str):
    port = free_port()
    command = server_command(target, port, args)
    log_path = RESULTS / f"{stamp}-{target.server}-{target.app}.log"
    log(f"starting {target.server} / {target.app}: {shlex.join(command)}")
    with open(log_path, "w") as out:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=app_env(args),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends exactly that
        )
    try:
        wait_ready(port, process, log_path)
        yield Server(f"http://127.0.0.1:{port}", process.pid)
    finally:
        stop(process)


def wait_ready(port: int, process: subprocess.Popen, log_path: Path, timeout: float = 30) -> None:
    """Ready when a first step answers CON/END (the real app: an unknown number, no writes)."""
    data = {"sessionId": "ready", "serviceCode": SERVICE_CODE, "phoneNumber": UNKNOWN_PHONE}
    body = urllib.parse.urlencode({**data, "networkCode": "99999", "text": ""}).encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited ({process.returncode}); see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ussd", body, timeout=2) as r:
                if r.read()[:4] in (b"CON ", b"END "):
                    time.sleep(1.0)  # let every worker finish booting
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    sys.exit(f"the server did not answer within {timeout} s; see {log_path}")


def stop(process: subprocess.Popen) -> None:
    """Stop the server we started: its own process group, nothing else."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError):  # a worker left behind by its master
        os.killpg(process.pid, signal.SIGKILL)


def group_processes(pgid: int) -> list[tuple[int, int]]:
    """(pid, ppid) of every process in process group `pgid`."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{entry.name}/stat").read_text()
                fields = stat[stat.rindex(")") + 2 :].split()
                if int(fields[2]) == pgid:
                    found.append((int(entry.name), int(fields[1])))
    return found


# -- CPU accounting -------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_time_total() -> float:
    """CPU seconds the machine spent in processes (user, nice, system): interrupts and softirq
    (loopback networking at thousands of requests/s) and steal are left out of "busy"."""
    user, nice, system = (int(v) for v in Path("/proc/stat").read_text().split()[1:4])
    return (user + nice + system) / CLOCK_TICKS


def cpu_sample(server_pgid: int, dbname: str) -> dict:
    """CPU seconds so far: the machine (busy), and per process for the server's group and for
    PostgreSQL (the bench database's backends, the background processes, and backends that
    exited, whatever their database; live backends of other databases count as "other");
    the load generator through getrusage."""
    sample = {"busy": process_time_total()}
    server, postgres = {}, {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            if int(fields[2]) == server_pgid:
                server[entry.name] = seconds
            elif comm == "postgres":
                title = Path(f"/proc/{entry.name}/cmdline").read_bytes().decode(errors="replace")
                backend = re.search(r"postgres: \S+: \S+ (\S+) ", title)
                if backend is None:  # the postmaster (its cutime: backends that exited,
                    # e.g. pool overflow connections) and the background processes
                    children = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
                    postgres[entry.name] = seconds + children
                elif backend[1] == dbname:
                    postgres[entry.name] = seconds
    sample.update(server=server, postgres=postgres)
    # The load generator: wrk (a child, counted once waited for) or this process (paced runs).
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    sample["client"] = children.ru_utime + children.ru_stime + own.ru_utime + own.ru_stime
    sample["time"] = time.monotonic()
    return sample


def wait_quiet(limit: float, threshold: float) -> float:
    """Wait up to `limit` s for the machine to idle (our servers are idle between runs)."""
    deadline = time.monotonic() + limit
    waited = False
    while True:
        before = process_time_total()
        time.sleep(1.0)
        busy = process_time_total() - before
        if busy < threshold or time.monotonic() >= deadline:
            if waited or busy >= threshold:
                verdict = "ok" if busy < threshold else "gave up waiting"
                log(f"  machine busy {busy:.2f} cores before the run ({verdict})")
            return busy
        if not waited:
            log(f"  other processes use {busy:.2f} cores; waiting up to {limit:g} s for quiet")
            waited = True


def cpu_split(before: dict, after: dict) -> dict[str, float]:
    """Average cores used during the run, per consumer; "other" is everything else."""
    wall = after["time"] - before["time"]

    def used(key: str) -> float:  # processes that started during the run count in full
        return sum(t - before[key].get(pid, 0.0) for pid, t in after[key].items())

    cores = {"busy": (after["busy"] - before["busy"]) / wall}
    cores.update(server=used("server") / wall, postgres=used("postgres") / wall)
    cores["client"] = (after["client"] - before["client"]) / wall
    cores["other"] = cores["busy"] - cores["server"] - cores["postgres"] - cores["client"]
    cores["other"] = max(0.0, cores["other"])
    return cores


# -- load -----------------------------------------------------------------------------------------


class Phones:
    """Disjoint ranges of the worker pool, so that no worker ever answers twice."""

    def __init__(self, limit: int):
        self.limit, self.next = limit, 0

    def take(self, count: int) -> int:
        first = self.next
        self.next += count
        if self.next > self.limit:
            sys.exit(f"the worker pool ({self.limit:,}) is exhausted: raise --pool")
        return first


def lua_string(text: str) -> str:
    return '"' + "".join(f"\\{b}" for b in text.encode()) + '"'


def run_wrk(
    server: Server,
    phones: Phones,
    screens: list[str],
    label: str,
    duration: float,
    concurrency: int,
) -> dict:
    """As many steps as `concurrency` sessions can do in `duration` s (wrk + ussd.lua)."""
    config = RESULTS / "wrk-config.lua"
    texts = ", ".join(lua_string(urllib.parse.quote(t, safe="")) for t in STEP_TEXTS)
    config.write_text(
        "return {\n"
        f"  path = '/ussd', threads = {concurrency}, offset = {phones.next},\n"
        f"  limit = {phones.limit}, phone_base = {PHONE_BASE},\n"
        f"  prefix = 'ATUid_{label}_{int(time.time())}_',\n"
        f"  texts = {{{texts}}},\n"
        f"  screens = {{{', '.join(lua_string(s) for s in screens)}}},\n"
        "}\n"
    )
    command = ["wrk", "-t", str(concurrency), "-c", str(concurrency), "-d", f"{duration:g}s"]
    command += ["--timeout", "10s", "-s", str(BENCH / "ussd.lua"), server.url]
    done = subprocess.run(
        command,
        env=dict(os.environ, USSD_BENCH_CONFIG=str(config)),
        capture_output=True,
        text=True,
        timeout=duration + 60,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if done.returncode != 0 or not lines:
        sys.exit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = json.loads(lines[-1].removeprefix("BENCH_JSON "))
    phones.next = max(phones.next, result["max_index"] + 1)  # next run: untouched workers
    result["steps_per_s"] = result["requests"] / (result["duration_us"] / 1e6)
    result.update(concurrency=concurrency, rate=0.0, label=label, client="wrk")
    socket_errors = sum(result["socket_errors"].values())
    result["all_errors"] = result["errors"] + socket_errors + result["exhausted"]
    return result


def percentiles(values: list[float], scale: float = 1.0) -> dict[str, float]:
    ordered = sorted(values)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(len(ordered) * p / 100) - 1))]

    if not ordered:
        return {"p50": -1, "p90": -1, "p99": -1, "max": -1, "mean": -1}
    stats = {"p50": at(50), "p90": at(90), "p99": at(99), "max": ordered[-1]}
    stats["mean"] = sum(ordered) / len(ordered)
    return {key: value * scale for key, value in stats.items()}


def run_paced(
    server: Server,
    phones: Phones,
    screens: list[str],
    label: str,
    duration: float,
    concurrency: int,
    rate: float,
) -> dict:
    """`rate` steps/s in total from `concurrency` sessions, each on its own schedule.

    A small asyncio client rather than wrk, because a paced client must not hold a connection
    open while it waits: gunicorn's sync workers block on such a socket. Like a gateway, it
    connects, sends, reads and closes as soon as the server says `Connection: close` (it keeps
    the connection when the server keeps it alive, as wrk does). Latency is measured from the
    start of the connect (or send) and, as "sched", from the scheduled send time.
    """
    return asyncio.run(_paced(server, phones, screens, label, duration, concurrency, rate))


async def _paced(server, phones, screens, label, duration, concurrency, rate) -> dict:
    url = urllib.parse.urlparse(server.url)
    host, port = url.hostname, url.port
    interval = concurrency / rate
    prefix = f"ATUid_{label}_{int(time.time())}_"
    texts = [urllib.parse.quote(t, safe="") for t in STEP_TEXTS]
    wanted = [s.encode() for s in screens]
    totals = collections.Counter()
    latencies: list[float] = []
    sched_latencies: list[float] = []
    samples: list[str] = []
    max_index = -1
    start = time.perf_counter()
    ramp = interval * len(STEP_TEXTS)  # until every lane has started (see `due` below)
    measured_from = start + ramp
    stop_at = measured_from + duration

    async def lane(lane_id: int) -> None:
        nonlocal max_index
        reader = writer = None
        session, step, index = -1, len(STEP_TEXTS), 0
        # Lanes start spread over a whole session's length, so that at any moment they are at
        # different steps, as sessions that began at independent times are. Started within one
        # interval they would walk in lock step, and every lane's first step (the costly one)
        # would land in the same burst, which real traffic does not do.
        due = start + lane_id * interval * len(STEP_TEXTS) / concurrency
        while True:
            if step == len(STEP_TEXTS):  # a new session on a fresh worker
                session, step = session + 1, 0
                index = phones.next + lane_id + concurrency * session
                if index >= phones.limit:
                    totals["exhausted"] = 1
                    return
                max_index = max(max_index, index)
                totals["started"] += 1
            now = time.perf_counter()
            if due > now:
                await asyncio.sleep(due - now)
            elif now - due > 1.0:
                due = now  # more than a second behind: do not burst to catch up
            if time.perf_counter() >= stop_at:
                break
            body = (
                f"sessionId={prefix}{lane_id}-{session}&serviceCode=%2A384%2A12%23"
                f"&phoneNumber=%2B223{PHONE_BASE + index}&networkCode=99999&text={texts[step]}"
            ).encode()
            request = (
                f"POST /ussd HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            if step == len(STEP_TEXTS) - 1:
                totals["finals_sent"] += 1
            sent = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
                writer.write(request)
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                status = int(head[9:12])
                headers = head.decode("latin-1").lower()
                length = int(re.search(r"content-length: *(\d+)", headers)[1])
                answer = await asyncio.wait_for(reader.readexactly(length), 10)
                done = time.perf_counter()
                if "connection: close" in headers:
                    writer.close()
                    writer = None
            except (
                OSError,
                TimeoutError,
                asyncio.IncompleteReadError,
                TypeError,
                ValueError,
            ) as exc:
                totals["socket_errors"] += 1
                if len(samples) < 5:
                    samples.append(f"step {step + 1}: {type(exc).__name__}: {exc}")
                if writer is not None:
                    writer.close()
                reader = writer = None
                step = len(STEP_TEXTS)
                due += interval
                continue
            if due >= measured_from:  # the ramp is not measured
                totals["requests"] += 1
                latencies.append(done - sent)
                sched_latencies.append(done - due)
            if status == 200 and answer == wanted[step]:
                totals["ok_steps"] += 1
                step += 1
                if step == len(STEP_TEXTS):
                    totals["completed"] += 1
            else:
                totals["errors"] += 1
                if len(samples) < 5:
                    samples.append(f"step {step + 1}: HTTP {status}: {answer[:120]!r}")
                step = len(STEP_TEXTS)
            due += interval
        if writer is not None:
            writer.close()

    await asyncio.gather(*(lane(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - measured_from
    phones.next = max(phones.next, max_index + 1)
    result = {
        "requests": totals["requests"],
        "duration_us": int(elapsed * 1e6),
        "latency_us": percentiles(latencies, 1e6),
        "sched_latency_ms": percentiles(sched_latencies, 1e3),
        "socket_errors": {"client": totals["socket_errors"]},
        "samples": samples,
        "max_index": max_index,
        "steps_per_s": totals["requests"] / elapsed,
        "concurrency": concurrency,
        "rate": rate,
        "label": label,
        "client": "python",
    }
    for key in ("ok_steps", "errors", "completed", "finals_sent", "started", "exhausted"):
        result[key] = totals[key]
    result["all_errors"] = result["errors"] + totals["socket_errors"] + totals["exhausted"]
    return result


def measure(server: Server, target: Target, args, phones, screens, rate: float = 0.0) -> dict:
    """One measurement; repeated (up to --retries times) when other processes took CPU."""
    kind = "paced" if rate else "max"
    label = f"{target.server}-{target.app}-{kind}"
    concurrency = args.paced_concurrency if rate else args.concurrency
    dbname = urllib.parse.urlparse(libpq_url(args.database_url)).path.lstrip("/")

    def run(label: str, seconds: float) -> dict:
        if rate:
            return run_paced(server, phones, screens, label, seconds, concurrency, rate)
        return run_wrk(server, phones, screens, label, seconds, concurrency)

    if args.warmup > 0:
        run(label + "-warmup", args.warmup)
    attempts = []
    for attempt in range(args.retries + 1):
        before = settled_counts(args) if target.app == "app" else None
        idle_busy = wait_quiet(args.wait_quiet, args.noise) if args.wait_quiet > 0 else None
        cpu_before = cpu_sample(server.pgid, dbname)
        result = run(label, args.duration)
        result["cpu"] = cpu_split(cpu_before, cpu_sample(server.pgid, dbname))
        result.update(busy_before=idle_busy, attempt=attempt + 1)
        result.update(server=target.server, app=target.app, kind=kind)
        if target.app == "app":
            result["verify"] = verify(before, settled_counts(args), result)
        lat = result["latency_us"]
        log(
            f"  {label}: {result['steps_per_s']:,.0f} steps/s, p50 {lat['p50'] / 1000:.1f} ms,"
            f" p99 {lat['p99'] / 1000:.1f} ms, {result['completed']} sessions completed,"
            f" errors {result['all_errors']}, other CPU {result['cpu']['other']:.2f} cores"
            + (f"; {result['verify']['text']}" if "verify" in result else "")
        )
        for sample in result["samples"]:
            log(f"    error sample: {sample!r}")
        attempts.append(result)
        if result["cpu"]["other"] <= args.noise:
            break
        if attempt < args.retries:
            log(f"  other processes took {result['cpu']['other']:.2f} cores: measuring again")
    best = min(attempts, key=lambda r: r["cpu"]["other"])  # the least disturbed attempt
    best["attempts"] = len(attempts)
    best["discarded_problems"] = [
        f"{r['label']} attempt {r['attempt']}: {r['all_errors']} errors"
        + ("" if r.get("verify", {"ok": True})["ok"] else f", {r['verify']['problems']}")
        for r in attempts
        if r is not best and (r["all_errors"] or not r.get("verify", {"ok": True})["ok"])
    ]
    if len(attempts) > 1:
        log(f"  kept attempt {best['attempt']} of {len(attempts)} (least CPU taken by others)")
    return best


# -- profiles -----------------------------------------------------------------------------------


def py_spy_run(server: Server, target: Target, args, phones, screens, stamp: str) -> None:
    """A max-load run (not in the table) while py-spy samples the GIL holder in each worker."""
    py_spy = VENV_BIN / "py-spy"
    if not py_spy.exists():
        log("py-spy not installed in the venv (pip install py-spy): no server profile")
        return
    workers = [pid for pid, ppid in group_processes(server.pgid) if ppid == server.pgid]
    seconds = max(2, int(args.duration) - 1)
    outputs = [RESULTS / f"{stamp}-py-spy-{target.server}-{pid}.txt" for pid in workers]
    spy_command = [str(py_spy), "record", "-d", str(seconds), "-r", "200", "--gil"]
    spy_command += ["--nonblocking", "-f", "raw"]
    spies = [
        subprocess.Popen(
            [*spy_command, "-p", str(pid), "-o", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for pid, out in zip(workers, outputs, strict=True)
    ]
    log(f"py-spy on {target.server} workers {workers} for {seconds} s under max load")
    result = run_wrk(
        server, phones, screens, f"{target.server}-spy", args.duration, args.concurrency
    )
    for spy in spies:
        try:
            _, err = spy.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
            _, err = spy.communicate()
        if spy.returncode != 0:
            log(f"py-spy failed ({spy.returncode}): {err.strip()[-300:]}")
    log(f"  under py-spy: {result['steps_per_s']:,.0f} steps/s, errors {result['all_errors']}")
    print_py_spy([out for out in outputs if out.exists() and out.stat().st_size])


def print_py_spy(files: list[Path]) -> None:
    stacks: collections.Counter[str] = collections.Counter()
    for path in files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if stack:
                stacks[stack] += int(count)
    total = sum(stacks.values())
    if not total:
        return
    own = {"webhooks", "services", "models", "flows", "workers", "gateway", "cli"}
    by_line: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for stack, count in stacks.items():
        frames = stack.split(";")
        line = "(server and Flask, outside app code)"
        for frame in reversed(frames):
            found = re.search(r"\((.*?):\d+\)$", frame)
            path = found[1] if found else ""
            if path.split("/")[0] in own or path in ("app.py", "config.py"):
                line = frame
                break
        by_line[line] += count
        for name in {re.sub(r":\d+\)$", ")", frame) for frame in frames}:
            inclusive[name] += count
    print(f"\npy-spy --gil, {total} samples of the GIL holder ({', '.join(map(str, files))}):")
    print("  by innermost app line (what the time is spent for):")
    for name, count in by_line.most_common(22):
        print(f"    {count / total * 100:5.1f}%  {name}")
    print("  inclusive, top frames:")
    for name, count in inclusive.most_common(40):
        print(f"    {count / total * 100:5.1f}%  {name[:150]}")


def cprofile_run(app, phones, sessions: int, args) -> None:
    import cProfile
    import pstats

    client = app.test_client()
    for _ in range(3):
        index = phones.take(1)
        walk(client, f"cprofile-warm-{index}", index)
    if args.wait_quiet > 0:
        wait_quiet(args.wait_quiet, args.noise)
    first = phones.take(sessions)
    busy = process_time_total()
    started, wall = time.process_time(), time.perf_counter()
    for index in range(first, first + sessions):
        walk(client, f"timed-{index}", index)
    cpu, wall = time.process_time() - started, time.perf_counter() - wall
    others = max(0.0, (process_time_total() - busy - cpu) / wall)  # PostgreSQL included
    steps = sessions * len(STEP_TEXTS)
    print(
        f"\nin-process, no profiler: {wall / steps * 1000:.2f} ms/step wall,"
        f" {cpu / steps * 1000:.2f} ms/step CPU in Python (Flask test client included);"
        f" other processes, PostgreSQL included, used {others:.2f} cores meanwhile"
    )
    first = phones.take(sessions)
    profiler = cProfile.Profile()
    profiler.enable()
    for index in range(first, first + sessions):
        walk(client, f"cprofile-{index}", index)
    profiler.disable()
    path = RESULTS / "profile.pstats"
    profiler.dump_stats(path)
    print(f"cProfile of {sessions} sessions in-process ({path}; the profiler adds overhead):")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)


# -- report -------------------------------------------------------------------------------------


def git_state() -> str:
    def git(*command):
        done = subprocess.run(["git", *command], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "--untracked-files=no")
    return git("rev-parse", "--short", "HEAD") + (" (uncommitted changes)" if dirty else "")


def report(results: list[dict], args, header: str) -> int:
    print(f"\n{header}")
    head = (
        f"{'server':10} {'app':6} {'run':5} {'conc':>4} {'rate':>5} {'steps/s':>7} "
        f"{'p50ms':>6} {'p99ms':>6} {'p99s':>6} {'sess':>5} {'err':>4}  "
        f"{'cores: srv':>10} {'pg':>4} {'load':>4} {'other':>5}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        lat, cpu = r["latency_us"], r["cpu"]
        sched = f"{r['sched_latency_ms']['p99']:.1f}" if r["kind"] == "paced" else "-"
        rate = f"{r['rate']:.0f}" if r["rate"] else "max"
        print(
            f"{r['server']:10} {r['app']:6} {r['kind']:5} {r['concurrency']:4d} {rate:>5} "
            f"{r['steps_per_s']:7,.0f} {lat['p50'] / 1000:6.1f} {lat['p99'] / 1000:6.1f} "
            f"{sched:>6} {r['completed']:5d} {r['all_errors']:4d}  {cpu['server']:10.2f} "
            f"{cpu['postgres']:4.2f} {cpu['client']:4.2f} {cpu['other']:5.2f}"
        )
    print(
        "steps/s: USSD steps (HTTP requests) per second. p50/p99: max runs, wrk's latency from"
        "\nthe write of the request (not the connect); paced runs, the client's from the connect"
        "\n(or write); p99s: paced, from the scheduled send time. sess: sessions walked to END"
        "\nMerci. cores: average CPU cores used during the run by the server's processes,"
        "\nPostgreSQL, the load generator (wrk, or the paced client), and everything else."
    )
    print()
    best = None
    for server in args.servers:
        by = {(r["app"], r["kind"]): r for r in results if r["server"] == server}
        app, bare, paced = by.get(("app", "max")), by.get(("bare", "max")), by.get(("app", "paced"))
        commit = by.get(("commit", "max"))
        parts = [f"{server:10}"]
        if app and bare:
            ratio = app["steps_per_s"] / bare["steps_per_s"]
            verdict = "PASS" if ratio >= 0.6 else "FAIL"
            parts.append(f"app/bare throughput {ratio:.3f} (target >= 0.6: {verdict})")
        if commit and bare:
            parts.append(f"commit/bare {commit['steps_per_s'] / bare['steps_per_s']:.3f}")
        if app and commit:
            parts.append(f"app/commit {app['steps_per_s'] / commit['steps_per_s']:.3f}")
        if paced:
            p99 = paced["latency_us"]["p99"] / 1000
            verdict = ("PASS" if p99 < 25 else "FAIL") if paced["requests"] else "NO DATA"
            parts.append(
                f"p99 at half load {p99:.1f} ms (target < 25 ms: {verdict};"
                f" from schedule {paced['sched_latency_ms']['p99']:.1f} ms)"
            )
        print("  ".join(parts))
        if app and (best is None or app["steps_per_s"] > best["steps_per_s"]):
            best = app
    if best:
        print(
            f"\nhighest real-app throughput: {best['server']} ({best['steps_per_s']:,.0f} steps/s)"
        )
    busy = [r for r in results if r["cpu"]["other"] > args.noise]
    if busy:
        print(
            "\nWARNING: other processes used CPU during "
            + ", ".join(f"{r['label']} ({r['cpu']['other']:.2f} cores)" for r in busy)
            + ": those figures are low; rerun on a quiet machine to compare."
        )
    print("\nverification (database after each real-app run):")
    failed = False
    for r in results:
        if "verify" in r:
            v = r["verify"]
            print(f"  {r['server']:10} {r['kind']:5} {'OK ' if v['ok'] else 'BAD'} {v['text']}")
            for problem in v["problems"]:
                print(f"      !! {problem}")
            failed |= not v["ok"]
    discarded = [problem for r in results for problem in r["discarded_problems"]]
    for problem in discarded:
        print(f"  BAD (a discarded, disturbed attempt) {problem}")
    failed |= bool(discarded)
    errors = sum(r["all_errors"] for r in results)
    if not (errors or failed):
        print("\nno errors: every response was the expected screen, every answer is stored.")
        return 0
    print("\n" + "!" * 78)
    print(f"!!! THIS RUN HAD ERRORS: {errors} wrong answers, socket errors or exhausted pools;")
    print(f"!!! database verification {'FAILED' if failed else 'ok'}")
    for r in results:
        if r["all_errors"]:
            print(
                f"!!!   {r['label']}: {r['errors']} wrong answers, socket {r['socket_errors']},"
                f" pool exhausted: {bool(r['exhausted'])}"
            )
            for sample in r["samples"][:3]:
                print(f"!!!     {sample!r}")
    print("!" * 78)
    return 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_db = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--database-url", default=default_db)
    default_redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    parser.add_argument("--redis-url", default=default_redis)
    parser.add_argument(
        "--servers",
        default="granian,granian-t1,gunicorn",
        help="granian (its defaults), granian-tN (--blocking-threads N), gunicorn (sync)",
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3, help="seconds before each one")
    parser.add_argument(
        "--concurrency", type=int, default=32, help="concurrent sessions for max throughput"
    )
    parser.add_argument(
        "--paced-concurrency", type=int, default=32, help="concurrent sessions, paced run"
    )
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--granian-args", default="", help="extra granian options")
    parser.add_argument("--gunicorn-args", default="", help="extra gunicorn options")
    parser.add_argument(
        "--pool", type=int, default=60_000, help="workers (and CSComs) created, one per session"
    )
    parser.add_argument(
        "--profile", action="store_true", help="SQL per step, cProfile, py-spy under load"
    )
    parser.add_argument("--profile-sessions", type=int, default=200)
    parser.add_argument("--verbose", action="store_true", help="print each SQL statement")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=120,
        help="before each run, wait up to this many seconds for other processes to idle",
    )
    parser.add_argument(
        "--noise",
        type=float,
        default=0.15,
        help="cores used by other processes above which a run counts as disturbed",
    )
    parser.add_argument(
        "--retries", type=int, default=2, help="times a disturbed run is measured again"
    )
    parser.add_argument("--max-seconds", type=int, default=1800, help="hard limit for the run")
    args = parser.parse_args()
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if unknown := [name for name in args.servers if not SERVER_NAME.fullmatch(name)]:
        parser.error(f"unknown servers: {unknown}")
    return args


def main() -> int:
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install -y wrk")

    def too_long(*_):
        raise TimeoutError(f"the benchmark took more than --max-seconds={args.max_seconds}")

    signal.signal(signal.SIGALRM, too_long)
    signal.alarm(args.max_seconds)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    started = time.monotonic()

    prepare_database(args)
    app = in_process_app(args)
    screens = capture_screens(app, args)
    from bench.bare_app import SCREENS as bare_screens

    phones = Phones(limit=args.pool)
    per_step_sql = count_sql(app, phones)
    results = []
    for server_name in args.servers:
        for app_name in ("bare", "commit", "app"):
            target = Target(server_name, app_name)
            expected = screens if app_name == "app" else list(bare_screens)
            with serving(target, args, stamp) as server:
                result = measure(server, target, args, phones, expected)
                results.append(result)
                if app_name == "app":
                    half = result["steps_per_s"] / 2
                    results.append(measure(server, target, args, phones, expected, rate=half))
                    if args.profile:
                        py_spy_run(server, target, args, phones, expected, stamp)
    header = (
        f"USSD weekly check-in, {len(STEP_TEXTS)} steps per session; code {git_state()};"
        f"\n{args.workers} workers per server, {os.cpu_count()} CPUs shared with wrk and"
        f" PostgreSQL, {args.duration:g} s per run ({args.warmup:g} s warm-up),"
        f" {phones.next:,} of {args.pool:,} workers used, {time.monotonic() - started:.0f} s"
    )
    out = RESULTS / f"{stamp}-ussd.json"
    out.write_text(json.dumps({"args": vars(args), "results": results}, indent=2, default=str))
    print_sql(per_step_sql, args.verbose)
    status = report(results, args, header)
    print(f"\nraw results: {out}")
    if args.profile:
        cprofile_run(app, phones, args.profile_sessions, args)
    return status


if __name__ == "__main__":
    sys.exit(main())
