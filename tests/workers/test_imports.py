"""Console imports as RQ jobs (workers/imports.py), run by a real worker on a real Redis, on
SQLite and PostgreSQL.

An upload is prepared (file and state in Redis), its audit row committed, then queued; the job
imports the rows, fills the audit row in with the counts, and leaves the outcome (and, while it
runs, its progress) for the page, all of it expiring within a day.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy.exc import IntegrityError

from admin import audit
from models import AuditEntry, Facility, Worker, db
from services import directory
from services.demo import seed_demo
from workers import imports
from workers.imports import (
    STATE_TTL,
    audit_target,
    enqueue,
    load,
    prepare,
    run_import,
    unqueued,
    workers_listening,
)

STAFF = """\
name,phone,facility_code,role,language
Fatoumata Diarra,76 12 34 56,CSCOM-MLB,qi_focal_point,fr
Moussa Coulibaly,12,CSCOM-MLB,dtc,bm
Kadiatou Keita,70 00 00 99,CSCOM-NOWHERE,midwife,bm
"""


@pytest.fixture
def demo(app) -> None:
    seed_demo()
    db.session.commit()


def submit(redis, kind: str, text: str, filename: str = "staff.csv") -> str:
    """What the upload does: prepare, commit the audit row, queue."""
    import_id = prepare(redis, kind, filename, text)
    audit.record(f"import.{kind}", audit_target(import_id), None, {"file": filename})
    db.session.commit()
    enqueue(redis, import_id)
    return import_id


def audit_after(import_id: str) -> dict:
    db.session.expire_all()
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.target == audit_target(import_id))
    )
    return entry.after


def test_a_queued_import_is_waiting_until_a_worker_runs_it(demo, redis):
    import_id = submit(redis, "workers", STAFF)

    state = load(redis, import_id)
    assert (state.status, state.kind, state.filename, state.finished) == (
        "queued",
        "workers",
        "staff.csv",
        False,
    )
    assert workers_listening(redis) == 0
    assert Queue("default", connection=redis).count == 1


def test_the_job_imports_the_valid_rows_and_keeps_each_refused_line(demo, redis, run_worker):
    import_id = submit(redis, "workers", STAFF)

    run_worker()

    state = load(redis, import_id)
    assert (state.status, state.done, state.total) == ("done", 3, 3)
    assert (state.created, state.updated, state.refused) == (1, 0, 2)
    assert [(line, [p.key for p in problems]) for line, problems in state.errors] == [
        (3, ["invalid_phone"]),
        (4, ["unknown_facility"]),
    ]
    assert db.session.scalar(sa.select(Worker).where(Worker.phone == "+22376123456")) is not None


def test_the_audit_row_gets_the_counts_not_the_file(demo, redis, run_worker):
    import_id = submit(redis, "workers", STAFF)

    run_worker()

    assert audit_after(import_id) == {
        "file": "staff.csv",
        "rows": 3,
        "created": 1,
        "updated": 0,
        "refused": 2,
    }


def test_importing_again_updates_instead_of_duplicating(demo, redis, run_worker):
    submit(redis, "workers", STAFF)
    run_worker()
    again = submit(redis, "workers", STAFF.replace("Fatoumata Diarra", "Fatoumata D."))
    run_worker()

    state = load(redis, again)
    assert (state.created, state.updated, state.refused) == (0, 1, 2)
    phones = db.session.scalars(sa.select(Worker.phone).where(Worker.phone == "+22376123456"))
    assert len(list(phones)) == 1


def test_a_facilities_file_is_imported_the_same_way(demo, redis, run_worker):
    import_id = submit(
        redis,
        "facilities",
        "code,name,kind,parent_code\nCSCOM-NEW,CSCom Neuf,cscom,CSREF-KATI\n",
        "structures.csv",
    )

    run_worker()

    assert load(redis, import_id).created == 1
    assert db.session.scalar(sa.select(Facility).where(Facility.code == "CSCOM-NEW")) is not None


def test_the_progress_is_in_redis_while_the_job_runs(demo, redis, run_worker, monkeypatch):
    monkeypatch.setattr(directory, "PROGRESS_EVERY", 1)
    seen = []
    original = imports._progress

    def watched(redis_, import_id):
        report = original(redis_, import_id)

        def progress(done, total):
            report(done, total)
            state = load(redis_, import_id)
            seen.append((state.status, state.done, state.total))

        return progress

    monkeypatch.setattr(imports, "_progress", watched)
    submit(redis, "workers", STAFF)

    run_worker()

    assert seen[0] == ("running", 2, 3)  # the two refused lines are done once checked
    assert seen[-1] == ("running", 3, 3)


def test_nothing_is_kept_longer_than_a_day_and_the_file_not_at_all(demo, redis, run_worker):
    import_id = submit(redis, "workers", STAFF)
    file_key, state_key = f"directory:import:{import_id}:file", f"directory:import:{import_id}"
    assert 0 < redis.ttl(file_key) <= STATE_TTL

    run_worker()

    assert not redis.exists(file_key)
    assert 0 < redis.ttl(state_key) <= STATE_TTL
    assert STATE_TTL <= 24 * 3600
    assert Job.exists(f"import-{import_id}", connection=redis) is False  # no result kept


def test_only_the_first_refused_lines_are_kept_but_all_are_counted(
    demo, redis, run_worker, monkeypatch
):
    monkeypatch.setattr(imports, "MAX_ERRORS", 1)
    import_id = submit(redis, "workers", STAFF)

    run_worker()

    state = load(redis, import_id)
    assert state.refused == 2 and len(state.errors) == 1 and state.errors_left_out == 1


def test_a_file_gone_before_the_job_ran_is_a_failed_import(demo, redis, run_worker):
    import_id = submit(redis, "workers", STAFF)
    redis.delete(f"directory:import:{import_id}:file")

    run_worker()

    state = load(redis, import_id)
    assert (state.status, state.failure) == ("failed", "expired")
    assert audit_after(import_id) == {"file": "staff.csv", "status": "failed", "failure": "expired"}


def test_a_colliding_change_imports_nothing_and_says_to_run_it_again(
    demo, redis, run_worker, monkeypatch
):
    def collide(text, progress):
        db.session.add(Worker(name="X", phone="+22370000099", facility_id=None, role="dtc"))
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    monkeypatch.setitem(imports.KINDS, "workers", collide)
    import_id = submit(redis, "workers", STAFF)

    run_worker()

    assert (load(redis, import_id).status, load(redis, import_id).failure) == ("failed", "conflict")
    assert audit_after(import_id)["failure"] == "conflict"
    assert db.session.scalar(sa.select(Worker).where(Worker.phone == "+22370000099")) is None


def test_a_broken_job_is_a_failed_import_and_its_error_is_raised(demo, redis, monkeypatch):
    def broken(text, progress):
        raise RuntimeError("bug")

    monkeypatch.setitem(imports.KINDS, "workers", broken)
    import_id = submit(redis, "workers", STAFF)

    with pytest.raises(RuntimeError):
        run_import(import_id)

    assert load(redis, import_id).failure == "crashed"


def test_a_job_rq_gave_up_on_is_shown_as_failed(demo, redis):
    import_id = submit(redis, "workers", STAFF)
    Job.fetch(f"import-{import_id}", connection=redis).set_status(JobStatus.FAILED)

    assert (load(redis, import_id).status, load(redis, import_id).failure) == ("failed", "crashed")


def test_an_import_that_could_not_be_queued_is_failed(demo, redis):
    import_id = prepare(redis, "workers", "staff.csv", STAFF)

    unqueued(redis, import_id)

    assert load(redis, import_id).failure == "unqueued"
    assert not redis.exists(f"directory:import:{import_id}:file")


@pytest.mark.parametrize("import_id", ["0" * 32, "not-an-id", "a" * 31, "../x"])
def test_an_unknown_or_malformed_id_has_no_state(app, redis, import_id):
    assert load(redis, import_id) is None


def test_an_unknown_kind_is_refused_before_anything_is_stored(app, redis):
    with pytest.raises(ValueError):
        prepare(redis, "accounts", "x.csv", "email\n")
    assert redis.keys("directory:import:*") == []
