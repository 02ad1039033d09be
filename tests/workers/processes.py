"""Real processes for the fault tests: an `rq worker` like the Procfile's, a private Redis, and
what the worker process committed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from redis import Redis
from redis.exceptions import RedisError

from models import OutboundMessage, db

ROOT = Path(__file__).resolve().parents[2]


def start_worker(app, standin_url: str, redis_url: str | None = None, burst: bool = True):
    """`rq worker -w workers.worker.AppWorker` on the app's database and the given Redis."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url or app.config["SETTINGS"].redis_url,
        "AT_API_URL": f"{standin_url}/version1",
        "AT_API_KEY": "test-key",
        "AT_TIMEOUT": "10",
    }
    rq = Path(sys.executable).parent / "rq"
    command = [str(rq), "worker", "-w", "workers.worker.AppWorker", "--url", env["REDIS_URL"]]
    if burst:
        command.append("--burst")
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(port: int) -> subprocess.Popen:
    """A redis-server of the test's own, without persistence: a restart loses every key."""
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    client = Redis(port=port, socket_connect_timeout=0.2)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return server
        except RedisError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {port}") from None
            time.sleep(0.05)
        finally:
            client.close()


def count(status: str) -> int:
    """Outbox rows in `status` as the worker process committed them (no SQLite lock kept)."""
    found = db.session.scalar(sa.select(sa.func.count()).where(OutboundMessage.status == status))
    db.session.rollback()
    return found
