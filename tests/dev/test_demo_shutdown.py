"""The demo stops every process it started, quietly, however it is stopped.

Browserless and terminal-free: the real `python -m dev.demo` runs in a session of its own (so
its process group is what a terminal's Ctrl-C would signal), its stdout either a pseudo-terminal
or a pipe into a real `tee`. Once it is ready, the test stops it as a person would (Ctrl-C is
SIGINT to the group; a closed terminal is SIGHUP; `kill` is SIGTERM; Ctrl-C on `bin/demo | tee`
also ends tee, closing the demo's stdout) and checks that nothing it started survives and that
no traceback was printed.
"""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.dev.demo_process import (
    Proc,
    demo_environment,
    descendants,
    kill_tree,
    start_demo,
    survivors,
)

READY = "demo: ready"
EXPECTED = ["granian", "rq worker", "dev.standin", "app clock", "redis-server"]
"""What a ready demo runs: web (granian), the RQ worker, the stand-in, the clock, Redis."""


@dataclass
class RunningDemo:
    process: subprocess.Popen
    output: Callable[[], str]
    """Everything the demo printed so far (stdout and stderr)."""
    folder: Path
    """The test's folder: the demo's database, its state file and the logs."""
    extra: list[subprocess.Popen] = field(default_factory=list)
    started: list[Proc] = field(default_factory=list)
    """What the demo had started, once `note_what_it_started` looked."""

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while READY not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the demo did not become ready:\n{self.output()}")
            time.sleep(0.2)

    def children(self) -> list[Proc]:
        """What the demo started, once all of it runs (Redis, the four processes, their own)."""
        deadline = time.monotonic() + 20
        while True:
            found = descendants(self.process.pid)
            commands = " ".join(p.command for p in found)
            if all(name in commands for name in EXPECTED) or time.monotonic() > deadline:
                return found
            time.sleep(0.2)


def in_a_terminal(env: dict[str, str], folder: Path) -> RunningDemo:
    """stdout and stderr on a pseudo-terminal, read as a terminal window would."""
    controller, terminal = pty.openpty()
    process = start_demo(env, stdout=terminal, stderr=terminal)
    os.close(terminal)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: no process holds the terminal any more
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(controller)

    threading.Thread(target=read, daemon=True).start()
    return RunningDemo(process, lambda: b"".join(chunks).decode(errors="replace"), folder)


def piped_through_tee(env: dict[str, str], folder: Path) -> RunningDemo:
    """`python -m dev.demo | tee demo.log`, stderr in a file of its own."""
    log, errors = folder / "tee.log", folder / "stderr.log"
    with errors.open("wb") as stderr:
        process = start_demo(env, stdout=subprocess.PIPE, stderr=stderr)
    with log.open("wb") as teed:
        tee = subprocess.Popen(["tee"], stdin=process.stdout, stdout=teed)
    process.stdout.close()  # only tee reads the pipe now: when tee ends, nobody does

    def output() -> str:
        return log.read_text(errors="replace") + errors.read_text(errors="replace")

    return RunningDemo(process, output, folder, [tee])


Launch = Callable[[dict[str, str], Path], RunningDemo]


@pytest.fixture
def start(tmp_path) -> Iterator[Callable[..., RunningDemo]]:
    """Start a demo `how` (in a terminal, through tee), ready unless told not to wait; whatever
    the test's outcome, nothing of it outlives the test."""
    demos: list[RunningDemo] = []

    def launch(how: Launch, ready: bool = True) -> RunningDemo:
        demo = how(demo_environment(tmp_path), tmp_path)
        demos.append(demo)
        if ready:
            demo.wait_ready()
        return demo

    yield launch
    for demo in demos:
        kill_tree(demo.process, demo.started)
        for extra in demo.extra:
            extra.kill()


def assert_stopped_cleanly(demo: RunningDemo) -> None:
    try:
        demo.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the demo did not stop:\n{demo.output()}")
    for extra in demo.extra:
        extra.wait(timeout=5)
    time.sleep(0.5)  # the terminal reader's last read
    left = survivors(demo.started, group=demo.process.pid)
    assert left == []
    output = demo.output()
    assert "Traceback" not in output
    assert "KeyboardInterrupt" not in output
    assert output.rstrip().endswith("demo: stopped")
    assert not (demo.folder / "demo.json").exists()  # the simulator no longer finds this demo


def note_what_it_started(demo: RunningDemo) -> None:
    demo.started = demo.children()
    commands = " ".join(p.command for p in demo.started)
    assert [name for name in EXPECTED if name not in commands] == []


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_in_a_terminal_any_stop_signal_stops_everything_quietly(start, signum):
    demo = start(in_a_terminal)
    note_what_it_started(demo)
    os.killpg(demo.process.pid, signum)
    assert_stopped_cleanly(demo)


@pytest.mark.slow
def test_ctrl_c_on_the_demo_piped_through_tee_stops_everything(start):
    demo = start(piped_through_tee)
    note_what_it_started(demo)
    tee = demo.extra[0]
    # The terminal's Ctrl-C ends tee and signals the demo. tee is ended with SIGTERM here: a
    # test run in the background has SIGINT ignored, and tee would inherit that.
    tee.terminate()
    tee.wait(timeout=5)
    os.killpg(demo.process.pid, signal.SIGINT)
    assert_stopped_cleanly(demo)


@pytest.mark.slow
def test_the_demo_stops_when_the_reader_of_its_output_goes_away(start):
    """`bin/demo | head`, or a tee killed on its own: no signal reaches the demo."""
    demo = start(piped_through_tee)
    note_what_it_started(demo)
    demo.extra[0].kill()
    assert_stopped_cleanly(demo)


@pytest.mark.slow
def test_ctrl_c_while_the_demo_starts_stops_everything(start):
    """Before the web answers: granian loses a SIGTERM that comes while its worker starts."""
    demo = start(in_a_terminal, ready=False)
    note_what_it_started(demo)
    os.killpg(demo.process.pid, signal.SIGINT)
    assert_stopped_cleanly(demo)
