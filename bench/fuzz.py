"""Fuzz the served app: seeded hostile requests to every webhook, counted by status and webhook.

    .venv/bin/python bench/fuzz.py                        # 10,000 requests, seed 6
    .venv/bin/python bench/fuzz.py --requests 2000 --seed 1 --keep-logs

A benchmark-style check, not a test: it serves the app as production does (granian as in the
Procfile, 2 workers, 1 blocking thread) on a PostgreSQL database of its own (created, then
dropped), with an RQ worker sending replies through the official SDK to the gateway stand-in
(dev/standin.py, which posts delivery reports back). It seeds the demo district, so real
workers' numbers are among the senders and check-ins really advance, then sends the requests:
gateway-shaped ones (USSD sessions walked step by step, SMS check-ins, end-of-session
notifications, delivery reports) mixed with hostile ones (NUL and control characters, any
Unicode, very long fields, runs of `*`, digits of other scripts, numbers past every column,
malformed and overlong phone numbers, missing fields, bodies that are not UTF-8 or not forms).

Requests are generated up front from --seed, then sent by --lanes threads; one USSD session's
steps and one sender's SMS stay in one lane, in order, as the gateway would send them. It
prints the count of answers per webhook and status, the /ussd answers that are 200 but not
`CON …`/`END …` of at most 182 characters, the worker's failed jobs and the tracebacks in the
web server's log. Exit status 1 if any answer is a 5xx or any /ussd body is malformed.

Needs PostgreSQL (--admin-url, default postgresql://postgres@127.0.0.1:5432/postgres: it
creates and drops the database `qi_fuzz_<pid>`) and Redis (--redis-url, default db 13, which it
empties). Logs go to bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import requests
from redis import Redis
from rq import Queue

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
VENV_BIN = Path(sys.executable).parent
USSD_LIMIT = 182
WORKERS = ["+22370000011", "+22370000012", "+22370000013", "+22370000021", "+22370000022"]
WORKERS += ["+22370000031", "+22370000032"]
PHONES = [*WORKERS, "+22370000001", "+22379999999"]  # the supervisor, a valid stranger
SCRIPT = ["1", "6", "2", "40", "38", "1", "2", "ok", "1"]
"""A whole weekly check-in (met, 6 present, PDSA in test, 40 eligible, 38 served, ..., send)."""
ENTRIES = ["1", "2", "3", "6", "40", "38", "45", "0", "00", "ok", "RAS", ".", "99", "-1"]
SPECIALS = [
    "\x00",
    "1\x002",
    "\r\n",
    "\t",
    "*",
    "**",
    "*00*",
    "1*" * 60,
    "²",
    "\u0663",
    "\uff11\uff12",
    "-1",
    "9" * 30,
    "2147483648",
    "9223372036854775808",
    "%s%n{0}{facility}",
    "{facility}: :-}",
    "STOP",
    "Stop.",
    "S T O P",
    "START",
    "Arrêt des CPN faute de vaccins",
    "QI 1 6 2 45 40 1 2 RAS",
    "QI 9 9 9 9",
    "qi 2 \u0663 x",
    "\ufeff",
    "\u202e",
    "'; DROP TABLE answers; --",
]
STATUSES = ["Sent", "Submitted", "Buffered", "Success", "Failed", "Rejected", "AbsentSubscriber"]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded; charset=latin-1",
    "multipart/form-data; boundary=x",
    "application/json",
    "text/plain",
]


@dataclass(frozen=True)
class Call:
    """One request to send: which webhook, in which lane, with which body."""

    webhook: str
    lane_key: str
    body: bytes = b""
    content_type: str = "application/x-www-form-urlencoded"
    query: str = ""


# -- what is sent --------------------------------------------------------------------------------


class Generator:
    """Requests drawn from one seeded random source, so a run can be repeated exactly."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.walks: list[tuple[str, str, list[str]]] = []
        self.sms_steps: dict[str, int] = {}
        self.counter = 0

    def next_id(self) -> int:
        self.counter += 1
        return self.counter

    def calls(self, count: int) -> list[Call]:
        makers = [
            (0.40, self.ussd),
            (0.12, self.ussd_event),
            (0.28, self.sms),
            (0.12, self.delivery),
            (0.03, self.healthz),
            (0.05, self.raw_body),
        ]
        weights = [weight for weight, _ in makers]
        return [self.rng.choices(makers, weights)[0][1]() for _ in range(count)]

    # text and numbers

    def text(self) -> str:
        rng, kind = self.rng, self.rng.random()
        if kind < 0.25:
            return rng.choice(SPECIALS)
        if kind < 0.45:
            return "".join(self.codepoint() for _ in range(rng.randint(0, 60)))
        if kind < 0.60:
            return "".join(chr(rng.randint(0, 0x9F)) for _ in range(rng.randint(1, 20)))
        if kind < 0.68:
            return rng.choice(["1*", "\x00", "é", "9", "ɛ*"]) * rng.randint(1_000, 60_000)
        if kind < 0.85:
            return self.number()
        return "".join(chr(rng.randint(0x20, 0x7E)) for _ in range(rng.randint(0, 40)))

    def codepoint(self) -> str:
        code = self.rng.randint(1, 0x10FFFF)
        return chr(code) if not 0xD800 <= code <= 0xDFFF else "?"

    def number(self) -> str:
        rng = self.rng
        return rng.choice(
            [
                str(rng.randint(-(2**70), 2**70)),
                str(rng.randint(0, 2**31 + 10)),
                rng.choice(["²", "\u0663\u0664", "\uff17", "1e9", "-0", "+1", " 7", "12.5"]),
            ]
        )

    def phone(self) -> str:
        rng, kind = self.rng, self.rng.random()
        if kind < 0.55:
            return rng.choice(PHONES)
        if kind < 0.70:
            return "+" + "".join(rng.choice("0123456789") for _ in range(rng.randint(16, 30)))
        if kind < 0.85:
            return rng.choice(["+223\x0070000011", "+\u0662\u0662\u06637\u0660", "ORANGE", ""])
        return self.text()[:40]

    def maybe(self, fields: dict[str, str], keep: float = 0.9) -> dict[str, str]:
        """Drop each field now and then, as a hand-made request would."""
        return {name: value for name, value in fields.items() if self.rng.random() < keep}

    def form(self, webhook: str, lane_key: str, fields: dict[str, str]) -> Call:
        return Call(webhook, lane_key, urlencode(fields).encode("utf-8"))

    # webhooks

    def ussd(self) -> Call:
        rng = self.rng
        if rng.random() < 0.6:
            return self.ussd_walk_step()
        fields = {
            "sessionId": rng.choice(["ATUid_h1", "ATUid_h2", self.text()[:120]]),
            "serviceCode": rng.choice(["*384*123#", self.text()[:50]]),
            "phoneNumber": self.phone(),
            "text": self.text(),
            "networkCode": rng.choice(["61001", self.text()[:20]]),
        }
        return self.form("POST /ussd", f"ussd:{fields['sessionId']}", self.maybe(fields))

    def ussd_walk_step(self) -> Call:
        rng = self.rng
        if not self.walks or rng.random() < 0.15:
            self.walks.append((f"ATUid_fuzz_{self.next_id()}", rng.choice(WORKERS), []))
            self.walks = self.walks[-8:]
            session, phone, inputs = self.walks[-1]
        else:
            session, phone, inputs = rng.choice(self.walks)
            inputs.append(self.entry(len(inputs)))
        fields = {"sessionId": session, "serviceCode": "*384*123#", "phoneNumber": phone}
        fields |= {"text": "*".join(inputs), "networkCode": "61001"}
        return self.form("POST /ussd", f"ussd:{session}", fields)

    def entry(self, step: int) -> str:
        """Mostly the script's next answer, so check-ins complete; else an odd or hostile one."""
        rng, kind = self.rng, self.rng.random()
        if kind < 0.75:
            return SCRIPT[step % len(SCRIPT)]
        return rng.choice(ENTRIES) if kind < 0.9 else self.text()[:30]

    def ussd_event(self) -> Call:
        rng = self.rng
        session = rng.choice(self.walks)[0] if self.walks else "ATUid_none"
        fields = {
            "sessionId": rng.choice([session, self.text()[:120]]),
            "phoneNumber": self.phone(),
            "status": rng.choice(["Success", "Incomplete", "Failed", self.text()[:40]]),
            "input": self.text(),
            "lastAppResponse": self.text(),
            "errorMessage": self.text(),
            "durationInMillis": rng.choice([str(rng.randint(0, 200_000)), self.number()]),
            "cost": rng.choice(["XOF 0.00", self.text()[:40]]),
            "date": rng.choice(["2026-12-01 10:00:00", self.text()[:40]]),
        }
        return self.form("POST /ussd/events", f"event:{session}", self.maybe(fields))

    def sms(self) -> Call:
        rng = self.rng
        gateway_id = f"ATXid_fuzz_{self.next_id() if rng.random() < 0.95 else 1}"
        if rng.random() < 0.5:
            sender = rng.choice(WORKERS)
            step = self.sms_steps.get(sender, 0)
            self.sms_steps[sender] = (step + 1) % (len(SCRIPT) + 1)
            text = "QI" if step == 0 else self.entry(step - 1)
            if rng.random() < 0.1:
                text = rng.choice(["QI 1 6 2 45 40 1 2 RAS", "AIDE", "FR", "BM", "START"])
            fields = {"from": sender, "to": "12345", "text": text, "id": gateway_id}
            fields |= {"date": "2026-12-01 10:00:00", "linkId": "", "networkCode": "61001"}
            return self.form("POST /sms/incoming", f"sms:{sender}", fields)
        fields = {
            "from": self.phone(),
            "to": rng.choice(["12345", self.text()[:40]]),
            "text": self.text(),
            "id": rng.choice([gateway_id, self.text()[:120]]),
            "date": self.text()[:50],
            "linkId": self.text()[:120],
            "networkCode": self.text()[:20],
        }
        return self.form("POST /sms/incoming", f"sms:{fields['from']}", self.maybe(fields))

    def delivery(self) -> Call:
        rng = self.rng
        fields = {
            "id": rng.choice([f"ATXid_{rng.randint(1, 500)}", self.text()[:120]]),
            "status": rng.choice([*STATUSES, self.text()[:40]]),
            "phoneNumber": self.phone(),
            "networkCode": self.text()[:20],
            "failureReason": rng.choice(["", "UserInBlacklist", self.text()[:80]]),
            "retryCount": self.number(),
        }
        return self.form("POST /sms/delivery", "delivery", self.maybe(fields))

    def healthz(self) -> Call:
        query = urlencode({self.text()[:30]: self.text()[:200]})
        return Call("GET /healthz", "healthz", query=query)

    def raw_body(self) -> Call:
        """A body that is not a UTF-8 form: random bytes, invalid escapes, another type."""
        rng = self.rng
        webhook = rng.choice(["POST /ussd", "POST /ussd/events", "POST /sms/incoming"])
        body = rng.choice(
            [
                bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 300))),
                b"sessionId=x&phoneNumber=%2B22370000011&text=%FF%FE",
                b"text=%ED%A0%80&from=%2B22370000011&id=x",
                b"&&&==&=%&%%",
            ]
        )
        content_type = rng.choice(["application/x-www-form-urlencoded", *CONTENT_TYPES])
        return Call(webhook, "raw", body, content_type)


