"""Publishing flows and reading published versions back as engine values.

Published versions are immutable, so each process parses a version's YAML once and keeps it:
a USSD step must answer in milliseconds and must not re-parse the flow on every request. Which
versions are current is read again at most every ACTIVE_FLOWS_TTL seconds: a dial starts with it,
and a flow published elsewhere reaches every web process within that time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from flows.definition import Flow as FlowDefinition
from flows.loader import load_flow
from models import Flow, FlowVersion, db

ACTIVE_FLOWS_TTL = 10.0


@dataclass(frozen=True)
class ActiveFlow:
    flow_id: int
    version_id: int


_definitions: dict[int, FlowDefinition] = {}
_active: tuple[float, list[ActiveFlow]] | None = None


def definition(version_id: int) -> FlowDefinition:
    """The parsed flow of a published version, parsed once per process."""
    found = _definitions.get(version_id)
    if found is None:
        source = _source(version_id)
        if source is None:
            raise LookupError(f"no flow version {version_id}")
        found = _definitions[version_id] = load_flow(source, f"flow version {version_id}")
    return found


def _source(version_id: int) -> str | None:
    """A version's text, read without leaving a transaction open that the caller did not start.

    The USSD hot path writes on a connection of its own; had this read begun the request's
    ORM transaction, SQLite's BEGIN IMMEDIATE would hold the write lock against that write.
    """
    query = sa.select(FlowVersion.source).where(FlowVersion.id == version_id)
    if db.session().in_transaction():
        return db.session.scalar(query)
    with db.engine.connect() as connection:
        return connection.scalar(query)


def clear_cache() -> None:
    """Forget parsed versions and current flows (tests reuse ids after emptying the tables)."""
    _definitions.clear()
    forget_active_flows()


def forget_active_flows() -> None:
    """Read the current flows again on next use (this process published one)."""
    global _active
    _active = None


def publish(source: str, filename: str = "<flow>") -> tuple[FlowVersion, bool]:
    """Validate and store `source` as the next version of its flow.

    Returns (version, created). Publishing a text identical to the latest version stores
    nothing and returns that version, so re-running a deploy script is harmless.
    """
    parsed = load_flow(source, filename)
    flow = db.session.scalar(sa.select(Flow).where(Flow.key == parsed.key))
    if flow is None:
        flow = Flow(key=parsed.key)
        db.session.add(flow)
        db.session.flush()
    latest = latest_version(flow)
    if latest is not None and latest.source == source:
        return latest, False
    version = FlowVersion(flow=flow, version=(latest.version + 1 if latest else 1), source=source)
    db.session.add(version)
    db.session.flush()
    forget_active_flows()
    return version, True


def latest_version(flow: Flow) -> FlowVersion | None:
    return db.session.scalar(
        sa.select(FlowVersion)
        .where(FlowVersion.flow_id == flow.id)
        .order_by(FlowVersion.version.desc())
        .limit(1)
    )


def active_flows() -> list[ActiveFlow]:
    """Every active flow with its latest version (what check-ins opened now will use)."""
    global _active
    if _active is None or time.monotonic() - _active[0] > ACTIVE_FLOWS_TTL:
        _active = (time.monotonic(), _read_active_flows())
    return _active[1]


def _read_active_flows() -> list[ActiveFlow]:
    newest = (
        sa.select(FlowVersion.flow_id, sa.func.max(FlowVersion.version).label("version"))
        .group_by(FlowVersion.flow_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Flow.id, FlowVersion.id)
        .join(FlowVersion, FlowVersion.flow_id == Flow.id)
        .join(newest, sa.and_(newest.c.flow_id == Flow.id, newest.c.version == FlowVersion.version))
        .where(Flow.active.is_(True))
        .order_by(Flow.key)
    )
    return [ActiveFlow(flow_id, version_id) for flow_id, version_id in rows]
