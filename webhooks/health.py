"""GET /healthz: is the database there, is Redis there, how much work is waiting.

The web answers USSD without Redis, so a Redis outage is "degraded" (200), not "down"; only a
database outage makes the service unable to work (503).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from redis.exceptions import RedisError
from rq import Worker as RqWorker

from models import db
from workers.queues import QUEUE_NAMES, queue

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    report = {"database": _database(), "redis": "ok", "queues": {}, "workers": None}
    redis = current_app.extensions["redis"]
    try:
        report["queues"] = {name: queue(redis, name).count for name in QUEUE_NAMES}
        report["workers"] = RqWorker.count(connection=redis)
    except RedisError as exc:
        report["redis"] = f"down: {type(exc).__name__}"
    healthy = report["database"] == "ok"
    report["status"] = ("ok" if report["redis"] == "ok" else "degraded") if healthy else "down"
    return jsonify(report), 200 if healthy else 503


def _database() -> str:
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        return f"down: {type(exc).__name__}"
    return "ok"
