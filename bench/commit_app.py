"""The floor of any handler that stores each step: bare_app plus one committed INSERT per step.

bench/ussd.py serves this beside bare_app and the real app. Each step is written as one row
(sessionId, text) in one autocommitted INSERT through psycopg on a connection kept per thread:
no read, no ORM, no SQLAlchemy, no logic. Whatever a real USSD app does, if it commits every
answer to PostgreSQL before replying, it does at least this, so "commit / bare" bounds the
"app / bare" any such implementation can reach on the same machine and server.
"""

from __future__ import annotations

import os
import threading

import psycopg
from flask import Flask, Response, request

from bench.bare_app import SCREENS

app = Flask(__name__)
_local = threading.local()


def _connection() -> psycopg.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        connection = _local.connection = psycopg.connect(url, autocommit=True)
    return connection


@app.post("/ussd")
def ussd() -> Response:
    text = request.form.get("text", "")
    _connection().execute(
        "INSERT INTO bench_steps (session_id, text) VALUES (%s, %s)",
        (request.form.get("sessionId", ""), text),
    )
    step = text.count("*") + 1 if text else 0
    return Response(SCREENS[min(step, len(SCREENS) - 1)], mimetype="text/plain")
