"""Redis restarted under a real worker: the worker carries on, and nothing is lost.

The Redis here is a private redis-server without persistence, so its restart loses the queue
as well, the way the issue's fault did.
"""

from __future__ import annotations

import signal
import time

import pytest
from redis import Redis

from models import db
from models.base import utcnow
from services.outbox import compose
from tests.workers.processes import count, free_port, start_redis, start_worker
from workers import outbox


def write(app, phones: list[str]) -> None:
    settings, now = app.config["SETTINGS"], utcnow()
    for phone in phones:
        compose(settings, now, phone=phone, text=f"Bonjour {phone}", kind="reply")
    db.session.commit()


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.slow
def test_the_worker_outlives_a_redis_restart_in_the_middle_of_a_job(app, standin):
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    server = start_redis(port)
    redis = Redis.from_url(redis_url)
    worker = start_worker(app, standin.url, redis_url, burst=False)
    try:
        write(app, ["+22374000001", "+22374000002"])
        standin.control("faults", {"delay_seconds": 2, "count": 1})  # the job is mid-request
        outbox.nudge(redis)
        assert wait_for(lambda: count("sending") == 2, 30)
        server.send_signal(signal.SIGKILL)  # the job ends while Redis is gone
        server.wait(timeout=10)
        assert wait_for(lambda: count("sent") == 2, 10)  # the rows are the database's
        time.sleep(1)
        assert worker.poll() is None, "the worker exited when Redis went away"

        server = start_redis(port)  # empty: the queue and the worker's registration are gone
        write(app, ["+22374000003"])
        assert wait_for(lambda: outbox.nudge(redis), 10)
        assert wait_for(lambda: count("sent") == 3, 30), "the worker no longer takes jobs"
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(timeout=15)
        server.kill()
        server.wait(timeout=10)
