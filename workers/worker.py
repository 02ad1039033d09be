"""The RQ worker class the Procfile runs: jobs execute inside the Flask app, and the worker
outlives a Redis restart.

The app (settings, database pool, gateway client) is built once per worker process, not once
per job; jobs run in the worker process itself (no fork per job), which keeps a job that sends
a handful of SMS cheap. Start it with `rq worker --with-scheduler -w workers.worker.AppWorker`.

RQ's own work loop quits on any Redis error outside its dequeue (a heartbeat, a job's
result), and under bin/demo (dev/demo.py) one process exiting stops them all. `AppWorker.work` waits for
Redis to answer again, with backoff, and starts a new work loop. The outbox loses nothing
meanwhile: rows are in the database, and the sweeper re-queues what a lost queue held.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from flask import Flask
from redis.exceptions import RedisError
from rq import SimpleWorker

from models import db

log = logging.getLogger(__name__)

RECONNECT_FIRST = 0.5
RECONNECT_MAX = 30.0


MAINTENANCE_EVERY = 60
"""Seconds between RQ's maintenance (10 minutes by default): it restarts a scheduler that a
Redis restart killed or a killed worker's lock kept away, so failed jobs' retries run on time."""


class AppWorker(SimpleWorker):
    def __init__(self, *args, app: Flask | None = None, **kwargs):
        kwargs.setdefault("maintenance_interval", MAINTENANCE_EVERY)
        super().__init__(*args, **kwargs)
        if app is None:
            from app import create_app

            app = create_app()
        self.app = app

    def execute_job(self, job, queue):
        with self.app.app_context():
            try:
                return super().execute_job(job, queue)
            finally:
                db.session.remove()

    def work(self, burst: bool = False, **kwargs: Any) -> bool:
        """RQ's work loop, started again whenever it ended on a lost Redis connection.

        A loop that ends for a reason of its own (burst done, a stop requested, max jobs or
        idle time reached) ends the worker as usual.
        """
        worked = False
        while True:
            try:
                worked = super().work(burst=burst, **kwargs) or worked
            except RedisError as exc:  # raised before or after RQ's loop (birth, teardown)
                log.error("worker %s: Redis error outside the work loop: %s", self.name, exc)
            if self._ended_on_purpose(burst, kwargs):
                return worked
            self._wait_for_redis()
            self.name = uuid.uuid4().hex  # the old name may still be registered as alive

    def _ended_on_purpose(self, burst: bool, options: dict[str, Any]) -> bool:
        """Burst done, a limit reached, or a SIGTERM/SIGINT (RQ notes its time; its stop flag
        is set only when the signal comes mid-job)."""
        asked = self._stop_requested or self._shutdown_requested_date is not None
        return burst or asked or bool(options.get("max_jobs") or options.get("max_idle_time"))

    def _wait_for_redis(self) -> None:
        """Back off until Redis answers (at least one pause, so no loop spins on a bug)."""
        delay = RECONNECT_FIRST
        while True:
            time.sleep(delay)
            try:
                self.connection.ping()
                return
            except RedisError as exc:
                log.warning("worker: Redis unavailable (%s); next try in %.1f s", exc, delay)
                delay = min(delay * 2, RECONNECT_MAX)
