"""`flask simulate`: a terminal phone against the real webhook, over HTTP."""

from __future__ import annotations

import os
import subprocess

import pytest

from dev.demo_state import DemoState, write_state
from dev.standin import serve_in_thread
from services.demo import seed_demo

WHOLE_CHECKIN = "1\n6\n2\n40\n38\n1\n2\n.\n1\n"


@pytest.fixture(autouse=True)
def demo_state_file(tmp_path, monkeypatch):
    """Where a running demo would leave its addresses: empty unless a test writes one."""
    path = tmp_path / "demo.json"
    monkeypatch.setenv("DEMO_STATE_FILE", str(path))
    return path


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_worker_walks_the_checkin_by_ussd_in_the_terminal(app):
    seed_demo()
    with serve_in_thread(app) as server:
        result = app.test_cli_runner().invoke(
            args=["simulate", "--phone", "+22370000011", "--url", server.url],
            input=WHOLE_CHECKIN,
        )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("L'équipe QI s'est réunie cette semaine ?\n1 Oui\n2 Non\n>")
    assert result.output.rstrip().endswith("Merci, vos réponses sont enregistrées.")


def test_an_unreachable_service_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(
        args=["simulate", "--phone", "+22370000011", "--url", "http://127.0.0.1:9"]
    )
    assert result.exit_code != 0
    assert "cannot reach the service at http://127.0.0.1:9" in result.output


def test_with_no_url_the_simulator_talks_to_the_running_demo(app):
    seed_demo()
    with serve_in_thread(app) as server:
        write_state(
            DemoState(web_url=server.url, standin_url="http://127.0.0.1:9", pid=os.getpid())
        )
        result = app.test_cli_runner().invoke(
            args=["simulate", "--phone", "+22370000011"], input=WHOLE_CHECKIN
        )
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("Merci, vos réponses sont enregistrées.")


def test_the_sms_simulator_reads_replies_from_the_demos_standin(app):
    """The demo's stand-in, not AT_API_URL's: the service the simulator talks to sends there."""
    write_state(DemoState("http://127.0.0.1:9", "http://127.0.0.1:7", pid=os.getpid()))
    result = app.test_cli_runner().invoke(
        args=["simulate", "--phone", "+22370000021", "--channel", "sms"]
    )
    assert result.exit_code != 0
    assert "cannot reach the gateway stand-in at http://127.0.0.1:7" in result.output


def test_with_no_demo_running_the_sms_simulator_says_what_to_start(app):
    write_state(DemoState("http://127.0.0.1:9", "http://127.0.0.1:7", pid=dead_pid()))
    result = app.test_cli_runner().invoke(
        args=["simulate", "--phone", "+22370000021", "--channel", "sms"]
    )
    assert result.exit_code != 0
    assert "start bin/demo in another terminal" in result.output
    assert "set AT_API_URL" in result.output
