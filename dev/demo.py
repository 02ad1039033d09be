"""`python -m dev.demo` (what `bin/demo` runs): migrate, seed the demo region and run the
processes of Procfile.dev (web, worker, gateway stand-in, clock), on embedded defaults when no
servers are configured.

The demo supervises those processes itself. Under honcho, Ctrl-C on `bin/demo | tee log` left
them all running (tee died first; honcho's "SIGINT received" line met a closed pipe and honcho
died of it before stopping anyone), and without the pipe the demo ended in a KeyboardInterrupt
traceback. Here every child runs in a session of its own, so the terminal's signals reach only
the demo, which then stops them all, quietly and in order (the processes, then the embedded
Redis they use). It stops on SIGINT, SIGTERM, SIGHUP, a child exiting, or its stdout's reader
going away (EPIPE on a write, or the pipe's error state, noticed within half a second).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError

from dev.demo_state import DemoState, remove_state, write_state
from dev.embedded import redis_answers, start_embedded_redis, stop_embedded_redis

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile.dev"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE = 10.0
"""Seconds the processes get to stop after SIGTERM before SIGKILL (the RQ worker finishes its job)."""
RESEND = 2.0
SETUP = (("db", "upgrade"), ("seed-demo", "--history", "16"))
DEMO_ACCOUNTS = (
    ("admin@demo.ml",),
    ("kati@demo.ml", "--role", "supervisor", "--facility", "CSREF-KATI"),
)
"""The admin console's demo accounts: an admin, and a supervisor who sees only Kati."""

SUPERVISOR = "+22370000001"
"""The demo's district supervisor (Kati), for the printed supervisor commands."""


class Console:
    """The demo's stdout, shared by the processes' output relays.

    A reader that went away (`| tee` stopped by Ctrl-C, `| head`) stops the demo: a write
    fails with EPIPE, or `watch` sees the pipe's error state first. From then on the demo's
    own lines go to stderr, and stdout points at /dev/null so that Python's last flush at exit
    does not complain of the broken pipe.
    """

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._lock = threading.Lock()
        self.closed = False
        self.quiet = False
        """Set once stopping: the processes' own shutdown chatter is not shown."""

    def relay(self, text: str) -> None:
        if not self.quiet:
            self._write(text)

    def say(self, line: str) -> None:
        """One of the demo's own lines: on stdout, or on stderr once stdout is gone."""
        if self._write(line + "\n"):
            return
        with contextlib.suppress(OSError):  # stderr went with stdout (`bin/demo 2>&1 | tee`)
            print(line, file=sys.stderr, flush=True)

    def watch(self) -> None:
        """Stop the demo soon after stdout's reader goes away, even while nothing is printed."""
        poller = select.poll()
        poller.register(sys.stdout.fileno(), 0)  # no events asked: only POLLERR and POLLHUP come
        while not self._stop.is_set() and not self.closed:
            if poller.poll(500):
                with self._lock:
                    self._lost()

    def _write(self, text: str) -> bool:
        with self._lock:
            if self.closed:
                return False
            try:
                sys.stdout.buffer.write(text.encode("utf-8", errors="replace"))
                sys.stdout.buffer.flush()
            except OSError:  # EPIPE, or EIO from a terminal that hung up
                self._lost()
                return False
            return True

    def _lost(self) -> None:
        if self.closed:
            return
        self.closed = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        self._stop.set()


@dataclass
class Child:
    """One process of the demo, in a session (and process group) of its own."""

    name: str
    process: subprocess.Popen
    relay: threading.Thread = field(repr=False)

    def exited(self) -> bool:
        return self.process.poll() is not None

    def signal_group(self, signum: int) -> bool:
        """Send `signum` to the child's whole group; False when nobody is left in it."""
        try:
            os.killpg(self.process.pid, signum)
        except (ProcessLookupError, PermissionError):
            return False
        return True


def spawn(
    name: str, command: list[str], env: dict[str, str], console: Console, width: int
) -> Child:
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    prefix = f"{name:<{width}} | "

    def relay() -> None:
        for line in process.stdout:
            console.relay(prefix + line.decode("utf-8", errors="replace"))

    thread = threading.Thread(target=relay, name=f"relay-{name}", daemon=True)
    thread.start()
    return Child(name, process, thread)


def stop_children(children: Iterable[Child], console: Console, grace: float = GRACE) -> None:
    """SIGTERM every group, wait up to `grace` s for them to empty, then SIGKILL what is left.

    SIGTERM is sent again every RESEND s to a group still running: granian loses one that
    arrives while its workers start (a Ctrl-C soon after `bin/demo`), and would wait for SIGKILL.
    """
    children = list(children)
    deadline = time.monotonic() + grace
    resend_at = 0.0
    while time.monotonic() < deadline and _any_left(children):
        if time.monotonic() >= resend_at:
            for child in children:
                child.signal_group(signal.SIGTERM)
            resend_at = time.monotonic() + RESEND
        time.sleep(0.1)
    for child in children:
        if child.signal_group(signal.SIGKILL):
            console.say(f"demo: {child.name} did not stop within {grace:.0f} s; killed")
    for child in children:
        child.process.wait()
        child.relay.join(timeout=2)


def _any_left(children: list[Child]) -> bool:
    """Reap the leaders that exited; True while any group still has a member."""
    for child in children:
        child.process.poll()
    return any(child.signal_group(0) for child in children)


def procfile(path: Path = PROCFILE) -> dict[str, str]:
    """`name: command` lines, in order (the Procfile format's subset Procfile.dev uses)."""
    entries = (re.match(r"^([\w-]+):\s*(.+)$", line) for line in path.read_text().splitlines())
    return {m.group(1): m.group(2) for m in entries if m}


