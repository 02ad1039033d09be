"""Who may open what, route by route, generated from the app's URL map: a route under /admin
that has no rule here fails the first test, so no page goes out without its access decided.

The rules:
- anonymous: the login page (and the stylesheet) only; anything else redirects to the login page;
- admin: everything (200, or the redirect a form answers with);
- supervisor and regional viewer: every page but the admins' (403), and a page naming a district
  or a facility only within their scope (403 outside it); they read only: a POST that is not
  theirs is refused (403);
- every POST without the session's CSRF token, or with a wrong one, is refused with 400;
- every POST that changes data writes exactly one audit row, and a GET none but a download
  of health data (who took what).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask_login import login_user
from werkzeug.exceptions import Forbidden

from admin.access import viewers_read_only
from models import Account, AuditEntry, db
from tests.admin.conftest import (
    ADMIN,
    PEOPLE,
    REGIONAL,
    SUPERVISOR,
    csrf_token,
    new_client,
)
from tests.admin.rules import SCOPED, all_rules

RULES = all_rules()


def admin_routes(app: Flask):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")]


def url(app: Flask, rule, role: str, region: dict[str, int], inside: bool = True) -> str:
    spec = RULES[rule.endpoint]
    values = spec.url_values(region) if callable(spec.url_values) else dict(spec.url_values)
    for argument in rule.arguments & SCOPED.keys():
        values[argument] = region[SCOPED[argument][0 if inside else 1][role]]
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def scoped(rule) -> bool:
    return bool(rule.arguments & SCOPED.keys())


def test_every_console_route_has_an_access_rule(app, region):
    endpoints = {rule.endpoint for rule in admin_routes(app)}
    assert endpoints == set(RULES), "each route under /admin needs a rule in RULES"
    for rule in admin_routes(app):
        spec = RULES[rule.endpoint]
        given = spec.url_values(region) if callable(spec.url_values) else spec.url_values
        unknown = rule.arguments - SCOPED.keys() - given.keys()
        assert not unknown, f"{rule.endpoint}: give {unknown} in SCOPED or the rule's url_values"


def test_an_anonymous_visitor_reaches_only_the_login_page(app, region):
    failures = []
    for rule in admin_routes(app):
        path = url(app, rule, "admin", region)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = new_client(app).open(path, method=method)
            location = response.headers.get("Location", "")
            if RULES[rule.endpoint].public:
                ok = method == "POST" or response.status_code == 200
            else:
                ok = response.status_code == 302 and location.startswith("/admin/login")
            if not ok:
                failures.append(f"{method} {path}: {response.status_code} {location}")
    assert failures == []


@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p.role)
def test_each_role_gets_its_pages_and_nothing_outside_its_scope(app, signed_in, region, person):
    client = signed_in(person)
    failures = []
    for rule in admin_routes(app):
        spec = RULES[rule.endpoint]
        if "GET" not in rule.methods or spec.public:
            continue
        expected = spec.get_status if person.role in spec.roles else 403
        got = client.get(url(app, rule, person.role, region)).status_code
        if got != expected:
            failures.append(f"{rule.endpoint} inside: {got}, expected {expected}")
        if scoped(rule) and person.role != "admin":
            got = client.get(url(app, rule, person.role, region, inside=False)).status_code
            if got != 403:
                failures.append(f"{rule.endpoint} outside: {got}, expected 403")
    assert failures == []


@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p.role)
def test_each_role_may_post_only_what_its_rule_allows(app, signed_in, region, person):
    """Viewers read only: a POST that is not theirs is refused before it is read."""
    failures = []
    for rule in _post_routes(app):
        spec = RULES[rule.endpoint]
        if spec.public:
            continue
        client = signed_in(person)  # a fresh session each time: a POST may sign out
        form = {**spec.form(), "csrf_token": csrf_token(client, "/admin/")}
        expected = spec.post_status if person.role in spec.roles else 403
        got = client.post(url(app, rule, person.role, region), data=form).status_code
        if got != expected:
            failures.append(f"POST {rule.endpoint}: {got}, expected {expected}")
    assert failures == []


def _post_routes(app: Flask):
    return [rule for rule in admin_routes(app) if "POST" in rule.methods]


@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_every_post_without_the_right_csrf_token_is_refused(app, signed_in, region, token):
    failures = []
    for rule in _post_routes(app):
        spec = RULES[rule.endpoint]
        client = new_client(app) if spec.public else signed_in(ADMIN)
        form = spec.form()
        if token == "wrong":
            form["csrf_token"] = csrf_token(new_client(app))  # a real token, of another session
        response = client.post(url(app, rule, "admin", region), data=form)
        if response.status_code != 400:
            failures.append(f"{rule.endpoint}: {response.status_code}")
    assert failures == []


def test_every_post_writes_one_audit_row_and_pages_none(app, signed_in, region):
    failures = []
    for rule in admin_routes(app):
        spec = RULES[rule.endpoint]
        client = new_client(app) if spec.public else signed_in(ADMIN)
        path = url(app, rule, "admin", region)
        page = "/admin/login" if spec.public else "/admin/"
        token = csrf_token(client, page)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            before = _audit_rows()
            if method == "POST":
                response = client.post(path, data={**spec.form(), "csrf_token": token})
                written = spec.audit_rows
            else:
                response = client.get(path)
                response.get_data()  # a streamed download runs its query now
                written = spec.get_audit_rows
            expected = spec.post_status if method == "POST" else spec.get_status
            if response.status_code != expected or _audit_rows() - before != written:
                failures.append(
                    f"{method} {path}: {response.status_code}, {_audit_rows() - before} rows"
                )
    assert failures == []


def _audit_rows() -> int:
    db.session.commit()
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))


def test_the_audit_page_shows_who_did_what(signed_in):
    page = signed_in(ADMIN).get("/admin/audit").get_data(as_text=True)
    assert "account.create" in page
    assert "login" in page
    assert SUPERVISOR.email in page and REGIONAL.email in page
    assert "scrypt:" not in page  # the audit log never holds a password hash


@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p.role)
def test_a_future_form_is_the_admins_unless_viewers_are_allowed_it(app, region, person):
    """The guard every POST passes, tried on a URL no route serves yet."""
    account = db.session.scalar(sa.select(Account).where(Account.email == person.email))
    with app.test_request_context("/admin/flows/publish", method="POST"):
        login_user(account)
        if person.role == "admin":
            assert viewers_read_only() is None
        else:
            with pytest.raises(Forbidden):
                viewers_read_only()