# -- serving -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


@contextlib.contextmanager
def database(admin_url: str):
    """A database of the run's own, dropped at the end (the test suite's `test` is untouched)."""
    name = f"qi_fuzz_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class Processes:
    """The servers of one run, each in its own process group, stopped together at the end."""

    def __init__(self, env: dict[str, str], stamp: str):
        self.env, self.stamp = env, stamp
        self.started: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, name: str, command: list[str]) -> Path:
        path = RESULTS / f"fuzz-{self.stamp}-{name}.log"
        with path.open("wb") as output:
            process = subprocess.Popen(
                command,
                cwd=REPO,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append((name, process, path))
        return path

    def stop(self) -> None:
        for _name, process, _path in reversed(self.started):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for _name, process, _path in self.started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.3)
    sys.exit(f"{url} did not answer within {timeout:.0f} s")


def flask(env: dict[str, str], *command: str) -> None:
    done = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "app", *command],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if done.returncode != 0:
        sys.exit(f"flask {' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def serve(processes: Processes, web_port: int, standin_port: int, redis_url: str) -> Path:
    """The stand-in, one RQ worker and the web server as the Procfile runs it; the web log."""
    python = str(VENV_BIN / "python")
    delivery = f"http://127.0.0.1:{web_port}/sms/delivery"
    standin = ["-m", "dev.standin", "--port", str(standin_port), "--auto-deliver"]
    processes.start("standin", [python, *standin, "--delivery-url", delivery])
    worker = [str(VENV_BIN / "rq"), "worker", "--with-scheduler", "-w", "workers.worker.AppWorker"]
    processes.start("worker", [*worker, "--url", redis_url])
    web = ["--interface", "wsgi", "--factory", "app:create_app", "--no-access-log"]
    web += ["--host", "127.0.0.1", "--port", str(web_port), "--workers", "2"]
    web_log = processes.start("web", [str(VENV_BIN / "granian"), *web, "--blocking-threads", "1"])
    wait_until_up(f"http://127.0.0.1:{standin_port}/_standin/messages")
    wait_until_up(f"http://127.0.0.1:{web_port}/healthz")
    return web_log


# -- sending and counting ------------------------------------------------------------------------


@dataclass
class Tally:
    statuses: collections.Counter
    bad_ussd: list[str]
    errors: list[str]
    lock: threading.Lock


def send_lane(base: str, calls: list[Call], tally: Tally) -> None:
    session = requests.Session()
    previous = "none"
    for call in calls:
        method, path = call.webhook.split(" ", 1)
        url = f"{base}{path}" + (f"?{call.query}" if call.query else "")
        try:
            response = session.request(
                method,
                url,
                data=call.body if method == "POST" else None,
                headers={"Content-Type": call.content_type} if method == "POST" else {},
                timeout=60,
            )
            status, body = str(response.status_code), response.text
            if response.status_code == 413:
                # The app refused the body unread and the server closes the connection after
                # answering, without saying so: a request sent on it next would fail.
                session.close()
                session = requests.Session()
        except requests.RequestException as exc:
            status, body = (
                f"error:{type(exc).__name__}",
                f"{call.webhook}, {len(call.body)} bytes, after a {previous}: {exc}",
            )
        previous = status
        bad = (
            call.webhook == "POST /ussd"
            and status == "200"
            and (not body.startswith(("CON ", "END ")) or len(body) > USSD_LIMIT)
        )
        with tally.lock:
            tally.statuses[(call.webhook, status)] += 1
            if bad:
                tally.bad_ussd.append(body[:200])
            if status.startswith("error"):
                tally.errors.append(body[:300])


def run(calls: list[Call], base: str, lanes: int) -> Tally:
    per_lane: list[list[Call]] = [[] for _ in range(lanes)]
    for call in calls:
        per_lane[zlib.crc32(call.lane_key.encode("utf-8", "replace")) % lanes].append(call)
    tally = Tally(collections.Counter(), [], [], threading.Lock())
    threads = [threading.Thread(target=send_lane, args=(base, lane, tally)) for lane in per_lane]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def table(statuses: collections.Counter) -> str:
    webhooks = sorted({webhook for webhook, _ in statuses})
    codes = sorted({status for _, status in statuses})
    header = ["webhook", *codes, "total"]

    def sum_of(webhook: str) -> int:
        return sum(statuses[webhook, code] for code in codes)

    rows = [
        [webhook, *(str(statuses[webhook, code]) for code in codes), str(sum_of(webhook))]
        for webhook in webhooks
    ]
    rows.append(["all", *(str(sum(statuses[(w, c)] for w in webhooks)) for c in codes)])
    rows[-1].append(str(sum(statuses.values())))
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


WHAT_IT_LEFT = {
    "check-ins completed": "SELECT count(*) FROM checkins WHERE completed_at IS NOT NULL",
    "answers stored": "SELECT count(*) FROM answers",
    "USSD sessions": "SELECT count(*) FROM sessions WHERE channel = 'ussd'",
    "end-of-session notifications stored": "SELECT count(*) FROM ussd_events",
    "inbound SMS stored": "SELECT count(*) FROM inbox",
    "outbound SMS": "SELECT count(*) FROM outbox",
    "outbound SMS accepted by the stand-in": "SELECT count(*) FROM outbox WHERE gateway_id IS NOT NULL",
}
"""What the run left in the database: the gateway-shaped traffic did real work, not just 4xx."""


def what_it_left(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [
            f"{conn.execute(sql).fetchone()[0]:>6} {what}" for what, sql in WHAT_IT_LEFT.items()
        ]


def failed_jobs(redis_url: str) -> int:
    return Queue("default", connection=Redis.from_url(redis_url)).failed_job_registry.count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--lanes", type=int, default=4, help="concurrent senders")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("FUZZ_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("FUZZ_REDIS_URL", "redis://127.0.0.1:6379/13")
    )
    parser.add_argument("--settle", type=float, default=5, help="seconds for the queue to drain")
    args = parser.parse_args(argv)

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    calls = Generator(args.seed).calls(args.requests)
    Redis.from_url(args.redis_url).flushdb()
    web_port, standin_port = free_port(), free_port()
    with database(args.admin_url) as url:
        env = {k: v for k, v in os.environ.items() if k != "WEBHOOK_TOKEN"}
        env |= {
            "DATABASE_URL": url,
            "REDIS_URL": args.redis_url,
            "AT_API_URL": f"http://127.0.0.1:{standin_port}/version1",
            "AT_API_KEY": "fuzz-key",
            "PYTHONPATH": str(REPO),
        }
        log(f"database {url.rsplit('/', 1)[1]}: migrating and seeding the demo district")
        flask(env, "db", "upgrade")
        flask(env, "seed-demo")
        processes = Processes(env, stamp)
        try:
            web_log = serve(processes, web_port, standin_port, args.redis_url)
            log(f"sending {len(calls):,} requests (seed {args.seed}) in {args.lanes} lanes")
            started = time.monotonic()
            tally = run(calls, f"http://127.0.0.1:{web_port}", args.lanes)
            elapsed = time.monotonic() - started
            time.sleep(args.settle)
            failed = failed_jobs(args.redis_url)
        finally:
            processes.stop()
        left = what_it_left(url)
    tracebacks = web_log.read_text(errors="replace").count("Traceback")
    server_errors = sum(
        n for (_, status), n in tally.statuses.items() if status.startswith(("5", "error"))
    )
    print(f"\n{len(calls):,} requests in {elapsed:.1f} s (seed {args.seed}, {args.lanes} lanes)\n")
    print(table(tally.statuses))
    print(f"\n5xx or no answer: {server_errors}")
    print(f"/ussd 200 bodies not CON/END or over {USSD_LIMIT} characters: {len(tally.bad_ussd)}")
    for body in tally.bad_ussd[:5]:
        print(f"  {body!r}")
    for error in tally.errors[:5]:
        print(f"  no answer: {error}")
    print("\n".join(["", "in the database afterwards:", *left, ""]))
    print(f"RQ failed jobs: {failed}; tracebacks in the web log: {tracebacks} ({web_log})")
    return 1 if server_errors or tally.bad_ussd else 0


if __name__ == "__main__":
    sys.exit(main())