def demo_env(base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    env.setdefault("PORT", "5000")
    env["WEB_PORT"] = env["PORT"]
    env.setdefault("STANDIN_PORT", "8765")
    env.setdefault("AT_API_URL", f"http://127.0.0.1:{env['STANDIN_PORT']}/version1")
    env.setdefault("AT_API_KEY", "demo-key")
    return env


def create_accounts(env: dict[str, str]) -> str:
    """The admin console's demo accounts, with a password made for this run; returns it.

    Nothing secret is kept in the repository: each start of the demo sets a new password.
    """
    password = secrets.token_urlsafe(9)
    for email, *role in DEMO_ACCOUNTS:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "app",
                "create-admin",
                email,
                *role,
                "--password-stdin",
            ],
            input=password,
            env=env,
            text=True,
            capture_output=True,
            check=True,
        )
    return password


def banner(port: str, password: str) -> str:
    simulate = ".venv/bin/flask --app app simulate --phone"
    accounts = (
        f"  the admin console: http://127.0.0.1:{port}/admin/ as {DEMO_ACCOUNTS[0][0]}, "
        f"or the Kati supervisor {DEMO_ACCOUNTS[1][0]}; password {password}"
    )
    return "\n".join(
        [
            f"demo: ready. The USSD webhook is http://127.0.0.1:{port}/ussd. In another terminal:",
            f"  {simulate} +22370000011              # a health worker, by USSD",
            f"  {simulate} +22370000021 --channel sms  # by SMS: QI, or QI 2 2 45 40 1 2",
            f"  {simulate} {SUPERVISOR} --channel sms  # the supervisor: MANQUANTS, "
            "DETAIL CSCOM-MLB, R CSCOM-MLB <text>, AIDE",
            f"  (by USSD {SUPERVISOR} gets the supervisor's menu; +22370000002 is the regional "
            "viewer, +22370000003 the Koulikoro supervisor)",
            accounts,
            "demo: Ctrl-C stops everything.",
        ]
    )


def announce_when_ready(port: str, password: str, console: Console, stop: threading.Event) -> None:
    """Print the commands to try once the web answers, after the processes' start-up lines."""
    url = f"http://127.0.0.1:{port}/healthz"
    while not stop.wait(0.3):
        try:
            with urllib.request.urlopen(url, timeout=1):
                break
        except (URLError, OSError):
            continue
    if not stop.is_set():
        console.say(banner(port, password))


def install_stop_handlers(stop: threading.Event) -> None:
    """SIGINT, SIGTERM and SIGHUP all mean: stop everything, without a traceback."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda *_: stop.set())


def run_setup(env: dict[str, str], console: Console, stop: threading.Event, width: int) -> bool:
    """Migrate and seed, as children too (their output relayed, a signal stops them)."""
    for args in SETUP:
        step = spawn(
            "setup", [sys.executable, "-m", "flask", "--app", "app", *args], env, console, width
        )
        while not step.exited() and not stop.wait(0.1):
            pass
        if stop.is_set():
            stop_children([step], console)
            return False
        if step.process.returncode != 0:
            console.say(f"demo: `flask {' '.join(args)}` failed (exit {step.process.returncode})")
            return False
    return True


def supervise(children: list[Child], console: Console, stop: threading.Event) -> int:
    """Wait for a stop request or a process exiting; 1 when a process exited on its own."""
    while not stop.wait(0.2):
        for child in children:
            if child.exited():
                console.say(f"demo: {child.name} exited ({child.process.returncode}); stopping")
                return 1
    return 0


def main() -> int:
    stop = threading.Event()
    install_stop_handlers(stop)
    console = Console(stop)
    threading.Thread(target=console.watch, name="stdout-watch", daemon=True).start()
    env = demo_env(dict(os.environ))
    commands = procfile()
    width = max(len(name) for name in [*commands, "setup"])
    redis_server: subprocess.Popen | None = None
    children: list[Child] = []
    status = 0
    try:
        env["REDIS_URL"], redis_server = redis_for(env.get("REDIS_URL"), console)
        if not run_setup(env, console, stop, width):
            return 0 if stop.is_set() else 1
        password = create_accounts(env)
        children = [spawn(n, _shell(c), env, console, width) for n, c in commands.items()]
        write_state(
            DemoState(
                web_url=f"http://127.0.0.1:{env['PORT']}",
                standin_url=f"http://127.0.0.1:{env['STANDIN_PORT']}",
                pid=os.getpid(),
            )
        )
        threading.Thread(
            target=announce_when_ready, args=(env["PORT"], password, console, stop), daemon=True
        ).start()
        status = supervise(children, console, stop)
    finally:
        console.quiet = True
        stop.set()
        stop_children(children, console)
        if redis_server is not None:
            stop_embedded_redis(redis_server)
        remove_state(os.getpid())
        console.say("demo: stopped")
    return status


def _shell(command: str) -> list[str]:
    """A Procfile line as the shell runs it ($PORT expanded), exec'd: the group's leader is the
    program itself, which gets the SIGTERM first-hand."""
    return ["sh", "-c", f"exec {command}"]


def redis_for(url: str | None, console: Console) -> tuple[str, subprocess.Popen | None]:
    """The Redis at REDIS_URL when it answers, else an embedded one (and its process)."""
    url = url or "redis://localhost:6379/0"
    if redis_answers(url):
        console.say(f"demo: using Redis at {url}")
        return url, None
    url, server = start_embedded_redis()
    console.say(f"demo: no Redis answered; started an embedded one at {url}")
    return url, server


if __name__ == "__main__":
    sys.exit(main())
