"""USSD throughput and latency benchmark: the real app against a bare Flask floor, per server.

    .venv/bin/python bench/ussd.py                  # everything, ~10 s per measurement
    .venv/bin/python bench/ussd.py --duration 5 --servers granian --profile

A benchmark, not a test: it prepares its own PostgreSQL database (DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/bench — never the test suite's `test`), serves the app
and bench/bare_app.py with granian and gunicorn (2 workers each), and drives whole weekly QI
check-ins through them with wrk + bench/ussd.lua (C, so the load generator steals little of
the two cores it shares with the servers). Per server and app it measures the maximum
throughput in USSD steps/s with many concurrent sessions, p50/p99 latency, and for the real
app the latency at half its own maximum rate (a paced run). After every real-app run it checks
in the database that each completed session left one completed check-in and all its answers.

Sessions are what the gateway sends: a fresh sessionId, steps strictly in order, `text`
cumulative joined by `*`, and each session on a fresh worker (one CSCom facility each), so
every session walks the whole check-in. Each response body must equal the expected screen;
any other answer is an error, and a run with errors ends with a loud banner and exit status 1.

No WEBHOOK_TOKEN is set for the app (the token check is one dict lookup; the bench removes
the variable from the servers' environment). Results (JSON and server logs) go to
bench/results/ (git-ignored). Needs `wrk` (apt-get install wrk) built with LuaJIT.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
RESULTS = BENCH / "results"
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

# The session every simulated worker walks: met=yes, 6 attendees, PDSA being tested, 40
# eligible, 38 served, no obstacle, no support needed, comment "ok", then confirm.
INPUTS = ["1", "6", "2", "40", "38", "1", "2", "ok", "1"]
STEP_TEXTS = ["*".join(INPUTS[:n]) for n in range(len(INPUTS) + 1)]  # "", "1", "1*6", ...
PHONE_BASE = 70_000_000  # +22370000000 + i: Orange Mali numbers, checked with normalise_phone
FLOW_FILE = REPO / "flows" / "weekly_qi.yaml"
SERVICE_CODE = "*384*12#"


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# -- database ------------------------------------------------------------------------------------


def libpq_url(url: str) -> str:
    """psycopg wants postgresql://; the app accepts that too (config turns it into +psycopg)."""
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


