"""SMS fan-out benchmark: 100,000 outbox messages through real RQ workers to the gateway stand-in.

    .venv/bin/python bench/fanout.py                        # 100,000 messages, 2 workers
    .venv/bin/python bench/fanout.py --count 20000 --workers 2 --py-spy

A benchmark, not a test. One run:

1. prepares its own PostgreSQL database (default postgresql://postgres@127.0.0.1:5432/bench_fanout,
   created when missing; its schema is dropped and migrated with `flask --app app db upgrade`),
   flushes its own Redis database (default db 14) and starts the stand-in
   (`python -m dev.standin --port P`, no auto-deliver) on a free port as AT_API_URL;
2. the floor (skip with --no-floor): `--workers` processes send the same requests (the reminder
   in batches of AT_BATCH_SIZE, each personal text alone) through the same gateway adapter, in
   the same waves, with no database and no RQ; its time over the service's is the ratio printed,
   what the outbox, RQ and PostgreSQL cost on top of the SDK on this machine, in this run. The
   stand-in is reset afterwards;
3. queues `--count` messages: half one identical weekly reminder (GSM-7, one segment) to
   count/2 distinct numbers, half a personalised text (name, facility) to the same numbers.
   Rows go in with one COPY (encoding and segments from flows.smstext.sms_cost, once per
   distinct text; kind "reminder", not_before = now, QUIET_HOURS="" for every process), then
   `workers.outbox.dispatch(redis)` moves them to `queued` and enqueues the RQ jobs;
4. starts `--workers` real `rq worker -w workers.worker.AppWorker --burst` processes and waits
   until every row is `sent` and the workers have exited (killed after `--timeout` s);
5. verifies that the stand-in holds exactly `count` messages, that no number got the same text
   twice, that the stand-in's (number, text, messageId) are exactly the outbox's (phone, text,
   gateway_id) of rows that are all `sent`, that every request was answered 200 and that RQ has
   no failed job;
6. prints the machine, total time (clock starts before the insert), messages/s, per-phase times,
   CPU seconds per process (workers, stand-in, PostgreSQL, anything else), peak RSS per worker,
   requests made, and PASS/FAIL against `--target` (60 s).

"Total" is the moment the stand-in accepted the last message (its own timestamp); the time the
last row was recorded `sent` in PostgreSQL and the time the workers exited are printed too.
Other processes on the machine skew the figures: the run waits up to `--wait-quiet` s for the
machine to idle first, and the CPU table shows what "other" processes used during the run.

`--py-spy` attaches py-spy (`--gil`: samples of the thread holding the GIL, i.e. Python CPU) to
every worker and to the stand-in and prints the hottest functions; profiling slows the run, so
its verdict is not a measurement. `--cprofile` instead runs the jobs of one worker in-process
under cProfile against the same stand-in (main thread only: the request threads are not in
it). To size a change without editing the app, `--worker-class` runs another worker class
(on PYTHONPATH) and `--setup-sql` runs SQL after the migrations (an index change, say).
`--no-analyze` leaves the outbox without planner statistics. Logs, the JSON result and
profiles go to bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import platform
import resource
import shlex
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
RESULTS = REPO / "bench" / "results"
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

PHONE_BASE = 70_000_000  # number i is +223 (70000000 + i): Orange Mali's 7x range
REMINDER = (
    "Rappel: le point QI de la semaine est attendu avant vendredi 12h. "
    "Composez *384*12# pour le remplir. Merci!"
)
FIRST_NAMES = ["Awa", "Moussa", "Fatoumata", "Oumar", "Mariam", "Seydou", "Kadiatou", "Ibrahim"]
FAMILY_NAMES = ["Traoré", "Diarra", "Coulibaly", "Keita", "Koné", "Sidibé", "Sangaré", "Touré"]
PLACES = ["Ségou", "Kati", "Sikasso", "Mopti", "Kayes", "Koutiala", "Bougouni", "San"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
UNFINISHED = (
    "SELECT (SELECT count(*) FROM outbox WHERE status = 'pending')"
    " + (SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending'))"
)


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def phone(index: int) -> str:
    return f"+223{PHONE_BASE + index}"


def personal_text(index: int) -> str:
    """A different text per number: the person's name, facility and figures of their own."""
    name = f"{FIRST_NAMES[index % 8]} {FAMILY_NAMES[index // 8 % 8]}"
    facility = f"CSCom {PLACES[index // 64 % 8]} {index:05d}"
    return (
        f"Bonjour {name}, {facility}: {index % 37 + 3} enfants vus cette semaine, "
        f"objectif {index % 11 + 40}. Répondez OK pour confirmer."
    )


