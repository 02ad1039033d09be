"""Signing in and out: hashed passwords, the session cookie's flags, the throttle of failed
logins (in Redis, per email and per address), and the security headers."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from admin.throttle import ADDRESS_LIMIT, EMAIL_LIMIT, LoginThrottle
from app import create_app
from config import Settings
from models import Account, AuditEntry, db
from tests.admin.conftest import (
    ADMIN,
    PASSWORD,
    SUPERVISOR,
    csrf_token,
    log_in,
    new_client,
    page_text,
)
from tests.conftest import REDIS_URL
from workers.queues import connect


def test_an_anonymous_visitor_of_the_console_is_sent_to_the_login_page(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


def test_signing_in_leads_to_the_roll_up_and_records_who(app, region):
    client = new_client(app)
    response = log_in(client, "  Admin@Example.org ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    page = page_text(client.get("/admin/"))
    assert "Achèvement des rapports" in page
    assert ADMIN.email in page
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "login")).one()
    assert entry.actor == ADMIN.email


def test_the_password_is_stored_hashed(app, region):
    account = db.session.scalars(sa.select(Account).where(Account.email == ADMIN.email)).one()
    assert PASSWORD not in account.password_hash
    assert account.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_the_session_cookie_is_httponly_samesite_lax_and_secure_over_https(app, region):
    plain = log_in(new_client(app), ADMIN.email).headers["Set-Cookie"]
    assert "HttpOnly" in plain
    assert "SameSite=Lax" in plain
    assert "Path=/admin" in plain
    assert "Secure" not in plain
    https = new_client(app).get("/admin/login", base_url="https://localhost")
    assert "Secure" in https.headers["Set-Cookie"]


def test_a_wrong_password_says_so_without_telling_which_part_was_wrong(app, region):
    wrong = log_in(new_client(app), ADMIN.email, "pas le bon mot de passe")
    unknown = log_in(new_client(app), "personne@example.org")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Adresse e-mail ou mot de passe incorrect." in page_text(response)


def test_after_five_failures_the_email_is_refused_even_with_the_right_password(app, region):
    for _ in range(EMAIL_LIMIT):
        assert log_in(new_client(app), ADMIN.email, "devine").status_code == 401
    # A fresh client (another browser, another web process) meets the same count in Redis.
    blocked = log_in(new_client(app), ADMIN.email)
    assert blocked.status_code == 429
    assert "Trop d'essais manqués. Réessayez dans 15 minute(s)." in page_text(blocked)
    # Other people are not locked out by it.
    assert log_in(new_client(app), SUPERVISOR.email).status_code == 302


def test_a_success_clears_the_email_count(app, region, redis):
    for _ in range(EMAIL_LIMIT - 1):
        log_in(new_client(app), ADMIN.email, "devine")
    assert log_in(new_client(app), ADMIN.email).status_code == 302
    for _ in range(EMAIL_LIMIT - 1):
        log_in(new_client(app), ADMIN.email, "devine")
    assert log_in(new_client(app), ADMIN.email).status_code == 302


def test_one_address_guessing_many_emails_is_refused_and_others_are_not(app, region, redis):
    guesser = "198.51.100.7"
    throttle = LoginThrottle(redis)
    for n in range(ADDRESS_LIMIT - 1):
        throttle.failed(f"inconnu{n}@example.org", guesser)
    client = new_client(app)
    client.environ_base["REMOTE_ADDR"] = guesser
    assert log_in(client, "encore@example.org", "devine").status_code == 401
    assert log_in(client, ADMIN.email).status_code == 429
    elsewhere = new_client(app)
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert log_in(elsewhere, ADMIN.email).status_code == 302


def test_with_redis_down_logins_are_refused_with_a_clear_message(app, region):
    real = app.extensions["redis"]
    app.extensions["redis"] = connect("redis://127.0.0.1:9/0")  # nothing listens there
    try:
        response = log_in(new_client(app), ADMIN.email)
    finally:
        app.extensions["redis"] = real
    assert response.status_code == 503
    assert "le compteur d'essais ne répond pas" in page_text(response)


def test_a_signed_in_person_stays_signed_in_while_redis_is_down(signed_in, app):
    client = signed_in(ADMIN)
    real = app.extensions["redis"]
    app.extensions["redis"] = connect("redis://127.0.0.1:9/0")
    try:
        assert client.get("/admin/").status_code == 200
    finally:
        app.extensions["redis"] = real


def test_login_goes_back_to_the_page_asked_for_but_never_to_another_site(app, region):
    client = new_client(app)
    asked = log_in(client, ADMIN.email, query_string={"next": "/admin/audit"})
    assert asked.headers["Location"] == "/admin/audit"
    for elsewhere in ("https://evil.example/admin/", "//evil.example/admin/", "/healthz"):
        response = log_in(new_client(app), ADMIN.email, query_string={"next": elsewhere})
        assert response.headers["Location"] == "/admin/"


def test_logging_out_ends_the_session(signed_in):
    client = signed_in(ADMIN)
    token = csrf_token(client, "/admin/")
    response = client.post("/admin/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login"
    assert client.get("/admin/").headers["Location"].startswith("/admin/login")


def test_logging_out_takes_a_post(signed_in):
    assert signed_in(ADMIN).get("/admin/logout").status_code == 405


def test_a_deactivated_account_is_signed_out_at_its_next_request(signed_in):
    client = signed_in(SUPERVISOR)
    db.session.execute(
        sa.update(Account).where(Account.email == SUPERVISOR.email).values(active=False)
    )
    db.session.commit()
    assert client.get("/admin/").status_code == 302
    assert log_in(client, SUPERVISOR.email).status_code == 401


def test_pages_carry_the_security_headers(signed_in, client):
    for response in (client.get("/admin/login"), signed_in(ADMIN).get("/admin/")):
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_behind_a_trusted_proxy_its_https_makes_the_cookie_secure(tmp_path):
    """X-Forwarded-Proto is believed only with TRUSTED_PROXIES set: a client could forge it."""
    settings = replace(
        Settings.from_env({}),
        database_url=f"sqlite:///{tmp_path / 'proxy.sqlite3'}",
        redis_url=REDIS_URL,
        secret_key="a test key",
    )
    forwarded = {"X-Forwarded-Proto": "https"}
    direct = create_app(settings).test_client().get("/admin/login", headers=forwarded)
    assert "Secure" not in direct.headers["Set-Cookie"]
    behind_proxy = replace(settings, trusted_proxies=1)  # TRUSTED_PROXIES=1
    proxied = create_app(behind_proxy).test_client().get("/admin/login", headers=forwarded)
    assert "Secure" in proxied.headers["Set-Cookie"]


def test_a_signed_in_person_opening_the_login_page_goes_to_the_roll_up(signed_in):
    response = signed_in(ADMIN).get("/admin/login")
    assert response.headers["Location"] == "/admin/"
