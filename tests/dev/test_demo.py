"""The README's demo command works with no Redis and no PostgreSQL configured.

Runs the real thing: embedded Redis, SQLite, migrations, seed, then web (granian), worker and
clock under honcho; a demo worker completes the weekly check-in over HTTP.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from cli.simulate import SmsPhone, UssdDial, http_post

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def quiet_hours_away_from(now: datetime) -> str:
    """A two-hour quiet window that starts six hours after `now`."""
    start = (now.hour + 6) % 24
    return f"{start:02d}:00-{(start + 2) % 24:02d}:00"


@pytest.mark.slow
def test_the_demo_starts_on_embedded_defaults_and_takes_a_checkin(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "STANDIN_PORT": str(free_port()),
        "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens there: the demo must embed one
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        # The supervisor's alert is not urgent: keep quiet hours away from now, whatever the hour.
        "TIMEZONE": "UTC",
        "QUIET_HOURS": quiet_hours_away_from(datetime.now(UTC)),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    demo = subprocess.Popen(
        [sys.executable, "-m", "dev.demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_for_health(base, demo)
        assert health["database"] == "ok"
        assert health["redis"] == "ok"
        assert health["workers"] >= 1  # the RQ worker reached the embedded Redis

        dial = UssdDial(http_post(base, None), "+22370000011")
        status, body = dial.start()
        assert (status, body.split("\n")[0]) == (
            200,
            "CON L'équipe QI s'est réunie cette semaine ?",
        )
        for entry in ["1", "6", "2", "40", "38", "1", "2", ".", "1"]:
            status, body = dial.send(entry)
        assert (status, body) == (200, "END Merci, vos réponses sont enregistrées.")

        # By SMS, through the real RQ worker, the official SDK and the gateway stand-in.
        standin = f"http://127.0.0.1:{env['STANDIN_PORT']}"
        compact = SmsPhone(http_post(base, None), "+22370000021", standin)
        assert compact.send("QI 2 2 45 40 1 2")[0] == 200
        assert compact.replies() == ["I ni ce, aw ka jaabiw sèbènna."]
        talk = SmsPhone(http_post(base, None), "+22370000031", standin)
        talk.send("qi")
        assert talk.replies() == ["L'équipe QI s'est réunie cette semaine ?\n1 Oui\n2 Non"]
        for entry in ["1", "6", "2", "40", "38", "1", "2", "."]:
            talk.send(entry)
            assert len(talk.replies()) == 1
        talk.send("1")
        assert talk.replies() == ["Merci, vos réponses sont enregistrées."]
        exported = wait_for_delivery(env)
        outbound = [row for row in exported if row["direction"] == "out"]
        invitations = [
            r for r in outbound if "ouvert: composez" in r["text"] or "dayèlèla" in r["text"]
        ]
        assert len(outbound) == 12 + len(
            invitations
        )  # 11 replies, the alert, the clock's invitations
        alerts = [r for r in outbound if "pas de réunion" in r["text"]]
        assert len(alerts) == 1  # the supervisor's alert (met: no)
        assert {row["status"] for row in outbound} == {"success"}
        received = requests.get(f"{standin}/_standin/messages", timeout=5).json()["messages"]
        assert sorted(m["id"] for m in received) == sorted(r["gateway_id"] for r in outbound)
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        output, _ = demo.communicate(timeout=30)
    assert "started an embedded one" in output


def wait_for_health(base: str, demo: subprocess.Popen, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if demo.poll() is not None:
            pytest.fail(f"the demo exited early:\n{demo.stdout.read()}")
        try:
            report = requests.get(f"{base}/healthz", timeout=1).json()
            if report["workers"]:
                return report
        except (requests.ConnectionError, ValueError):
            pass
        time.sleep(0.3)
    pytest.fail("the demo did not become healthy in time")


def wait_for_delivery(env: dict[str, str], timeout: float = 30) -> list[dict[str, str]]:
    """`flask export messages` once the stand-in's delivery reports have all come back."""
    deadline = time.monotonic() + timeout
    while True:
        output = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "export", "messages"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rows = list(csv.DictReader(io.StringIO(output)))
        pending = [r for r in rows if r["direction"] == "out" and r["status"] != "success"]
        if not pending or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)
