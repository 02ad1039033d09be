"""The USSD hot path's row access: one read, and a write that loses to a concurrent step."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from models import Session, Worker, db
from services import step_store
from services.demo import seed_demo

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture
def stored(app) -> step_store.StoredStep:
    seed_demo()
    worker = db.session.scalars(sa.select(Worker).where(Worker.phone == "+22370000011")).one()
    db.session.add(
        Session(
            channel="ussd",
            gateway_session_id="ATUid_1",
            worker=worker,
            state={"stage": "flow", "answers": {}},
            last_input="1",
            last_reply="Combien ?",
        )
    )
    db.session.commit()
    with db.engine.begin() as connection:
        return step_store.load(connection, "ATUid_1")


def test_load_reads_the_session_and_whose_it_is(stored):
    assert (stored.status, stored.last_input, stored.last_reply) == ("active", "1", "Combien ?")
    assert stored.state == {"stage": "flow", "answers": {}}
    assert (stored.phone, stored.language) == ("+22370000011", "fr")
    assert stored.worker_active and not stored.ended


def test_load_finds_nothing_for_an_unknown_or_sms_session(stored):
    with db.engine.begin() as connection:
        assert step_store.load(connection, "ATUid_unknown") is None
    db.session.execute(sa.update(Session).values(channel="sms"))
    db.session.commit()
    with db.engine.begin() as connection:
        assert step_store.load(connection, "ATUid_1") is None


def test_new_input_is_what_the_gateway_added_since_the_last_step():
    assert step_store.new_input("", "1") == "1"
    assert step_store.new_input("1*6", "1*6*2") == "2"
    assert step_store.new_input("1*6", "1*6*a*b") == "a*b"
    assert step_store.new_input("1*6", "1*62") is None
    assert step_store.new_input("1*6", "2*6*2") is None


def test_save_stores_the_next_step(stored):
    with db.engine.begin() as connection:
        assert step_store.save(connection, stored, "1*6", "Suite ?", {"stage": "flow"}, NOW)
    row = db.session.scalars(sa.select(Session)).one()
    assert (row.last_input, row.last_reply, row.state) == ("1*6", "Suite ?", {"stage": "flow"})
    assert row.updated_at == NOW


def test_save_loses_to_a_step_stored_since_the_load(stored):
    with db.engine.begin() as connection:
        assert step_store.save(connection, stored, "1*6", "Suite ?", {"won": True}, NOW)
    with db.engine.begin() as connection:
        assert not step_store.save(connection, stored, "1*7", "Autre ?", {"won": False}, NOW)
    row = db.session.scalars(sa.select(Session)).one()
    assert (row.last_input, row.state) == ("1*6", {"won": True})


def test_save_never_revives_an_ended_session(stored):
    db.session.execute(sa.update(Session).values(status="ended"))
    db.session.commit()
    with db.engine.begin() as connection:
        assert not step_store.save(connection, stored, "1*6", "Suite ?", {}, NOW)
    assert db.session.scalars(sa.select(Session)).one().last_input == "1"
