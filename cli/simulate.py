"""`flask simulate --phone NUMBER`: a basic phone in the terminal, talking to the real webhook.

It posts exactly what the gateway would (form fields, the cumulative `text`), so what you see
is what a health worker's phone would show. With no `--url` it talks to the running `bin/demo`
(which writes its addresses to instance/demo.json: dev/demo_state.py), so the README's commands
work as written whatever ports the demo took.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import click
import requests
from flask import current_app

from dev.demo_state import DemoState, read_state

DEFAULT_URL = "http://127.0.0.1:5000"

Post = Callable[[str, dict[str, str]], tuple[int, str]]
"""(path, form) -> (HTTP status, body): over HTTP in the simulator, the test client in tests."""


@dataclass
class UssdDial:
    """One USSD session as the gateway runs it: each input is appended to `text` with `*`."""

    post: Post
    phone: str
    service_code: str = "*384*1#"
    session_id: str = field(default_factory=lambda: f"SIM{uuid.uuid4().hex}")
    inputs: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "*".join(self.inputs)

    def start(self) -> tuple[int, str]:
        return self.resend()

    def send(self, entry: str) -> tuple[int, str]:
        self.inputs.append(entry)
        return self.resend()

    def resend(self) -> tuple[int, str]:
        """Post the current `text` (again, as the gateway does when it retries a step)."""
        form = {
            "sessionId": self.session_id,
            "serviceCode": self.service_code,
            "phoneNumber": self.phone,
            "networkCode": "99999",
            "text": self.text,
        }
        return self.post("/ussd", form)


def http_post(base_url: str, token: str | None) -> Post:
    def post(path: str, form: dict[str, str]) -> tuple[int, str]:
        params = {"token": token} if token else {}
        try:
            response = requests.post(
                base_url.rstrip("/") + path, data=form, params=params, timeout=15
            )
        except requests.ConnectionError as exc:
            raise click.ClickException(
                f"cannot reach the service at {base_url}: is it running?"
            ) from exc
        return response.status_code, response.text

    return post


@dataclass
class SmsPhone:
    """A phone texting the service: posts what the gateway would, reads what the stand-in got.

    Replies travel the real path (outbox, RQ worker, SDK), so they are read back from the
    gateway stand-in, as the phone would receive them.
    """

    post: Post
    phone: str
    standin_url: str
    seen: int = 0

    def __post_init__(self) -> None:
        self.seen = len(self._received())

    def send(self, text: str) -> tuple[int, str]:
        form = {
            "from": self.phone,
            "to": "QI",
            "text": text,
            "date": "",
            "id": f"SIM{uuid.uuid4().hex}",
            "networkCode": "99999",
        }
        return self.post("/sms/incoming", form)

    def replies(self, wait: float = 15.0) -> list[str]:
        """Messages that arrived since the last call, waiting up to `wait` s for the first."""
        deadline = time.monotonic() + wait
        while True:
            received = self._received()
            if len(received) > self.seen or time.monotonic() > deadline:
                new, self.seen = received[self.seen :], len(received)
                return [m["text"] for m in new]
            time.sleep(0.2)

    def _received(self) -> list[dict]:
        url = f"{self.standin_url}/_standin/messages"
        try:
            response = requests.get(url, params={"to": self.phone}, timeout=5)
        except requests.ConnectionError as exc:
            raise click.ClickException(
                f"cannot reach the gateway stand-in at {self.standin_url}: is it running?"
            ) from exc
        return response.json()["messages"]


def standin_root(demo: DemoState | None, api_url: str | None) -> str:
    """Where the SMS the service sent can be read back: the running demo's stand-in, else the
    stand-in AT_API_URL names.

    The demo's comes first: the replies come from the service the simulator talks to, which
    sends through the demo's stand-in whatever AT_API_URL this terminal happens to hold.
    """
    if demo is not None:
        return demo.standin_url
    if not api_url:
        raise click.ClickException(
            "no gateway stand-in to read the replies from: start bin/demo in another terminal,"
            " or set AT_API_URL to a stand-in's /version1 URL"
        )
    return api_url.rstrip("/").removesuffix("/version1")


@click.command("simulate")
@click.option("--phone", required=True, help="The worker's phone number, e.g. +22370000011.")
@click.option("--channel", type=click.Choice(["ussd", "sms"]), default="ussd", show_default=True)
@click.option("--url", help=f"The service [default: the running bin/demo's, else {DEFAULT_URL}].")
def simulate_command(phone: str, channel: str, url: str | None) -> None:
    """Be PHONE: walk a check-in by USSD, or text the service by SMS (Ctrl-D to stop)."""
    settings = current_app.config["SETTINGS"]
    demo = read_state()
    url = url or (demo.web_url if demo else DEFAULT_URL)
    post = http_post(url, settings.webhook_token)
    if channel == "sms":
        _sms_loop(SmsPhone(post, phone, standin_root(demo, settings.at_api_url)))
    else:
        _ussd_loop(UssdDial(post, phone))


def _ussd_loop(dial: UssdDial) -> None:
    status, body = dial.start()
    while True:
        if status != 200:
            raise click.ClickException(f"the service answered HTTP {status}: {body.strip()}")
        kind, _, screen = body.partition(" ")
        click.echo(click.style(screen, fg="cyan" if kind == "CON" else "green"))
        if kind != "CON":
            return
        status, body = dial.send(click.prompt(">", default="", show_default=False))


def _sms_loop(phone: SmsPhone) -> None:
    click.echo("Type an SMS (QI to start, AIDE for help); Ctrl-D to stop.")
    while True:
        try:
            text = click.prompt("SMS>", prompt_suffix=" ")
        except click.Abort:
            return
        status, body = phone.send(text)
        if status != 200:
            raise click.ClickException(f"the service answered HTTP {status}: {body.strip()}")
        for reply in phone.replies():
            click.echo(click.style(reply, fg="cyan"))


COMMANDS = [simulate_command]
