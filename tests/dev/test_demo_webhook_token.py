"""With WEBHOOK_TOKEN set, the demo's stand-in still reaches the service's webhooks.

The service refuses a webhook without `?token=` (403), so the stand-in's delivery URL in
Procfile.dev must carry the token whenever one is set, and only then.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import requests

from cli.simulate import SmsPhone, http_post
from dev.demo import demo_env, procfile
from tests.dev.demo_process import demo_environment, start_demo

TOKEN = "s3cret-Token_1"


def standin_arguments(**env: str) -> list[str]:
    """The stand-in's Procfile.dev line as the demo's `sh` expands it, one argument a line."""
    expanded = subprocess.run(
        ["sh", "-c", f'printf "%s\\n" {procfile()["standin"]}'],
        env=demo_env({"PATH": os.environ["PATH"], "PORT": "5005", **env}),
        capture_output=True,
        text=True,
        check=True,
    )
    return expanded.stdout.splitlines()


def delivery_url(arguments: list[str]) -> str:
    return arguments[arguments.index("--delivery-url") + 1]


def test_the_standins_delivery_url_carries_the_webhook_token_when_one_is_set():
    with_token = standin_arguments(WEBHOOK_TOKEN=TOKEN)

    assert delivery_url(with_token) == f"http://127.0.0.1:5005/sms/delivery?token={TOKEN}"


def test_without_a_webhook_token_the_delivery_url_has_no_query():
    assert delivery_url(standin_arguments()) == "http://127.0.0.1:5005/sms/delivery"
    assert delivery_url(standin_arguments(WEBHOOK_TOKEN="")) == (
        "http://127.0.0.1:5005/sms/delivery"
    )


@pytest.mark.slow
def test_a_demo_with_a_webhook_token_gets_its_delivery_reports(tmp_path):
    env = demo_environment(tmp_path, WEBHOOK_TOKEN=TOKEN)
    demo = start_demo(env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{env['PORT']}"
    standin = f"http://127.0.0.1:{env['STANDIN_PORT']}"
    try:
        wait_until(lambda: requests.get(f"{base}/healthz", timeout=1).json()["workers"])
        phone = SmsPhone(http_post(base, TOKEN), "+22370000021", standin)
        assert phone.send("AIDE")[0] == 200
        assert phone.replies(wait=30) != []

        def reported() -> list[str | None]:
            messages = requests.get(
                f"{standin}/_standin/messages", params={"to": phone.phone}, timeout=5
            ).json()["messages"]
            return [m["delivery_status"] for m in messages]

        # The stand-in marks a message delivered once the service acknowledged its report.
        wait_until(lambda: set(reported()) == {"Success"}, timeout=15)
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=30)


def wait_until(condition, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (requests.ConnectionError, ValueError):
            pass
        time.sleep(0.3)
    pytest.fail("not reached in time")
