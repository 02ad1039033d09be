"""Console imports as RQ jobs: the uploaded file waits in Redis, a worker imports it, and its
progress (rows done / rows in the file), then its result, are kept in Redis for the page to show.

The web request does three things in order (admin/directory_pages.py): `prepare` puts the file
and a "queued" state in Redis (so a Redis outage is found before anything is written), the
request commits its audit row, then `enqueue` hands the import to a worker. The job fills that
audit row in with the counts, in the transaction that imports the rows, so the log never shows
an import that did not happen, nor one without its outcome.

Nothing here outlives a day: the file is deleted as soon as it is imported (or expires unread),
and the state, whose refused lines may quote phone numbers, expires STATE_TTL after its last
change. RQ carries only the import's id.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Worker as RqWorker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy.exc import IntegrityError

from models import AuditEntry, db
from services.directory import ImportReport, Problem, import_facilities, import_workers
from workers.queues import queue

log = logging.getLogger(__name__)

KINDS: dict[str, Callable[..., ImportReport]] = {
    "facilities": import_facilities,
    "workers": import_workers,
}
STATE_TTL = 24 * 3600
"""Seconds an import's state (and its file, if never imported) stays in Redis."""
JOB_TIMEOUT = 600
"""Seconds a worker may spend on one import: a 2 MB file takes a few."""
MAX_ERRORS = 1000
"""Refused lines kept for the page; the count of all of them is kept too."""
ID = re.compile(r"[0-9a-f]{32}")
STATUSES = ("queued", "running", "done", "failed")
FAILURES = ("expired", "conflict", "crashed", "unqueued")
"""Why an import failed: its file was gone, another change collided with it (nothing was
imported, run it again), the job broke, or it could not be queued."""


@dataclass(frozen=True)
class ImportState:
    """An import as the page shows it."""

    id: str
    kind: str
    filename: str
    status: str
    done: int = 0
    total: int = 0
    created: int = 0
    updated: int = 0
    refused: int = 0
    errors: tuple[tuple[int, tuple[Problem, ...]], ...] = ()
    failure: str = ""

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def errors_left_out(self) -> int:
        return max(self.refused - len(self.errors), 0)


def audit_target(import_id: str) -> str:
    return f"import:{import_id}"


def prepare(redis: Redis, kind: str, filename: str, text: str) -> str:
    """Keep the file and a "queued" state in Redis; returns the import's id. Raises RedisError."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    import_id = uuid.uuid4().hex
    pipe = redis.pipeline()
    pipe.set(_file_key(import_id), text.encode("utf-8"), ex=STATE_TTL)
    pipe.hset(_key(import_id), mapping={"kind": kind, "file": filename, "status": "queued"})
    pipe.expire(_key(import_id), STATE_TTL)
    pipe.execute()
    return import_id


def enqueue(redis: Redis, import_id: str) -> None:
    """Give the prepared import to a worker. Raises RedisError."""
    queue(redis).enqueue(
        run_import,
        import_id,
        job_id=_job_id(import_id),
        job_timeout=JOB_TIMEOUT,
        result_ttl=0,
        failure_ttl=STATE_TTL,
    )


def unqueued(redis: Redis, import_id: str) -> None:
    """Mark a prepared import that could not be queued as failed, if Redis still answers."""
    with suppress(RedisError):
        _finish(redis, import_id, {"status": "failed", "failure": "unqueued"})


def load(redis: Redis, import_id: str) -> ImportState | None:
    """The import's state, or None once it has expired (or never was). Raises RedisError.

    A job that broke before it could say so (the worker killed, say) is reported as failed
    once RQ has moved it to its failed jobs.
    """
    if not ID.fullmatch(import_id):
        return None
    raw = {k.decode(): v.decode() for k, v in redis.hgetall(_key(import_id)).items()}
    if not raw:
        return None
    if raw["status"] in ("queued", "running") and _job_failed(redis, import_id):
        raw.update(status="failed", failure="crashed")
    errors = tuple(
        (line, tuple(Problem.from_json(p) for p in problems))
        for line, problems in json.loads(raw.get("errors", "[]"))
    )
    numbers = ("done", "total", "created", "updated", "refused")
    return ImportState(
        id=import_id,
        kind=raw["kind"],
        filename=raw.get("file", ""),
        status=raw["status"],
        errors=errors,
        failure=raw.get("failure", ""),
        **{name: int(raw.get(name, 0)) for name in numbers},
    )


def workers_listening(redis: Redis) -> int:
    """How many RQ workers serve the queue imports go to (0: an import would wait)."""
    return RqWorker.count(queue=queue(redis))


def run_import(import_id: str) -> None:
    """The RQ job: import the file, fill in the audit row, keep the outcome for the page."""
    redis: Redis = current_app.extensions["redis"]
    kind = redis.hget(_key(import_id), "kind")
    data = redis.get(_file_key(import_id))
    if kind is None or data is None:
        _fail(redis, import_id, "expired")
        return
    redis.hset(_key(import_id), mapping={"status": "running"})
    load_rows = KINDS[kind.decode()]
    try:
        report = load_rows(data.decode("utf-8"), progress=_progress(redis, import_id))
        _fill_audit(import_id, {"rows": report.rows, **_counts(report)})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        _fail(redis, import_id, "conflict")
        return
    except Exception:
        db.session.rollback()
        _fail(redis, import_id, "crashed")
        raise
    errors = [[line, [p.to_json() for p in problems]] for line, problems in report.details]
    outcome = {"status": "done", "done": report.rows, "total": report.rows, **_counts(report)}
    _finish(redis, import_id, {**outcome, "errors": json.dumps(errors[:MAX_ERRORS])})


def _counts(report: ImportReport) -> dict[str, int]:
    return {
        "created": report.created,
        "updated": report.updated,
        "refused": report.refused,
    }


def _progress(redis: Redis, import_id: str) -> Callable[[int, int], None]:
    """The import's progress callback: a lost Redis costs the page its bar, not the import."""

    def progress(done: int, total: int) -> None:
        try:
            redis.hset(_key(import_id), mapping={"done": done, "total": total})
        except RedisError as exc:
            log.warning("import %s: progress not saved (%s)", import_id, exc)

    return progress


def _fail(redis: Redis, import_id: str, failure: str) -> None:
    """Say in the audit row and in the state why the import did not happen."""
    _fill_audit(import_id, {"status": "failed", "failure": failure})
    db.session.commit()
    _finish(redis, import_id, {"status": "failed", "failure": failure})


def _fill_audit(import_id: str, outcome: dict[str, object]) -> None:
    """Complete the audit row the upload wrote (a new JSON value, so the change is saved)."""
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.target == audit_target(import_id))
    )
    if entry is not None:
        entry.after = {**(entry.after or {}), **outcome}


def _finish(redis: Redis, import_id: str, values: dict[str, object]) -> None:
    """Write the outcome, drop the file and give the state a last day to be read."""
    pipe = redis.pipeline()
    pipe.hset(_key(import_id), mapping=values)
    pipe.expire(_key(import_id), STATE_TTL)
    pipe.delete(_file_key(import_id))
    pipe.execute()


def _job_failed(redis: Redis, import_id: str) -> bool:
    try:
        job = Job.fetch(_job_id(import_id), connection=redis)
    except NoSuchJobError:
        return False
    return job.is_failed or job.is_stopped or job.is_canceled


def _key(import_id: str) -> str:
    return f"directory:import:{import_id}"


def _file_key(import_id: str) -> str:
    return f"directory:import:{import_id}:file"


def _job_id(import_id: str) -> str:
    return f"import-{import_id}"
