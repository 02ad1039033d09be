"""SQLite as the embedded default: several processes write at once and lose nothing."""

from __future__ import annotations

import sqlite3
import threading

import sqlalchemy as sa

from models.base import READ_ONLY, configure_sqlite, engine_options


def sqlite_engine(tmp_path) -> sa.Engine:
    url = f"sqlite:///{tmp_path / 'qi.sqlite3'}"
    engine = sa.create_engine(url, **engine_options(url))
    configure_sqlite(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (1, 0)")
    return engine


def test_every_connection_uses_wal_and_waits_for_the_lock(tmp_path):
    engine = sqlite_engine(tmp_path)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15_000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_rolled_back_transaction_leaves_nothing(tmp_path):
    engine = sqlite_engine(tmp_path)
    with engine.connect() as connection:
        connection.exec_driver_sql("UPDATE counter SET value = 99")
        connection.rollback()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT value FROM counter").scalar() == 0


def test_concurrent_read_then_write_transactions_lose_no_update(tmp_path):
    engine = sqlite_engine(tmp_path)
    errors: list[BaseException] = []

    def add_one_fifty_times() -> None:
        try:
            for _ in range(50):
                with engine.begin() as connection:
                    value = connection.exec_driver_sql("SELECT value FROM counter").scalar()
                    connection.execute(
                        sa.text("UPDATE counter SET value = :value"), {"value": value + 1}
                    )
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    writers = [threading.Thread(target=add_one_fifty_times) for _ in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert errors == []
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT value FROM counter").scalar() == 200


def test_a_read_only_transaction_lets_others_write_while_it_reads(tmp_path):
    engine = sqlite_engine(tmp_path)
    with engine.connect() as reader:
        reader.execution_options(**{READ_ONLY: True})
        with reader.begin():
            assert reader.exec_driver_sql("SELECT value FROM counter").scalar() == 0
            assert write_without_waiting(tmp_path)
            assert reader.exec_driver_sql("SELECT value FROM counter").scalar() == 0  # snapshot


def test_any_other_transaction_holds_the_write_lock_from_its_start(tmp_path):
    engine = sqlite_engine(tmp_path)
    with engine.connect() as reader, reader.begin():
        reader.exec_driver_sql("SELECT value FROM counter").scalar()
        assert not write_without_waiting(tmp_path)


def write_without_waiting(tmp_path) -> bool:
    """Another process's write with a short timeout: True if it went through."""
    other = sqlite3.connect(tmp_path / "qi.sqlite3", timeout=0.2, isolation_level=None)
    try:
        other.execute("UPDATE counter SET value = value + 1")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()
