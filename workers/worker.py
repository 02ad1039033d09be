"""The RQ worker class the Procfile runs: jobs execute inside the Flask app.

The app (settings, database pool, gateway client) is built once per worker process, not once
per job; jobs run in the worker process itself (no fork per job), which keeps a job that sends
a handful of SMS cheap. Start it with `rq worker --with-scheduler -w workers.worker.AppWorker`.
"""

from __future__ import annotations

from flask import Flask
from rq import SimpleWorker

from models import db


class AppWorker(SimpleWorker):
    def __init__(self, *args, app: Flask | None = None, **kwargs):
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