# -- processes -----------------------------------------------------------------------------------


def libpq_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def app_env(args, api_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        AT_API_URL=api_url,
        AT_API_KEY="bench-fanout-key",
        AT_USERNAME="sandbox",
        QUIET_HOURS="",  # nothing waits for the morning
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("AT_SENDER_ID", None)
    if args.batch_size:
        env["AT_BATCH_SIZE"] = str(args.batch_size)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url: str, data: bytes | None = None, timeout: float = 120) -> dict:
    with urllib.request.urlopen(url, data, timeout=timeout) as answer:
        return json.loads(answer.read())


def stop_group(process: subprocess.Popen) -> None:
    """Stop a process we started (its own process group: nothing else)."""
    if process.returncode is None and process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # a granian worker left behind by its master


def group_pids(pgid: int) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{entry.name}/stat").read_text()
                if int(stat[stat.rindex(")") + 2 :].split()[2]) == pgid:
                    found.append(int(entry.name))
    return found


def start_standin(args, port: int, stamp: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "dev.standin", "--port", str(port)]
    log(f"starting the stand-in: {shlex.join(command)}")
    with open(RESULTS / f"{stamp}-fanout-standin.log", "w") as out:
        process = subprocess.Popen(
            command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the stand-in exited ({process.returncode}); see its log in {RESULTS}")
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            http_json(f"http://127.0.0.1:{port}/_standin/reset", b"", timeout=2)
            return process
        time.sleep(0.2)
    stop_group(process)
    sys.exit("the stand-in did not answer within 30 s")


# -- CPU and memory -------------------------------------------------------------------------------


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / CLOCK_TICKS


def proc_cpu(pid: int) -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return 0.0


def softirq() -> float:
    """CPU seconds the kernel spent in interrupts and softirqs (loopback TCP lands here)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (values[5] + values[6]) / CLOCK_TICKS


class ProcessCpu:
    """CPU seconds per process since `mark`, including processes that exited in between.

    A process's CPU vanishes from /proc when it exits (a PostgreSQL backend closes with the
    worker that used it), so every sample keeps the last value seen per pid.
    """

    def __init__(self) -> None:
        self.base: dict[int, float] = {}
        self.seen: dict[int, tuple[str, int, float]] = {}  # pid: (comm, pgid, seconds)

    def sample(self) -> None:
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    stat = Path(f"/proc/{entry.name}/stat").read_text()
                    comm = stat[stat.index("(") + 1 : stat.rindex(")")]
                    fields = stat[stat.rindex(")") + 2 :].split()
                    seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
                    self.seen[int(entry.name)] = (comm, int(fields[2]), seconds)

    def mark(self) -> None:
        self.sample()
        self.base = {pid: seconds for pid, (_, _, seconds) in self.seen.items()}

    def used(self) -> dict[int, tuple[str, int, float]]:
        self.sample()
        return {
            pid: (comm, pgid, seconds - self.base.get(pid, 0.0))
            for pid, (comm, pgid, seconds) in self.seen.items()
            if seconds - self.base.get(pid, 0.0) > 0
        }

    def postgres(self) -> float:
        return sum(s for comm, _, s in self.used().values() if comm == "postgres")


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def vm_kb(pid: int, key: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def wait_quiet(limit: float, threshold: float = 0.15) -> float:
    """Wait up to `limit` s until the machine uses less than `threshold` cores; returns its use."""
    deadline = time.monotonic() + limit
    said = False
    while True:
        before = machine_busy()
        time.sleep(1.0)
        busy = machine_busy() - before
        if busy < threshold or time.monotonic() >= deadline:
            if said or busy >= threshold:
                verdict = "quiet" if busy < threshold else "gave up waiting"
                log(f"machine uses {busy:.2f} cores before the run ({verdict})")
            return busy
        if not said:
            log(f"other processes use {busy:.2f} cores; waiting up to {limit:g} s for quiet")
            said = True


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    started: float
    ended: float | None = None
    exit_code: int | None = None
    peak_rss_kb: int = 0  # VmHWM polled while it runs
    maxrss_kb: int = 0  # ru_maxrss from wait4: the kernel's exact peak
    cpu_user: float = 0.0
    cpu_system: float = 0.0
    last_cpu: float = 0.0

    def cpu(self) -> float:
        """CPU seconds from wait4, or the last /proc sample when Popen reaped it (timeout)."""
        return (self.cpu_user + self.cpu_system) or self.last_cpu

    def peak_mb(self) -> float:
        """ru_maxrss from wait4, or the polled VmHWM when Popen reaped it (timeout)."""
        return (self.maxrss_kb or self.peak_rss_kb) / 1024

    def poll(self) -> bool:
        """Sample memory, reap when it has exited; True while it runs."""
        if self.exit_code is not None:
            return False
        self.peak_rss_kb = max(self.peak_rss_kb, vm_kb(self.process.pid, "VmHWM"))
        self.last_cpu = max(self.last_cpu, proc_cpu(self.process.pid))
        try:
            pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
        except ChildProcessError:  # already reaped by Popen (stopped at the timeout)
            self.ended, self.exit_code = time.monotonic(), self.process.returncode
            return False
        if pid == 0:
            return True
        self.ended = time.monotonic()
        self.exit_code = os.waitstatus_to_exitcode(status)
        self.process.returncode = self.exit_code  # reaped here: tell Popen
        self.maxrss_kb = usage.ru_maxrss
        self.cpu_user, self.cpu_system = usage.ru_utime, usage.ru_stime
        return False


# -- the run -------------------------------------------------------------------------------------


def prepare_database(args, env: dict[str, str]) -> None:
    url = libpq_url(args.database_url)
    parsed = urllib.parse.urlparse(url)
    name = parsed.path.lstrip("/")
    if name in ("test", "bench", "postgres", ""):
        sys.exit(f"refusing to use the database {name!r}: use a database of its own")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    done = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "app", "db", "upgrade"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if done.returncode != 0:
        sys.exit(f"flask db upgrade failed:\n{done.stdout}{done.stderr}")
    if args.setup_sql:
        log(f"after the migrations: {args.setup_sql}")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(args.setup_sql)


def insert_rows(args, count: int) -> dict:
    """COPY `count` pending rows: half one reminder, half personal texts, to count/2 numbers."""
    from flows.smstext import sms_cost

    people = count // 2
    now = datetime.now(UTC)
    reminder = sms_cost(REMINDER)
    encodings: collections.Counter[tuple[str, int]] = collections.Counter()
    columns = (
        "phone, text, encoding, segments, language, kind, urgent, status, attempts,"
        " not_before, created_at, updated_at"
    )
    fixed = ("fr", "reminder", False, "pending", 0, now, now, now)  # language .. updated_at
    with psycopg.connect(libpq_url(args.database_url)) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY outbox ({columns}) FROM STDIN") as copy:
            for i in range(count - people):  # the reminder (count odd: one more of it)
                encodings[reminder.encoding, reminder.segments] += 1
                copy.write_row((phone(i), REMINDER, reminder.encoding, reminder.segments, *fixed))
            for i in range(people):
                text = personal_text(i)
                cost = sms_cost(text)  # every personal text is distinct: once per text
                encodings[cost.encoding, cost.segments] += 1
                copy.write_row((phone(i), text, cost.encoding, cost.segments, *fixed))
        conn.commit()
        if not args.no_analyze:
            conn.execute("ANALYZE outbox")
            conn.commit()
    return {f"{enc}/{seg} segment(s)": n for (enc, seg), n in sorted(encodings.items())}


def db_status_counts(conn) -> dict[str, int]:
    return dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())


def spawn_worker(args, env: dict[str, str], index: int, stamp: str) -> WorkerProcess:
    command = [str(VENV_BIN / "rq"), "worker", "-w", args.worker_class]
    command += ["--url", args.redis_url, "--burst"]
    if index == 0:
        log(f"starting {args.workers} worker(s): {shlex.join(command)}")
    with open(RESULTS / f"{stamp}-fanout-worker{index}.log", "w") as out:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    return WorkerProcess(process, time.monotonic())


def start_py_spy(pid: int, out: Path, subprocesses: bool = False) -> subprocess.Popen:
    command = [str(VENV_BIN / "py-spy"), "record", "--pid", str(pid), "--rate", "200", "--gil"]
    command += ["--format", "raw", "--output", str(out)]
    if subprocesses:
        command.append("--subprocesses")
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def summarise_py_spy(path: Path, top: int = 24) -> str:
    """Inclusive and self sample shares per function, and self share per package."""
    if not path.exists():
        return f"  (no profile written to {path.name})"
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    packages: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        n = int(samples)
        total += n
        frames = [_short_frame(f) for f in stack.split(";")]
        for name in set(frames):
            inclusive[name] += n
        own[frames[-1]] += n
        packages[_package(frames[-1])] += n
    if not total:
        return "  (no samples)"
    lines = [f"  {total} samples; inclusive%  self%  function"]
    for name, n in inclusive.most_common(top):
        lines.append(f"  {100 * n / total:9.1f}  {100 * own[name] / total:5.1f}  {name}")
    lines.append("  top self:")
    for name, n in own.most_common(12):
        lines.append(f"  {'':9}  {100 * n / total:5.1f}  {name}")
    lines.append(
        "  self by package: "
        + ", ".join(f"{name} {100 * n / total:.0f}%" for name, n in packages.most_common(14))
    )
    return "\n".join(lines)


def _package(frame: str) -> str:
    """'send (requests/sessions.py)' -> 'requests'; stdlib modules by file name."""
    where = frame.rpartition(" (")[2].rstrip(")")
    head = where.split("/", 1)[0]
    return head.removesuffix(".py") if head else where


def _short_frame(frame: str) -> str:
    """'send (gateway/africastalking.py:162)' -> 'send (gateway/africastalking.py)'."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3.11/", str(REPO) + "/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"


