"""Where a running demo tells the simulator its addresses: `instance/demo.json`.

`bin/demo` serves on PORT (default 5000) and runs the gateway stand-in on STANDIN_PORT (default
8765), in its own environment. The simulator runs in a second terminal whose environment knows
neither, so the demo writes both URLs here while it runs and removes the file when it stops;
the README's `simulate` commands then work as written whatever ports the demo took.

`DEMO_STATE_FILE` moves the file (tests, so that their demos never touch a developer's).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from config import INSTANCE


@dataclass(frozen=True)
class DemoState:
    web_url: str
    """The service the gateway would call, e.g. http://127.0.0.1:5000."""
    standin_url: str
    """The gateway stand-in's root, where the SMS the service sent can be read back."""
    pid: int
    """The demo's process: a file left by a demo that no longer runs is ignored."""


def state_path() -> Path:
    return Path(os.environ.get("DEMO_STATE_FILE") or INSTANCE / "demo.json")


def write_state(state: DemoState) -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(state)), encoding="utf-8")


def read_state() -> DemoState | None:
    """The running demo's addresses, or None when no demo runs (no file, or a stale one)."""
    try:
        state = DemoState(**json.loads(state_path().read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    return state if _running(state.pid) else None


def remove_state(pid: int) -> None:
    """Remove the file if this demo wrote it (a second demo started since owns it then)."""
    path = state_path()
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True
