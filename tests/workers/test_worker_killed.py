"""A real `rq worker` process, killed in the middle of a request: nothing lost, nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import OutboundMessage, db
from models.base import utcnow
from services.outbox import compose
from workers import outbox

ROOT = Path(__file__).resolve().parents[2]


def start_worker(app, standin_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["SETTINGS"].redis_url,
        "AT_API_URL": f"{standin_url}/version1",
        "AT_API_KEY": "test-key",
        "AT_TIMEOUT": "10",
    }
    rq = Path(sys.executable).parent / "rq"
    command = [
        str(rq),
        "worker",
        "-w",
        "workers.worker.AppWorker",
        "--burst",
        "--url",
        env["REDIS_URL"],
    ]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def sending() -> int:
    db.session.rollback()  # see what the worker process committed
    query = sa.select(sa.func.count()).where(OutboundMessage.status == "sending")
    return db.session.scalar(query)


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    app, standin, redis, run_worker
):
    settings, now = app.config["SETTINGS"], utcnow()
    expected = Counter()
    for i in range(60):
        phone = f"+2237200{i:04d}"
        for text in ("Rappel: suivi QI de la semaine", f"Bonjour {i}, votre suivi QI"):
            compose(settings, now, phone=phone, text=text, kind="reply")
            expected[(phone, text)] += 1
    db.session.commit()
    standin.control("faults", {"delay_seconds": 3, "count": 100})  # every request hangs 3 s
    outbox.dispatch(redis)

    worker = start_worker(app, standin.url)
    deadline = time.monotonic() + 30
    while not sending() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)  # the request is on its way, and the gateway holds it for 3 s
    os.kill(worker.pid, signal.SIGKILL)  # so the worker never hears the answer
    worker.wait(timeout=10)
    time.sleep(3)  # the gateway finishes the request it was given
    first_pass = [(m.number, m.text) for m in standin.messages()]
    assert first_pass, "the worker should have reached the gateway before being killed"

    standin.control("reset")  # the gateway is healthy again; its first pass is kept above
    later = utcnow() + outbox.STALE_QUEUED + timedelta(minutes=1)
    requeued, unknown = outbox.sweep(later)
    assert unknown == len(first_pass)  # the interrupted request's rows: maybe sent, never resent
    assert requeued == sum(expected.values()) - unknown
    outbox.dispatch(redis, later)
    run_worker()

    received = Counter(first_pass + [(m.number, m.text) for m in standin.messages()])
    assert received == expected  # every message reached the gateway exactly once
    db.session.expire_all()
    statuses = Counter(db.session.scalars(sa.select(OutboundMessage.status)))
    assert statuses == {"sent": requeued, "unknown": unknown}
