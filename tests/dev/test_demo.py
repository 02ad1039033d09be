"""The README's demo command works with no Redis and no PostgreSQL configured.

Runs the real thing: embedded Redis, SQLite, migrations, seed, then web (granian), worker,
stand-in and clock; demo workers complete the weekly check-in with the README's `simulate`
commands, run verbatim as in a second terminal, and over HTTP.
"""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
import requests

from cli.simulate import SmsPhone, http_post
from flows.loader import load_flow
from flows.smstext import to_gsm7
from tests.dev.demo_process import ROOT, demo_environment, start_demo

WHOLE_CHECKIN = "1\n6\n2\n40\n38\n1\n2\n.\n1\n"
SIMULATE = [".venv/bin/flask", "--app", "app", "simulate", "--phone"]
"""The README's simulator command, as a newcomer types it in a second terminal."""


def quiet_hours_away_from(now: datetime) -> str:
    """A two-hour quiet window that starts six hours after `now`."""
    start = (now.hour + 6) % 24
    return f"{start:02d}:00-{(start + 2) % 24:02d}:00"


def second_terminal(demo_env: dict[str, str], phone: str, *args: str, typed: str) -> str:
    """Run the README's simulator as in another terminal: none of the demo's settings (ports,
    AT_API_URL); only where this test's demo leaves its addresses."""
    env = {k: v for k, v in os.environ.items() if k not in ("AT_API_URL", "PORT", "REDIS_URL")}
    env["DEMO_STATE_FILE"] = demo_env["DEMO_STATE_FILE"]
    result = subprocess.run(
        [*SIMULATE, phone, *args],
        cwd=ROOT,
        env=env,
        input=typed,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def bambara_closing() -> str:
    """The flow's Bambara thank-you as an SMS carries it (TRANSLITERATE=bm), read from the flow
    so that a wording review does not break this test."""
    flow = load_flow((ROOT / "flows" / "weekly_qi.yaml").read_text(encoding="utf-8"))
    return to_gsm7(flow.closing["bm"])


@pytest.mark.slow
def test_the_demo_starts_on_embedded_defaults_and_takes_a_checkin(tmp_path):
    env = demo_environment(
        tmp_path,
        # The supervisor's alert is not urgent: keep quiet hours away from now, whatever the hour.
        TIMEZONE="UTC",
        QUIET_HOURS=quiet_hours_away_from(datetime.now(UTC)),
    )
    port = env["PORT"]
    demo = start_demo(env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_for_health(base, demo)
        assert health["database"] == "ok"
        assert health["redis"] == "ok"
        assert health["workers"] >= 1  # the RQ worker reached the embedded Redis

        by_ussd = second_terminal(env, "+22370000011", typed=WHOLE_CHECKIN)
        assert by_ussd.startswith("L'équipe QI s'est réunie cette semaine ?\n1 Oui\n2 Non\n>")
        assert by_ussd.rstrip().endswith("Merci, vos réponses sont enregistrées.")

        # By SMS, through the real RQ worker, the official SDK and the gateway stand-in.
        standin = f"http://127.0.0.1:{env['STANDIN_PORT']}"
        compact = second_terminal(
            env, "+22370000021", "--channel", "sms", typed="QI 2 2 45 40 1 2\n"
        )
        assert compact.splitlines()[1:] == [f"SMS> {bambara_closing()}", "SMS> "]
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

        # The supervisor's commands, as the demo's start-up message shows them.
        detail = second_terminal(
            env, "+22370000001", "--channel", "sms", typed="DETAIL CSCOM-KTD\n"
        )
        assert "CSCOM-KTD" in detail.split("SMS>", 1)[1]
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        output, _ = demo.communicate(timeout=30)
    assert "started an embedded one" in output
    # The admin console's accounts, with this run's password, for a first login.
    printed = re.search(
        r"/admin/ as admin@demo\.ml, or the Kati supervisor kati@demo\.ml; "
        r"password (\S+)",
        output,
    )
    assert printed is not None, output
    assert len(printed.group(1)) >= 10


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