def prepare_database(args) -> None:
    url = libpq_url(args.database_url)
    dbname = urllib.parse.urlparse(url).path.lstrip("/")
    if dbname == "test":
        sys.exit("refusing to use the database `test`: the test suite owns it")
    log(f"preparing {url}: new schema, migrations, flow, {args.pool:,} facilities and workers")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    flask = [str(VENV_BIN / "flask"), "--app", "app"]
    env = app_env(args)
    for command in (["db", "upgrade"], ["flows", "publish", str(FLOW_FILE)]):
        done = subprocess.run(
            flask + command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            sys.exit(f"flask {' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    check_phones(args.pool + 1)
    now = datetime.now(UTC)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO facilities (id, code, name, kind, parent_id)"
            " VALUES (1, 'CSREF-BENCH', 'CSRef du banc d''essai', 'csref', NULL)"
        )
        # One CSCom per worker; the extra last one (index = pool) is the screen-capture worker.
        with cur.copy("COPY facilities (id, code, name, kind, parent_id) FROM STDIN") as copy:
            for i in range(args.pool + 1):
                copy.write_row((i + 2, f"CSCOM-B{i:07d}", f"CSCom banc {i}", "cscom", 1))
        with cur.copy(
            "COPY workers (id, name, phone, facility_id, role, language, active, opted_out,"
            " created_at) FROM STDIN"
        ) as copy:
            for i in range(args.pool + 1):
                copy.write_row(
                    (i + 1, f"Agent {i}", phone(i), i + 2, "qi_focal_point", "fr", True, False, now)
                )
        for table in ("facilities", "workers"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        conn.commit()
        cur.execute("ANALYZE")


def phone(index: int) -> str:
    return f"+223{PHONE_BASE + index}"


def check_phones(count: int) -> None:
    from models.phone import normalise_phone

    if PHONE_BASE + count > 79_999_999:
        sys.exit(f"--pool too large: {count} phones do not fit in +2237xxxxxxx")
    for index in {0, 1, count // 3, count // 2, count - 1}:
        number = phone(index)
        if normalise_phone(number) != number:
            sys.exit(f"{number} does not normalise to itself: pick another PHONE_BASE")


def db_counts(args) -> dict[str, int]:
    with psycopg.connect(libpq_url(args.database_url)) as conn:
        row = conn.execute(
            """
            SELECT
              (SELECT count(*) FROM checkins WHERE status = 'completed'),
              (SELECT count(*) FROM answers),
              (SELECT count(*) FROM sessions WHERE status = 'submitted'),
              (SELECT count(*) FROM sessions),
              (SELECT count(*) FROM checkins c WHERE c.status = 'completed'
                 AND (SELECT count(*) FROM answers a WHERE a.checkin_id = c.id) <> %s)
            """,
            (len(expected_answers()),),
        ).fetchone()
    keys = ("completed", "answers", "submitted", "sessions", "incomplete_answers")
    return dict(zip(keys, row, strict=True))


def settled_counts(args, timeout: float = 10.0) -> dict[str, int]:
    """Counts once in-flight requests have finished (two equal reads 0.5 s apart)."""
    deadline = time.monotonic() + timeout
    previous = db_counts(args)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        current = db_counts(args)
        if current == previous:
            return current
        previous = current
    return previous


def expected_answers() -> list[str]:
    """The questions the walk answers (attendees is asked because met = yes)."""
    return ["met", "attendees", "change_status", "denominator", "numerator", "obstacle",
            "support", "comment"]  # fmt: skip


# -- the real screens ----------------------------------------------------------------------------


def capture_screens(args) -> list[str]:
    """Walk one session in-process on the reserved worker: the bodies every session must get."""
    os.environ.update(app_env(args))
    from app import create_app

    app = create_app()
    client = app.test_client()
    bodies = []
    for text in STEP_TEXTS:
        response = client.post(
            "/ussd",
            data={
                "sessionId": "bench-capture",
                "serviceCode": SERVICE_CODE,
                "phoneNumber": phone(args.pool),
                "networkCode": "99999",
                "text": text,
            },
        )
        bodies.append(response.get_data(as_text=True))
        if response.status_code != 200 or response.mimetype != "text/plain":
            sys.exit(f"capture: step {text!r} answered {response.status} {bodies[-1]!r}")
    problems = [
        f"step {i + 1} {b!r}" for i, b in enumerate(bodies[:-1]) if not b.startswith("CON ")
    ]
    if not bodies[-1].startswith("END Merci"):
        problems.append(f"last step {bodies[-1]!r}")
    if problems:
        sys.exit("capture: the walk does not go through the check-in: " + "; ".join(problems))
    from bench.bare_app import SCREENS

    mismatched = [
        i + 1 for i, (a, b) in enumerate(zip(bodies, SCREENS, strict=True)) if len(a) != len(b)
    ]
    if mismatched:
        log(
            f"WARNING: bare_app.SCREENS differ in length from the real screens at steps {mismatched}"
        )
    return bodies


# -- servers ------------------------------------------------------------------------------------


@dataclass
class Target:
    server: str
    app: str  # "app" or "bare"


def server_command(target: Target, port: int, workers: int) -> list[str]:
    if target.server == "granian":
        spec = ["--factory", "app:create_app"] if target.app == "app" else ["bench.bare_app:app"]
        return [str(VENV_BIN / "granian"), "--interface", "wsgi", "--workers", str(workers),
                "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
                "--log-level", "warning", "--working-dir", str(REPO), *spec]  # fmt: skip
    spec = "app:create_app()" if target.app == "app" else "bench.bare_app:app"
    return [str(VENV_BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
            "--log-level", "warning", "--chdir", str(REPO), spec]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(target: Target, args, stamp: str):
    port = free_port()
    command = server_command(target, port, args.workers)
    log_path = RESULTS / f"{stamp}-{target.server}-{target.app}.log"
    log(f"starting {target.server} / {target.app}: {' '.join(command)}")
    with open(log_path, "w") as out:
        process = subprocess.Popen(
            command, cwd=REPO, env=app_env(args), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_ready(port, process, log_path)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def wait_ready(port: int, process: subprocess.Popen, log_path: Path, timeout: float = 30) -> None:
    """Ready when a step answers CON/END (the real app: unknown number, no rows written)."""
    data = urllib.parse.urlencode(
        {
            "sessionId": "ready",
            "serviceCode": SERVICE_CODE,
            "phoneNumber": "+22379999999",
            "networkCode": "99999",
            "text": "",
        }  # fmt: skip
    ).encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited ({process.returncode}); see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ussd", data, timeout=2) as r:
                if r.read()[:4] in (b"CON ", b"END "):
                    time.sleep(0.5)  # let the other worker finish booting too
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    sys.exit(f"the server did not answer within {timeout} s; see {log_path}")


def stop(process: subprocess.Popen) -> None:
    """Stop the server we started: its own process group (start_new_session), nothing else."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    # granian/gunicorn workers leave with the master; make sure none is left in the group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


# -- load -----------------------------------------------------------------------------------------


def lua_string(text: str) -> str:
    return '"' + "".join(f"\\{b}" for b in text.encode()) + '"'


@dataclass
class Phones:
    """Hands out disjoint ranges of the worker pool, so no worker ever answers twice."""

    limit: int
    next: int = 0
    runs: list = field(default_factory=list)


def run_wrk(url: str, args, phones: Phones, screens: list[str], label: str, duration: float,
            concurrency: int, rate: float = 0.0) -> dict:  # fmt: skip
    config = RESULTS / "wrk-config.lua"
    texts = [urllib.parse.quote(t, safe="") for t in STEP_TEXTS]
    prefix = f"ATUid_{label}_{int(time.time())}_"
    config.write_text(
        "return {\n"
        f"  path = '/ussd', threads = {concurrency}, offset = {phones.next},\n"
        f"  limit = {phones.limit}, phone_base = {PHONE_BASE}, prefix = '{prefix}',\n"
        f"  rate = {rate:.3f},\n"
        f"  texts = {{{', '.join(lua_string(t) for t in texts)}}},\n"
        f"  screens = {{{', '.join(lua_string(s) for s in screens)}}},\n"
        "}\n"
    )
    command = ["wrk", "-t", str(concurrency), "-c", str(concurrency), "-d", f"{duration:g}s",
               "--timeout", "10s", "-s", str(BENCH / "ussd.lua"), url]  # fmt: skip
    env = dict(os.environ, USSD_BENCH_CONFIG=str(config))
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=duration + 60)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if done.returncode != 0 or not lines:
        sys.exit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = json.loads(lines[-1][len("BENCH_JSON ") :])
    # The next run starts after every phone this one may have touched.
    phones.next = max(phones.next, result["max_index"] + 1)
    result["steps_per_s"] = result["requests"] / (result["duration_us"] / 1e6)
    result["concurrency"], result["rate"] = concurrency, rate
    socket_errors = sum(result["socket_errors"].values())
    result["all_errors"] = result["errors"] + socket_errors + 1000 * result["exhausted"]
    return result


def measure(url: str, target: Target, args, phones: Phones, screens: list[str],
            rate: float = 0.0) -> dict:  # fmt: skip
    kind = "paced" if rate else "max"
    label = f"{target.server}-{target.app}-{kind}"
    if not rate and args.warmup > 0:
        run_wrk(url, args, phones, screens, label + "-warmup", args.warmup, args.concurrency)
    before = settled_counts(args) if target.app == "app" else None
    concurrency = args.paced_concurrency if rate else args.concurrency
    result = run_wrk(url, args, phones, screens, label, args.duration, concurrency, rate)
    if target.app == "app":
        result["verify"] = verify(before, settled_counts(args), result)
    result.update(server=target.server, app=target.app, kind=kind)
    line = (
        f"  {label}: {result['steps_per_s']:,.0f} steps/s, p50 "
        f"{result['latency_us']['p50'] / 1000:.1f} ms, p99 {result['latency_us']['p99'] / 1000:.1f} ms,"
        f" {result['completed']} sessions completed, errors {result['all_errors']}"
    )
    log(line)
    for sample in result["samples"]:
        log(f"    error sample: {sample!r}")
    return result


def verify(before: dict, after: dict, result: dict) -> dict:
    """Every completed session left one completed check-in, its answers, a submitted session."""
    delta = {key: after[key] - before[key] for key in before}
    per = len(expected_answers())
    client_done, finals = result["completed"], result["finals_sent"]
    problems = []
    if not client_done <= delta["completed"] <= finals:
        problems.append(
            f"{delta['completed']} check-ins completed in the database, but the client saw"
            f" {client_done} sessions end and sent {finals} final steps"
        )
    if delta["answers"] != per * delta["completed"]:
        problems.append(f"{delta['answers']} answers stored for {delta['completed']} check-ins")
    if delta["submitted"] != delta["completed"]:
        problems.append(f"{delta['submitted']} sessions submitted, {delta['completed']} check-ins")
    if after["incomplete_answers"]:
        problems.append(f"{after['incomplete_answers']} completed check-ins without {per} answers")
    in_flight = delta["completed"] - client_done
    text = (
        f"DB: +{delta['completed']} completed check-ins, +{delta['answers']} answers"
        f" (= {per} x {delta['answers'] // per if per else 0}), +{delta['submitted']} submitted sessions;"
        f" client: {client_done} sessions ended with END Merci"
        + (f" (+{in_flight} whose final step was in flight when wrk stopped)" if in_flight else "")
    )
    return {"ok": not problems, "problems": problems, "text": text, "delta": delta}


# -- profile ------------------------------------------------------------------------------------


def profile(args, phones: Phones, sessions: int) -> None:
    """In-process: SQL statements per step and where the Python time goes (cProfile)."""
    import cProfile
    import pstats
    from collections import Counter

    import sqlalchemy as sa

    os.environ.update(app_env(args))
    from app import create_app
    from models import db

    app = create_app()
    client = app.test_client()
    per_step: list[list[str]] = [[] for _ in STEP_TEXTS]
    current = {"step": 0}

    with app.app_context():
        engine = db.engine

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        per_step[current["step"]].append(" ".join(statement.split())[:110])

    def walk(count: int) -> None:
        for _ in range(count):
            index = phones.next
            phones.next += 1
            if index >= phones.limit:
                sys.exit("profile: worker pool exhausted")
            for step, text in enumerate(STEP_TEXTS):
                current["step"] = step
                client.post("/ussd", data={
                    "sessionId": f"profile-{index}", "serviceCode": SERVICE_CODE,
                    "phoneNumber": phone(index), "networkCode": "99999", "text": text})  # fmt: skip

    walk(3)  # warm caches (flow parse, compiled SQL)
    for statements in per_step:
        statements.clear()
    walk(1)
    print("\nSQL statements per step (one warm session, in-process):")
    total = 0
    for step, statements in enumerate(per_step):
        total += len(statements)
        kinds = Counter(s.split()[0] for s in statements)
        print(f"  step {step + 1:2d} {STEP_TEXTS[step]!r:26} {len(statements):2d}  {dict(kinds)}")
        if args.verbose:
            for s in statements:
                print(f"         {s}")
    print(f"  total {total} statements per session, {total / len(STEP_TEXTS):.1f} per step")

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    walk(sessions)
    profiler.disable()
    elapsed = time.perf_counter() - started
    steps = sessions * len(STEP_TEXTS)
    print(f"\ncProfile: {sessions} sessions, {steps} steps in {elapsed:.2f} s in-process"
          f" ({elapsed / steps * 1000:.2f} ms/step with the profiler on)")  # fmt: skip
    path = RESULTS / "profile.pstats"
    profiler.dump_stats(path)
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(25)
    print(f"(full profile: {path})")


# -- report -------------------------------------------------------------------------------------


def report(results: list[dict], args) -> int:
    print()
    print(f"USSD steps, {len(STEP_TEXTS)} per session; {args.workers} workers per server; "
          f"{os.cpu_count()} CPUs shared with wrk; {args.duration:g} s per run")  # fmt: skip
    header = f"{'server':9} {'app':5} {'run':6} {'conc':>4} {'rate':>7} {'steps/s':>8} " \
             f"{'p50 ms':>7} {'p99 ms':>7} {'p99s ms':>8} {'sessions':>8} {'errors':>6}"  # fmt: skip
    print(header)
    print("-" * len(header))
    for r in results:
        sched = f"{r['sched_latency_ms']['p99']:.1f}" if r["kind"] == "paced" else "-"
        rate = f"{r['rate']:.0f}" if r["rate"] else "max"
        print(
            f"{r['server']:9} {r['app']:5} {r['kind']:6} {r['concurrency']:4d} {rate:>7} "
            f"{r['steps_per_s']:8,.0f} {r['latency_us']['p50'] / 1000:7.2f} "
            f"{r['latency_us']['p99'] / 1000:7.2f} {sched:>8} {r['completed']:8d} {r['all_errors']:6d}"
        )
    print("p50/p99: wrk, from the moment the request is written; p99s: paced runs only, from the")
    print("scheduled send time (includes waiting behind a late answer on the same connection).")
    print()
    best = None
    failed = False
    for server in args.servers:
        by = {(r["app"], r["kind"]): r for r in results if r["server"] == server}
        app, bare, paced = by.get(("app", "max")), by.get(("bare", "max")), by.get(("app", "paced"))
        parts = [f"{server:9}"]
        if app and bare:
            ratio = app["steps_per_s"] / bare["steps_per_s"]
            parts.append(f"app/bare throughput {ratio:.2f} (target >= 0.6: "
                         f"{'PASS' if ratio >= 0.6 else 'FAIL'})")  # fmt: skip
        if paced:
            p99 = paced["latency_us"]["p99"] / 1000
            parts.append(f"p99 at half load {p99:.1f} ms (target < 25 ms: "
                         f"{'PASS' if p99 < 25 else 'FAIL'}; from schedule "
                         f"{paced['sched_latency_ms']['p99']:.1f} ms)")  # fmt: skip
        print("  ".join(parts))
        if app and (best is None or app["steps_per_s"] > best["steps_per_s"]):
            best = app
    if best:
        print(
            f"\nhighest real-app throughput: {best['server']} ({best['steps_per_s']:,.0f} steps/s)"
        )
    print("\nverification (database after each real-app run):")
    for r in results:
        if "verify" in r:
            v = r["verify"]
            print(f"  {r['server']:9} {r['kind']:6} {'OK ' if v['ok'] else 'BAD'} {v['text']}")
            for problem in v["problems"]:
                print(f"      !! {problem}")
            failed |= not v["ok"]
    errors = sum(r["all_errors"] for r in results)
    if errors or failed:
        print("\n" + "!" * 78)
        print(f"!!! THIS RUN HAD ERRORS: {errors} wrong/failed responses or socket errors, "
              f"verification {'FAILED' if failed else 'ok'} !!!")  # fmt: skip
        for r in results:
            if r["all_errors"]:
                print(f"!!!   {r['server']} {r['app']} {r['kind']}: {r['errors']} wrong answers, "
                      f"socket {r['socket_errors']}, pool exhausted: {bool(r['exhausted'])}")  # fmt: skip
                for sample in r["samples"][:3]:
                    print(f"!!!     {sample!r}")
        print("!" * 78)
        return 1
    print("\nno errors: every response was the expected screen.")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench"))  # fmt: skip
    parser.add_argument("--redis-url", default=os.environ.get(
        "REDIS_URL", "redis://127.0.0.1:6379/14"))  # fmt: skip
    parser.add_argument("--servers", default="granian,gunicorn",
                        help="comma-separated: granian, gunicorn")  # fmt: skip
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3, help="seconds before each max run")
    parser.add_argument("--concurrency", type=int, default=32,
                        help="concurrent sessions (= wrk connections) for max throughput")  # fmt: skip
    parser.add_argument("--paced-concurrency", type=int, default=32,
                        help="connections for the paced half-load run")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--pool", type=int, default=60_000,
                        help="facilities/workers created; each session uses a fresh one")  # fmt: skip
    parser.add_argument("--profile", action="store_true",
                        help="also count SQL per step and cProfile the app in-process")  # fmt: skip
    parser.add_argument("--profile-sessions", type=int, default=300)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--max-seconds", type=int, default=1800, help="hard limit for the run")
    args = parser.parse_args()
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if unknown := set(args.servers) - {"granian", "gunicorn"}:
        parser.error(f"unknown servers: {unknown}")
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install -y wrk")

    def too_long(*_):
        raise TimeoutError(f"the benchmark exceeded --max-seconds={args.max_seconds}")

    signal.signal(signal.SIGALRM, too_long)
    signal.alarm(args.max_seconds)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")

    started = time.monotonic()
    prepare_database(args)
    screens = capture_screens(args)
    log(f"screens captured; step 1 {screens[0]!r}, last {screens[-1]!r}")
    from bench.bare_app import SCREENS as bare_screens

    phones = Phones(limit=args.pool)
    results = []
    for server in args.servers:
        for app in ("bare", "app"):
            target = Target(server, app)
            expected = screens if app == "app" else list(bare_screens)
            with serving(target, args, stamp) as url:
                result = measure(url, target, args, phones, expected)
                results.append(result)
                if app == "app":
                    half = result["steps_per_s"] / 2
                    results.append(measure(url, target, args, phones, expected, rate=half))
    log(f"load runs done in {time.monotonic() - started:.0f} s; {phones.next:,} of "
        f"{phones.limit:,} workers used")  # fmt: skip
    out = RESULTS / f"{stamp}-ussd.json"
    out.write_text(json.dumps({"args": vars(args), "results": results}, indent=2))
    status = report(results, args)
    print(f"\nraw results: {out}")
    if args.profile:
        profile(args, phones, args.profile_sessions)
    return status


if __name__ == "__main__":
    sys.exit(main())
