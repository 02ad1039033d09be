"""Fixtures: the app on real databases (SQLite and PostgreSQL) and a real Redis.

Database tests run once per database. The schema is built by the real migrations once per
run, and every test starts from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from redis import Redis

from app import create_app
from config import Settings
from models import db
from services import flow_store
from tests import servers

# The servers of this run, chosen by pytest_configure before any test module is imported.
POSTGRES_URL = ""
REDIS_URL = ""
DATABASES = ["sqlite", "postgresql"]
SERVERS = pytest.StashKey[tuple[servers.Server, servers.Server]]()


def pytest_configure(config: pytest.Config) -> None:
    """Use the configured or the machine's servers, else embedded ones (see tests/servers.py)."""
    global POSTGRES_URL, REDIS_URL
    stack = ExitStack()
    config.add_cleanup(stack.close)
    try:
        config.stash[SERVERS] = servers.choose(os.environ, stack)
    except servers.Unreachable as error:
        raise pytest.UsageError(str(error)) from None
    POSTGRES_URL, REDIS_URL = (server.url for server in config.stash[SERVERS])


def pytest_report_header(config: pytest.Config) -> str:
    return "databases: " + ", ".join(server.describe() for server in config.stash[SERVERS])


def _settings(database_url: str) -> Settings:
    base = Settings.from_env({})
    return replace(base, database_url=database_url, redis_url=REDIS_URL, transliterate=("bm",))


class SeparateProcessClient(FlaskClient):
    """Requests see the database as another process would: the test's transaction ends first.

    Flask serves a test request inside the test's own app context, so it would share the test's
    database session; and on SQLite an open transaction holds the write lock (BEGIN IMMEDIATE).
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def _schemas(tmp_path_factory) -> Iterator[dict[str, Flask]]:
    """One migrated app per database for the whole run.

    PostgreSQL gets a schema of this run's own, so two runs (a developer's and CI's, or
    parallel helpers) never drop each other's tables.
    """
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    schema = f"test_{os.getpid()}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    postgres_url = (
        f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
        f"&application_name={schema}"  # tests that cut the app's connections find them by it
    )
    apps = {}
    for name, url in (("sqlite", sqlite_url), ("postgresql", postgres_url)):
        app = create_app(_settings(url))
        app.config["TESTING"] = True
        app.test_client_class = SeparateProcessClient
        with app.app_context():
            upgrade()
        apps[name] = app
    yield apps
    for app in apps.values():
        with app.app_context():
            db.engine.dispose()
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=DATABASES)
def app(request, _schemas) -> Iterator[Flask]:
    """The app on one database, with empty tables and an empty Redis database."""
    app = _schemas[request.param]
    with app.app_context():
        _empty_tables()
        app.extensions["redis"].flushdb()
        flow_store.clear_cache()
        yield app
        db.session.remove()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def redis(app: Flask) -> Redis:
    return app.extensions["redis"]


def _empty_tables() -> None:
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


class Standin:
    """The gateway stand-in served on a loopback port, as the SDK's real requests need."""

    def __init__(self, url: str, state):
        self.url = url
        self.state = state

    def messages(self, to: str | None = None):
        return self.state.messages(to)

    def control(self, path: str, body: dict | None = None) -> dict:
        import requests

        response = requests.post(f"{self.url}/_standin/{path}", json=body or {}, timeout=5)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def standin(app: Flask) -> Iterator[Standin]:
    """A running stand-in; the app's gateway adapter points at it for the test's duration."""
    from dev.standin import create_standin, serve_in_thread
    from gateway.africastalking import AfricasTalkingGateway

    standin_app = create_standin("http://127.0.0.1:9/unused")
    real = app.extensions["gateway"]
    with serve_in_thread(standin_app) as server:
        app.extensions["gateway"] = AfricasTalkingGateway(
            "sandbox", "test-key", api_url=f"{server.url}/version1", timeout=2
        )
        try:
            yield Standin(server.url, standin_app.extensions["standin"])
        finally:
            app.extensions["gateway"] = real


@pytest.fixture
def run_worker(app: Flask, redis: Redis):
    """Run the RQ queue to empty in this process (a burst worker), as production's worker would."""
    from rq import Queue

    from workers.worker import AppWorker

    def run() -> None:
        queue = Queue("default", connection=redis)
        AppWorker([queue], connection=redis, app=app).work(burst=True, with_scheduler=False)
        failed = queue.failed_job_registry
        errors = [
            queue.fetch_job(job_id).latest_result().exc_string for job_id in failed.get_job_ids()
        ]
        assert not errors, "\n".join(errors)

    return run


@pytest.fixture
def unreachable_database() -> Iterator[FlaskClient]:
    """A client of an app whose database does not answer (nothing listens on its port)."""
    app = create_app(_settings("postgresql+psycopg://postgres@127.0.0.1:9/down?connect_timeout=1"))
    app.config["TESTING"] = True
    yield app.test_client()
