"""`flask simulate --phone NUMBER`: a basic phone in the terminal, talking to the real webhook.

It posts exactly what the gateway would (form fields, the cumulative `text`), so what you see
is what a health worker's phone would show.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import click
import requests
from flask import current_app

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
        return self._post()

    def send(self, entry: str) -> tuple[int, str]:
        self.inputs.append(entry)
        return self._post()

    def _post(self) -> tuple[int, str]:
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
        response = requests.post(base_url.rstrip("/") + path, data=form, params=params, timeout=15)
        return response.status_code, response.text

    return post


@click.command("simulate")
@click.option("--phone", required=True, help="The worker's phone number, e.g. +22370000011.")
@click.option("--channel", type=click.Choice(["ussd", "sms"]), default="ussd", show_default=True)
@click.option("--url", default="http://127.0.0.1:5000", show_default=True, help="The service.")
def simulate_command(phone: str, channel: str, url: str) -> None:
    """Walk a check-in as PHONE would, by USSD, against the running service."""
    if channel != "ussd":
        raise click.ClickException("the SMS simulator is not built yet; use --channel ussd")
    dial = UssdDial(http_post(url, current_app.config["SETTINGS"].webhook_token), phone)
    status, body = dial.start()
    while True:
        if status != 200:
            raise click.ClickException(f"the service answered HTTP {status}: {body.strip()}")
        kind, _, screen = body.partition(" ")
        click.echo(click.style(screen, fg="cyan" if kind == "CON" else "green"))
        if kind != "CON":
            return
        status, body = dial.send(click.prompt(">", default="", show_default=False))


COMMANDS = [simulate_command]