# -- the floor: the same sends with no database and no queue --------------------------------------


def floor_requests(count: int, batch_size: int) -> list[tuple[str, list[str]]]:
    """The gateway requests the outbox makes for the bench's rows: (text, numbers)."""
    people = count // 2
    reminders = [phone(i) for i in range(count - people)]
    requests = [
        (REMINDER, reminders[start : start + batch_size])
        for start in range(0, len(reminders), batch_size)
    ]
    return requests + [(personal_text(i), [phone(i)]) for i in range(people)]


def floor_part(args) -> int:
    """One floor process (`--floor-part I`): its share of the requests, through the same
    gateway adapter (official SDK, kept-alive connections, thread pool) in the same waves as
    the outbox worker, with nothing else: no rows to claim or record, no RQ."""
    from gateway.africastalking import AfricasTalkingGateway

    gateway = AfricasTalkingGateway("sandbox", "bench-fanout-key", api_url=os.environ["AT_API_URL"])
    mine = floor_requests(args.count, _batch_size())[args.floor_part :: args.workers]
    failed = 0
    wave = gateway.concurrency  # the outbox's waves: as many requests as the pool sends at once
    for start in range(0, len(mine), wave):
        for outcome in gateway.send_all(mine[start : start + wave]):
            failed += isinstance(outcome, Exception) or any(r.outcome != "sent" for r in outcome)
    return 1 if failed else 0


