"""The admin console's fixtures: the demo region, one account per role, and signed-in clients.

Accounts are made the way an operator makes them, with `create-admin`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from models import Facility, db
from tests.conftest import SeparateProcessClient
from tests.supervision.districts import seed_districts

PASSWORD = "un mot de passe assez long"
CSRF_FIELD = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


@dataclass(frozen=True)
class Person:
    email: str
    role: str
    facility: str | None


ADMIN = Person("admin@example.org", "admin", None)
SUPERVISOR = Person("awa@example.org", "supervisor", "CSREF-KATI")
"""The supervisor of Kati's district (CSCOM-MLB, CSCOM-KTD, CSCOM-SNB)."""
REGIONAL = Person("seydou@example.org", "regional", "REG-KKR")
"""The regional viewer of Koulikoro: the districts of Kati and Koulikoro, not Ségou's (SGU)."""
PEOPLE = (ADMIN, SUPERVISOR, REGIONAL)


def create_admin(app: Flask, person: Person, password: str = PASSWORD):
    """Run `flask create-admin` for `person`, the password on standard input."""
    args = ["create-admin", person.email, "--role", person.role, "--password-stdin"]
    if person.facility:
        args += ["--facility", person.facility]
    return app.test_cli_runner().invoke(args=args, input=f"{password}\n")


class ServerClient(SeparateProcessClient):
    """A browser's view of the app: each request in an app context of its own, as a server runs it.

    The tests hold an app context open, and Flask would serve every request inside it, sharing
    `g` between requests: Flask-Login keeps the signed-in account there and Flask-WTF the CSRF
    token, so one client's login would leak into another's requests.
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


def new_client(app: Flask) -> FlaskClient:
    return ServerClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return new_client(app)


@pytest.fixture
def region(app: Flask) -> dict[str, int]:
    """The demo region, the region of Ségou nobody in the demo sees (tests/supervision), and one
    account per role. Returns facility ids by code."""
    seed_districts()
    for person in PEOPLE:
        result = create_admin(app, person)
        assert result.exit_code == 0, result.output
    return {code: id_ for code, id_ in db.session.execute(sa.select(Facility.code, Facility.id))}


def csrf_token(client: FlaskClient, path: str = "/admin/login") -> str:
    """The CSRF token a page's form carries, read as a browser would get it."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_FIELD.search(page)
    assert match, f"no CSRF token in {path}"
    return match.group(1) or match.group(2)


def page_text(response) -> str:
    """The response's text as a reader sees it (entities such as &#39; decoded)."""
    return html.unescape(response.get_data(as_text=True))


def log_in(client: FlaskClient, email: str, password: str = PASSWORD, **kwargs):
    token = csrf_token(client)
    form = {"email": email, "password": password, "csrf_token": token}
    return client.post("/admin/login", data=form, **kwargs)


@pytest.fixture
def signed_in(app: Flask, region) -> Callable[[Person], FlaskClient]:
    """A client signed in as `person` (through the login form)."""

    def sign_in(person: Person) -> FlaskClient:
        client = new_client(app)
        response = log_in(client, person.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in
