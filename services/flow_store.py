"""Publishing flows and reading published versions back as engine values.

Published versions are immutable, so each process parses a version's YAML once and keeps it:
a USSD step must answer in milliseconds and must not re-parse the flow on every request. Which
versions are current is read again at most every ACTIVE_FLOWS_TTL seconds: a dial starts with it,
and a flow published elsewhere reaches every web process within that time.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from flows.definition import Flow as FlowDefinition
from flows.loader import FlowError, load_flow
from models import Checkin, Flow, FlowVersion, db

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


def publish(
    source: str, filename: str = "<flow>", *, published_by: str | None = None, note: str = ""
) -> tuple[FlowVersion, bool]:
    """Validate and store `source` as the next version of its flow.

    Returns (version, created). Publishing a text identical to the latest version stores
    nothing and returns that version, so re-running a deploy script (or pressing Publish twice)
    is harmless. `published_by` is the console account's email (None from the command line);
    `note` says why the version exists when it is not a plain edit (a rollback).
    """
    parsed = load_flow(source, filename)
    flow = flow_by_key(parsed.key)
    if flow is None:
        flow = Flow(key=parsed.key)
        db.session.add(flow)
        db.session.flush()
    latest = latest_version(flow)
    if latest is not None and latest.source == source:
        return latest, False
    version = FlowVersion(
        flow=flow,
        version=(latest.version + 1 if latest else 1),
        source=source,
        published_by=published_by,
        note=note,
    )
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


def rollback(
    flow: Flow, number: int, published_by: str | None, note: str = ""
) -> tuple[FlowVersion, bool]:
    """Publish version `number`'s text again, as the flow's next version.

    A rollback never rewrites history: check-ins keep pointing at the versions they used, and
    the versions between stay listed. When the latest version already has that text nothing is
    stored (created is False). Raises LookupError for a version the flow does not have, and
    FlowError if the old text no longer passes today's checks.
    """
    old = find_version(flow, number)
    if old is None:
        raise LookupError(f"{flow.key} has no version {number}")
    note = note or f"retour à la version {number}"
    return publish(old.source, f"{flow.key} v{number}", published_by=published_by, note=note)


def flow_by_key(key: str) -> Flow | None:
    return db.session.scalar(sa.select(Flow).where(Flow.key == key))


def find_version(flow: Flow, number: int) -> FlowVersion | None:
    """Version `number` of `flow` (numbers count from 1 per flow)."""
    return db.session.scalar(
        sa.select(FlowVersion).where(FlowVersion.flow_id == flow.id, FlowVersion.version == number)
    )


@dataclass(frozen=True)
class VersionUse:
    """A published version and the check-ins that use it, by status (open, completed, missed):
    a completed check-in's is its first confirmed submission's version; an open one's, the
    version it was opened with until then."""

    version: FlowVersion
    checkins: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.checkins.values())


@dataclass(frozen=True)
class FlowSummary:
    flow: Flow
    title: str
    """The latest version's title in its first language, else the key."""
    versions: list[VersionUse]
    """Newest first."""

    @property
    def latest(self) -> FlowVersion:
        return self.versions[0].version


def versions(flow: Flow) -> list[VersionUse]:
    """Every version of `flow`, newest first, each with its check-ins counted by status."""
    return next(_uses([flow]), [])


def summaries() -> list[FlowSummary]:
    """Every flow with at least one version, by key: its title, versions and their check-ins."""
    flows = db.session.scalars(sa.select(Flow).order_by(Flow.key)).all()
    return [
        FlowSummary(flow, title_of(uses[0].version), uses)
        for flow, uses in zip(flows, _uses(flows), strict=True)
        if uses
    ]


def _uses(flows: list[Flow]) -> Iterator[list[VersionUse]]:
    """Each flow's versions with their check-in counts: two queries, whatever the number."""
    ids = [flow.id for flow in flows]
    counts: dict[int, dict[str, int]] = {}
    for version_id, status, count in db.session.execute(
        sa.select(Checkin.flow_version_id, Checkin.status, sa.func.count())
        .where(Checkin.flow_id.in_(ids))
        .group_by(Checkin.flow_version_id, Checkin.status)
    ):
        counts.setdefault(version_id, {})[status] = count
    by_flow: dict[int, list[VersionUse]] = {id_: [] for id_ in ids}
    for found in db.session.scalars(
        sa.select(FlowVersion)
        .where(FlowVersion.flow_id.in_(ids))
        .order_by(FlowVersion.flow_id, FlowVersion.version.desc())
    ):
        by_flow[found.flow_id].append(VersionUse(found, counts.get(found.id, {})))
    for flow in flows:
        yield by_flow[flow.id]


def title_of(found: FlowVersion) -> str:
    """A version's title in its first language; the key if it has none or no longer loads."""
    try:
        parsed = definition(found.id)
    except FlowError:
        return found.flow.key
    return parsed.text(parsed.title, parsed.languages[0]) or parsed.key


@dataclass(frozen=True)
class DiffLine:
    """One line of a comparison: "same", "added", "removed", or "gap" (lines left out between
    two changed places); `old` and `new` are its line numbers on each side."""

    kind: str
    text: str = ""
    old: int | None = None
    new: int | None = None


def compare(old: str, new: str, context: int = 3) -> list[DiffLine]:
    """The lines that changed from `old` to `new`, with `context` unchanged lines around each
    change and a gap where unchanged lines are left out, as a reviewer reads a diff; empty when
    the texts have the same lines."""
    before, after = old.splitlines(), new.splitlines()
    if before == after:
        return []
    groups = list(difflib.SequenceMatcher(None, before, after, False).get_grouped_opcodes(context))
    lines: list[DiffLine] = []
    for group in groups:
        if lines or group[0][1] or group[0][3]:  # lines left out before this change
            lines.append(DiffLine("gap"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [
                    DiffLine("same", before[i], i + 1, j1 + i - i1 + 1) for i in range(i1, i2)
                ]
                continue
            lines += [DiffLine("removed", before[i], old=i + 1) for i in range(i1, i2)]
            lines += [DiffLine("added", after[j], new=j + 1) for j in range(j1, j2)]
    _, _, last_old, _, last_new = groups[-1][-1]
    if last_old < len(before) or last_new < len(after):  # lines left out after the last change
        lines.append(DiffLine("gap"))
    return lines


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