def floor_run(args, env: dict[str, str], api_url: str) -> float:
    """Seconds for `--workers` floor processes to send every message; the stand-in is reset."""
    command = [sys.executable, str(Path(__file__).resolve()), "--count", str(args.count)]
    command += ["--workers", str(args.workers), "--floor-part"]
    log(
        f"floor: {args.workers} process(es) sending through the adapter alone: {shlex.join(command)} I"
    )
    started = time.monotonic()
    parts = [
        subprocess.Popen([*command, str(i)], cwd=REPO, env=env, start_new_session=True)
        for i in range(args.workers)
    ]
    codes = [part.wait(timeout=args.timeout) for part in parts]
    seconds = time.monotonic() - started
    accepted = len(http_json(f"{api_url}/_standin/messages", timeout=300)["messages"])
    http_json(f"{api_url}/_standin/reset", b"")
    if codes != [0] * args.workers or accepted != args.count:
        sys.exit(f"floor run failed: exit codes {codes}, stand-in accepted {accepted:,}")
    log(f"floor: {accepted:,} messages in {seconds:.2f} s")
    return seconds


def run(args) -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    port = free_port()
    api_url = f"http://127.0.0.1:{port}"
    env = app_env(args, api_url)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "AT_API_URL")})
    os.environ.update(AT_API_KEY=env["AT_API_KEY"], AT_USERNAME="sandbox", QUIET_HOURS="")
    if args.batch_size:
        os.environ["AT_BATCH_SIZE"] = str(args.batch_size)

    log(f"preparing {libpq_url(args.database_url)}: new schema, migrations")
    prepare_database(args, env)

    from redis import Redis

    redis = Redis.from_url(args.redis_url)
    db_index = redis.connection_pool.connection_kwargs.get("db", 0)
    if db_index == 0:
        sys.exit("refusing to flush Redis db 0: give --redis-url a database of its own")
    redis.flushdb()
    log(f"flushed Redis db {db_index}")

    standin = start_standin(args, port, stamp)
    workers: list[WorkerProcess] = []
    spies: list[tuple[str, subprocess.Popen, Path]] = []
    try:
        if args.cprofile:
            return cprofile_run(args, api_url, stamp)
        floor = None if args.no_floor else floor_run(args, env, api_url)
        return measure(args, api_url, env, stamp, standin, workers, spies, redis, floor)
    finally:
        for worker in workers:
            stop_group(worker.process)
        for _, spy, _ in spies:
            with contextlib.suppress(subprocess.TimeoutExpired):
                spy.wait(timeout=20)  # it writes its file when the target exits
            stop_group(spy)
        stop_group(standin)


