"""A real `rq worker` process, killed in the middle of a request: nothing lost, and only the
rows of the requests in flight are sent twice, each of them marked a possible duplicate."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import OutboundMessage, db
from models.base import utcnow
from services.outbox import compose
from tests.workers.processes import count, start_worker
from workers import outbox
from workers.outbox.retry import backoff
from workers.outbox.sweep import STALE_QUEUED, sweep


@pytest.mark.slow
def test_a_worker_killed_mid_wave_loses_nothing_and_marks_every_duplicate(
    app, standin, redis, run_worker
):
    settings, now = app.config["SETTINGS"], utcnow()
    expected = Counter()
    for i in range(80):  # 80 personal texts: 80 requests in one job, more than the pool of 32
        phone, text = f"+2237200{i:04d}", f"Bonjour {i}, votre suivi QI"
        compose(settings, now, phone=phone, text=text, kind="reply")
        expected[(phone, text)] += 1
    db.session.commit()
    standin.control("faults", {"delay_seconds": 3, "count": 100})  # every request hangs 3 s
    outbox.dispatch(redis)

    worker = start_worker(app, standin.url)
    deadline = time.monotonic() + 30
    while not count("sending") and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)  # the wave is on its way, and the gateway holds it for 3 s
    os.kill(worker.pid, signal.SIGKILL)  # so the worker never hears the answers
    worker.wait(timeout=10)
    time.sleep(3)  # the gateway finishes the requests it was given
    first_pass = [(m.number, m.text) for m in standin.messages()]
    in_flight = count("sending")
    assert first_pass, "the worker should have reached the gateway before being killed"
    assert in_flight == len(first_pass) == 32  # it claimed exactly what it was sending
    assert count("queued") == 80 - in_flight  # the rest never left, and are not in doubt

    standin.control("reset")  # the gateway is healthy again; its first pass is kept above
    later = utcnow() + STALE_QUEUED + timedelta(minutes=1)
    repaired = sweep(redis, later)
    assert (repaired.resent, repaired.requeued) == (in_flight, 80 - in_flight)
    outbox.dispatch(redis, later + backoff(1))
    run_worker()

    received = Counter(first_pass + [(m.number, m.text) for m in standin.messages()])
    assert set(received) == set(expected)  # nothing lost
    doubled = {key for key, times in received.items() if times > 1}
    db.session.expire_all()
    rows = db.session.scalars(sa.select(OutboundMessage)).all()
    marked = {(r.phone, r.text) for r in rows if r.possible_duplicate}
    assert doubled == marked == set(first_pass)  # every duplicate marked, and only those
    assert {r.status for r in rows} == {"sent"}
