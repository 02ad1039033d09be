"""The database handle and the engine settings that make SQLite safe for several processes.

SQLite is only the embedded default for a newcomer's first run, but the web server and the RQ
worker still write at once: WAL lets readers and one writer overlap, busy_timeout waits for the
lock instead of failing, and BEGIN IMMEDIATE takes the write lock at the start of each
transaction so two read-then-write transactions cannot both read stale rows (no lost updates);
a transaction declared read-only (`read_only()`, for exports) begins DEFERRED and locks nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

SQLITE_BUSY_TIMEOUT_MS = 15_000


class Base(DeclarativeBase):
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """Aware UTC datetimes on every database (SQLite forgets the zone; this restores it)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def engine_options(url: str) -> dict:
    """Pool settings per database; SQLite gets a longer connect timeout (the busy timeout).

    No pre-ping: it would cost every USSD step a round trip. After a PostgreSQL restart the
    first request of each process fails on a dead connection and SQLAlchemy renews the whole
    pool: a USSD step is then tried once more (webhooks/ussd.py), the gateway retries an SMS
    callback, and an RQ job's rows are re-queued by the sweeper. Recycling connections every
    half hour keeps idle ones from being cut by firewalls. Errors never show a statement's
    parameters: they hold answers and SMS text, and errors get logged.
    """
    private = {"hide_parameters": True}
    if url.startswith("sqlite"):
        # AUTOCOMMIT matches what configure_sqlite does to each connection (the driver never
        # begins on its own; the begin event does), so SQLAlchemy restores that, not the
        # driver's implicit transactions, when a connection returns to the pool.
        return {
            **private,
            "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            "isolation_level": "AUTOCOMMIT",
        }
    return {**private, "pool_size": 5, "max_overflow": 10, "pool_recycle": 1800}


def configure_sqlite(engine: sa.Engine) -> None:
    """WAL, busy_timeout and BEGIN IMMEDIATE on every SQLite connection of `engine`."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # A read-only transaction (an export) takes no write lock: under WAL it reads a
        # snapshot while the web and the worker go on writing.
        read_only = connection.get_execution_options().get(READ_ONLY)
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


READ_ONLY = "qi_read_only"
"""Execution option: this transaction only reads (see configure_sqlite and read_only)."""


def read_only() -> None:
    """Make the session's next transaction read-only; the current one, if any, is committed.

    For long reads such as exports: on SQLite every other transaction takes the write lock at
    BEGIN, and an export holding it would stall every webhook for as long as it streams.
    """
    db.session.commit()
    db.session.connection(execution_options={READ_ONLY: True})