def measure(args, api_url, env, stamp, standin, workers, spies, redis, floor) -> int:
    from rq import Queue
    from rq.registry import FailedJobRegistry

    from app import create_app
    from workers.outbox import dispatch

    app = create_app()
    settings = app.config["SETTINGS"]
    assert settings.at_api_url == api_url, "the in-process app must use the stand-in"

    if args.wait_quiet > 0:
        wait_quiet(args.wait_quiet)

    count = args.count
    pg_cpu = ProcessCpu()
    pg_cpu.mark()
    cpu0 = {"busy": machine_busy(), "self": self_cpu()}
    wall0 = datetime.now(UTC)
    t0 = time.monotonic()
    log(f"queueing {count:,} messages (clock started)")
    encodings = insert_rows(args, count)
    t_insert = time.monotonic()
    with app.app_context():
        queued = dispatch(redis)
    t_dispatch = time.monotonic()
    jobs = Queue("default", connection=redis).count
    log(
        f"inserted in {t_insert - t0:.2f} s, dispatched {queued:,} in {jobs} jobs in "
        f"{t_dispatch - t_insert:.2f} s"
    )
    cpu1 = {"busy": machine_busy(), "postgres": pg_cpu.postgres(), "self": self_cpu()}
    cpu1["softirq"] = softirq()
    pg_cpu.mark()
    standin_pids = group_pids(standin.pid)
    standin_cpu0 = sum(proc_cpu(p) for p in standin_pids)

    for index in range(args.workers):
        workers.append(spawn_worker(args, env, index, stamp))
    if args.py_spy:
        for index, worker in enumerate(workers):
            out = RESULTS / f"{stamp}-fanout-py-spy-worker{index}.txt"
            spies.append((f"worker {index}", start_py_spy(worker.process.pid, out), out))
        out = RESULTS / f"{stamp}-fanout-py-spy-standin.txt"
        spies.append(("stand-in", start_py_spy(standin.pid, out, subprocesses=True), out))

    conn = psycopg.connect(libpq_url(args.database_url), autocommit=True)
    # Watching must not slow what it watches: counting 'sent' rows is a (parallel) scan of the
    # whole table every poll, a tenth of the machine. The rows still to send are in the two
    # partial indexes; the planner's statistics (all pending, from the COPY) would pick a scan.
    conn.execute("SET enable_seqscan = off")
    conn.execute("SET max_parallel_workers_per_gather = 0")
    deadline = t0 + args.timeout
    all_sent_at = first_sent_at = None
    timed_out = False
    next_db_poll = 0.0
    progress_at = time.monotonic() + 5
    sent = 0
    while True:
        now = time.monotonic()
        running = [w.poll() for w in workers]
        if now >= next_db_poll:
            sent = count - conn.execute(UNFINISHED).fetchone()[0]  # or failed: checked at the end
            next_db_poll = now + args.poll
            pg_cpu.sample()
            if sent and first_sent_at is None:
                first_sent_at = now
            if sent >= count and all_sent_at is None:
                all_sent_at = now
        if now >= progress_at:
            log(f"  {sent:,} sent, {sum(running)} worker(s) running")
            progress_at = now + 5
        if not any(running):
            break
        if now >= deadline:
            log(f"TIMEOUT after {args.timeout} s: stopping the workers")
            timed_out = True
            for worker in workers:
                stop_group(worker.process)
                worker.poll()
            break
        time.sleep(0.1)
    t_end = time.monotonic()
    standin_cpu = sum(proc_cpu(p) for p in standin_pids) - standin_cpu0
    cpu2 = {"busy": machine_busy(), "self": self_cpu(), "softirq": softirq()}
    per_process = pg_cpu.used()
    cpu2["postgres"] = sum(s for comm, _, s in per_process.values() if comm == "postgres")
    ours = {os.getpid(), standin.pid, *standin_pids, *(w.process.pid for w in workers)}
    ours |= {spy.pid for _, spy, _ in spies}
    others: collections.Counter[str] = collections.Counter()
    for pid, (comm, pgid, seconds) in per_process.items():
        if pid not in ours and pgid not in ours and comm != "postgres":
            others[comm] += seconds

    # -- verification (after the clock) --
    log("verifying (listing every stand-in message)")
    statuses = db_status_counts(conn)
    db_rows = conn.execute("SELECT phone, text, gateway_id, status FROM outbox").fetchall()
    last_sent_at = conn.execute("SELECT max(sent_at) FROM outbox").fetchone()[0]
    conn.close()
    listing = http_json(f"{api_url}/_standin/messages", timeout=300)
    made = http_json(f"{api_url}/_standin/requests", timeout=300)["requests"]
    messages = listing["messages"]
    pairs = collections.Counter((m["number"], m["text"]) for m in messages)
    repeats = sum(n - 1 for n in pairs.values() if n > 1)
    standin_set = {(m["number"], m["text"], m["id"]) for m in messages}
    db_set = {(r[0], r[1], r[2]) for r in db_rows if r[3] == "sent"}
    sent_without_id = sum(1 for r in db_rows if r[3] == "sent" and not r[2])
    last_accepted = max((m["time"] for m in messages), default=None)
    http_statuses = collections.Counter(r["http_status"] for r in made)
    recipients_per_request = collections.Counter(
        "1 number" if r["to"].count(",") == 0 else "2+ numbers" for r in made
    )
    numbers_in_requests = sum(r["to"].count(",") + 1 for r in made)
    failed_jobs = FailedJobRegistry("default", connection=redis).count
    left_in_queue = Queue("default", connection=redis).count

    def since_start(stamp_value) -> float | None:
        if stamp_value is None:
            return None
        if isinstance(stamp_value, str):
            stamp_value = datetime.fromisoformat(stamp_value.replace("Z", "+00:00"))
        return (stamp_value - wall0).total_seconds()

    total = since_start(last_accepted) if len(messages) == count else None  # not all: no time
    recorded = since_start(last_sent_at)
    checks = {
        f"stand-in holds exactly {count:,} messages": len(messages) == count,
        "no number received the same text twice": repeats == 0,
        f"every outbox row is 'sent' ({count:,})": statuses == {"sent": count},
        "every sent row has a gateway_id": sent_without_id == 0,
        "stand-in (number, text, id) == outbox (phone, text, gateway_id)": standin_set == db_set,
        "every request answered HTTP 200": set(http_statuses) <= {200},
        "no failed RQ job, queue empty": failed_jobs == 0 and left_in_queue == 0,
        "every worker exited 0": all(w.exit_code == 0 for w in workers),
    }

    # -- report --
    send_wall = t_end - t_dispatch
    worker_cpu = sum(w.cpu() for w in workers)
    busy = cpu2["busy"] - cpu1["busy"]
    pg = cpu2["postgres"]
    mine = cpu2["self"] - cpu1["self"]
    irq = cpu2["softirq"] - cpu1["softirq"]
    other = max(0.0, busy - worker_cpu - standin_cpu - pg - mine - irq)
    other_procs = sum(others.values())
    verdict_ok = all(checks.values()) and total is not None and total < args.target
    lines = [
        "",
        "== SMS fan-out benchmark ==",
        f"machine      {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.platform()}",
        f"command      {shlex.join([sys.executable, *sys.argv])}",
        f"setup        {count:,} messages ({count - count // 2:,} one reminder, {count // 2:,} "
        f"personal) to {count // 2:,} numbers; {args.workers} x {args.worker_class}; AT_BATCH_SIZE "
        f"{args.batch_size or 'default'} ({_batch_size()}); texts {encodings}"
        + (f"; setup SQL: {args.setup_sql}" if args.setup_sql else ""),
        "",
        f"TOTAL        {_s(total)}  queue start -> stand-in accepted the last message",
        f"messages/s   {count / total:,.0f}" if total else "messages/s   -",
        f"  insert     {t_insert - t0:7.2f} s  (texts, sms_cost per text, COPY, "
        f"{'no ANALYZE' if args.no_analyze else 'ANALYZE'})",
        f"  dispatch   {t_dispatch - t_insert:7.2f} s  ({queued:,} rows -> queued, {jobs} RQ jobs)",
        f"  first sent {_s(first_sent_at and first_sent_at - t_dispatch)}  after the workers "
        f"were started (process start, app import, first job; polled every {args.poll} s)",
        f"  sending    {_s(total and total - (t_dispatch - t0))}  dispatch end -> last accepted",
        f"  recorded   {_s(recorded)}  queue start -> last row recorded 'sent' in PostgreSQL",
        f"  all sent   {_s(all_sent_at and all_sent_at - t0)}  queue start -> poll saw no row "
        "pending, queued or sending",
        f"  exited     {t_end - t0:7.2f} s  queue start -> last worker exited",
        f"FLOOR        {_s(floor)}  the same requests from {args.workers} process(es) through the "
        "gateway adapter alone (no rows, no RQ), same stand-in, same run",
        f"floor/total  {floor / total:.2f}  (1.00: the outbox, RQ and PostgreSQL cost nothing)"
        if floor and total
        else "floor/total  -",
        "",
        f"CPU seconds during sending ({send_wall:.1f} s wall, {os.cpu_count()} cores = "
        f"{send_wall * (os.cpu_count() or 1):.0f} core-s):",
        f"  workers    {worker_cpu:7.1f}  (" + ", ".join(f"{w.cpu():.1f}" for w in workers) + ")",
        f"  stand-in   {standin_cpu:7.1f}",
        f"  postgres   {pg:7.1f}  (sampled every {args.poll} s per backend)",
        f"  bench      {mine:7.1f}  (this script's polling)",
        f"  softirq    {irq:7.1f}  (kernel: loopback TCP, not charged to a process)",
        f"  other      {other:7.1f}  ("
        + (", ".join(f"{c} {v:.1f}" for c, v in others.most_common(5)) or "none")
        + ")"
        + (
            "  <- other processes were busy: figures skewed"
            if other_procs > 0.1 * send_wall
            else ""
        ),
        f"  machine    {busy:7.1f}  ({busy / send_wall:.2f} cores busy on average)",
        f"queue phase CPU: bench {cpu1['self'] - cpu0['self']:.1f} s, postgres "
        f"{cpu1['postgres']:.1f} s, machine {cpu1['busy'] - cpu0['busy']:.1f} s",
        "",
        "peak RSS     "
        + ", ".join(
            f"worker {i}: {w.peak_mb():.0f} MB (VmHWM polled {w.peak_rss_kb / 1024:.0f} MB)"
            for i, w in enumerate(workers)
        ),
        f"requests     {len(made):,} to the stand-in ({dict(recipients_per_request)}), "
        f"{numbers_in_requests:,} numbers in them, HTTP {dict(http_statuses)}",
        f"outbox       {statuses}",
        f"stand-in     {len(messages):,} messages, {repeats} repeated (number, text)",
        f"RQ           {failed_jobs} failed jobs, {left_in_queue} left in queue; worker exit "
        f"codes {[w.exit_code for w in workers]}",
        "",
        "checks:",
        *(f"  [{'ok' if good else 'FAIL'}] {name}" for name, good in checks.items()),
        "",
    ]
    if timed_out:
        lines.append(f"the run hit --timeout {args.timeout:g} s: the workers were stopped")
    if args.py_spy:
        for label, spy, out in spies:
            if label == "stand-in" and spy.poll() is None:
                spy.send_signal(signal.SIGINT)  # the stand-in lives on: stop and write now
            with contextlib.suppress(subprocess.TimeoutExpired):
                spy.wait(timeout=30)
            lines += [f"py-spy {label} ({out.name}):", summarise_py_spy(out), ""]
        lines.append("(profiled run: py-spy slows the processes; the time is not a measurement)")
    result = "PASS" if verdict_ok else "FAIL"
    why = [] if all(checks.values()) else ["checks failed"]
    if total is None or total >= args.target:
        why.append(f"total {_s(total).strip()} >= target {args.target:g} s")
    lines.append(
        f"RESULT       {result}: {count:,} messages in {_s(total).strip()} "
        f"(target < {args.target:g} s)" + (f" -- {'; '.join(why)}" if why else "")
    )
    print("\n".join(lines), flush=True)

    record = {
        "stamp": stamp,
        "count": count,
        "workers": args.workers,
        "worker_class": args.worker_class,
        "setup_sql": args.setup_sql,
        "batch_size": _batch_size(),
        "total_s": total,
        "floor_s": floor,
        "floor_ratio": floor / total if floor and total else None,
        "insert_s": t_insert - t0,
        "dispatch_s": t_dispatch - t_insert,
        "recorded_s": recorded,
        "exited_s": t_end - t0,
        "jobs": jobs,
        "requests": len(made),
        "cpu": {
            "workers": worker_cpu,
            "standin": standin_cpu,
            "postgres": pg,
            "softirq": irq,
            "other": other,
            "other_processes": dict(others.most_common(10)),
        },
        "peak_rss_mb": [w.peak_mb() for w in workers],
        "checks": checks,
        "result": result,
        "profiled": bool(args.py_spy),
    }
    (RESULTS / f"{stamp}-fanout.json").write_text(json.dumps(record, indent=2) + "\n")
    return 0 if verdict_ok else 1


