"""Helpers for tests that run the real demo (`python -m dev.demo`) in a subprocess.

Each demo gets free ports, an unreachable REDIS_URL (so it embeds a Redis of its own), a SQLite
file and a state file in the test's folder: it never meets a developer's demo or another test's.
The process table is read from /proc, so that a test can tell which processes a demo started
and whether any of them outlived it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = [sys.executable, "-m", "dev.demo"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def demo_environment(folder: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PORT": str(free_port()),
        "STANDIN_PORT": str(free_port()),
        "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens there: the demo must embed one
        "DATABASE_URL": f"sqlite:///{folder / 'demo.sqlite3'}",
        "DEMO_STATE_FILE": str(folder / "demo.json"),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        **extra,
    }


def start_demo(env: dict[str, str], **streams: object) -> subprocess.Popen:
    """The demo in a session of its own: its process group is what a terminal's Ctrl-C signals."""
    return subprocess.Popen(DEMO, cwd=ROOT, env=env, start_new_session=True, **streams)


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgrp: int
    started: int
    """Clock ticks after boot: tells a process from a later one that got its pid."""
    command: str


def process_table() -> dict[int, Proc]:
    """Every live process (zombies, which are dead and only wait to be reaped, left out)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:  # it ended while we looked
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z":
            continue
        pid = int(entry.name)
        table[pid] = Proc(pid, int(fields[1]), int(fields[2]), int(fields[19]), command)
    return table


def descendants(pid: int) -> list[Proc]:
    table = process_table()
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p in table.values() if p.ppid == parent]
        found += children
        frontier += [c.pid for c in children]
    return found


def still_running(processes: list[Proc]) -> list[Proc]:
    """Which of `processes` still run (the same processes, not later ones given their pids)."""
    table = process_table()
    return [p for p in processes if p.pid in table and table[p.pid].started == p.started]


def survivors(processes: list[Proc], group: int) -> list[Proc]:
    """Which of `processes` still run, and any process still in process group `group`."""
    alive = still_running(processes)
    return alive + [p for p in process_table().values() if p.pgrp == group and p not in alive]


def kill_tree(demo: subprocess.Popen, started: list[Proc]) -> None:
    """SIGKILL a demo and what it started, whatever went wrong in the test: its descendants
    while it runs, and those of `started` that outlived it."""
    running = demo.poll() is None
    for proc in still_running([*descendants(demo.pid), *started] if running else started):
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
    if running:
        demo.kill()
        demo.wait()