def _batch_size() -> int:
    from config import Settings

    return Settings.from_env().at_batch_size


def _s(seconds: float | None) -> str:
    return "      -  " if seconds is None else f"{seconds:7.2f} s"


def cprofile_run(args, api_url: str, stamp: str) -> int:
    """Queue the messages, then run every job in this process under cProfile (one worker)."""
    import cProfile
    import pstats

    from rq import Queue
    from rq.job import Job

    from app import create_app
    from workers.outbox import dispatch

    app = create_app()
    redis = app.extensions["redis"]
    insert_rows(args, args.count)
    with app.app_context():
        dispatch(redis)
    queue = Queue("default", connection=redis)
    jobs = [Job.fetch(job_id, connection=redis) for job_id in queue.job_ids]
    log(f"running {len(jobs)} jobs in-process under cProfile")
    profile = cProfile.Profile()
    t0 = time.monotonic()
    profile.enable()
    for job in jobs:
        with app.app_context():
            job.func(*job.args, **job.kwargs)
            from models import db

            db.session.remove()
    profile.disable()
    elapsed = time.monotonic() - t0
    out = RESULTS / f"{stamp}-fanout.pstats"
    profile.dump_stats(out)
    log(f"{args.count:,} messages sent by one in-process worker in {elapsed:.2f} s ({out.name})")
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(20)
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="messages (default 100000)")
    parser.add_argument("--workers", type=int, default=2, help="rq worker processes (default 2)")
    parser.add_argument("--batch-size", type=int, default=0, help="AT_BATCH_SIZE for every process")
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/bench_fanout"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--target", type=float, default=60.0, help="PASS below (s, default 60)")
    parser.add_argument("--timeout", type=float, default=300.0, help="stop workers after (s)")
    parser.add_argument("--poll", type=float, default=0.5, help="database poll interval (s)")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=120.0,
        help="wait up to this long for the machine to idle before the clock starts (0: no)",
    )
    parser.add_argument(
        "--worker-class",
        default="workers.worker.AppWorker",
        help="rq worker class (default workers.worker.AppWorker; another one to compare variants)",
    )
    parser.add_argument(
        "--setup-sql",
        help="SQL run after the migrations, e.g. to try an index change without a migration",
    )
    parser.add_argument("--no-analyze", action="store_true", help="skip ANALYZE after the COPY")
    parser.add_argument("--py-spy", action="store_true", help="profile workers and stand-in")
    parser.add_argument(
        "--cprofile", action="store_true", help="run one worker's jobs in-process under cProfile"
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the floor run")
    parser.add_argument("--floor-part", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count < 2 or args.workers < 1:
        parser.error("--count must be at least 2 and --workers at least 1")
    if args.count // 2 + PHONE_BASE > 79_999_999:
        parser.error("--count too large for the +2237xxxxxxx numbers")
    return args


def main() -> int:
    args = parse_args()
    if args.floor_part is not None:
        return floor_part(args)
    limit = int(args.timeout + args.wait_quiet + 600)  # setup + verification, whatever happens

    def too_long(*_):
        raise SystemExit(f"the benchmark ran over {limit} s: stopped")

    signal.signal(signal.SIGALRM, too_long)
    signal.alarm(limit)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
