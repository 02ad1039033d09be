"""The messages the service starts on a schedule: invitations, reminders, escalations, digests.

`run(now)` is the periodic work's part about people (services/tick.py calls it every minute and
`flask tick --now` as if at any moment). It is idempotent and set-based:
- each piece of work has a key (`remind:3:2026-W49:1`: flow 3's first reminder of week 49);
  one SELECT finds which of the keys due now are done, so an idle minute costs one statement;
- each piece is a few statements over every CSCom at once (no loop of queries per person);
- each message has a dedupe key per (kind, flow, period, person) in a unique index, so two
  clocks at once, or a tick repeated, write nothing twice.
After an outage it sends what is useful now, never a pile: only the latest due reminder (an
invitation not yet sent stands for a reminder due with it), an escalation only while its period
is open, only the latest missed digest.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from config import Settings
from flows.definition import Flow as FlowDefinition
from flows.definition import Text
from flows.messages import say
from flows.schedule import Period, current_period, latest_weekly, short_period, subject_of
from flows.templates import render
from models import Checkin, Facility, ScheduleRun, Worker, db
from services import digests
from services.expected import asked, expected_cscoms, statuses
from services.flow_store import active_flows, definition
from services.outbox import message_row
from services.started_messages import write
from supervision.texts import escalation_text

DEFAULT_TEXT = {"invitation": "schedule.invite", "reminder": "schedule.remind"}
"""The service's own texts, for a schedule without `invite` or `remind`."""
_INSERT_BY_DIALECT = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}
_runs, _checkins = ScheduleRun.__table__, Checkin.__table__


@dataclass(frozen=True)
class Scheduled:
    """One active scheduled flow in its current period."""

    flow_id: int
    version_id: int
    flow: FlowDefinition
    period: Period

    @property
    def label(self) -> str:
        return self.period.label


@dataclass(frozen=True)
class PeriodKeys:
    """The keys of one scheduled flow's work in its current period (and its digest)."""

    open: str
    reminders: tuple[str, ...]
    escalate: str
    digest: str | None

    @property
    def uninvited(self) -> str:
        """Marked when the period was opened too late to invite: its digest is not sent."""
        return self.open.replace("open:", "uninvited:", 1)

    @property
    def all(self) -> list[str]:
        return [self.open, *self.reminders, self.escalate, *filter(None, [self.digest])]


@dataclass(frozen=True)
class Work:
    """A piece of scheduled work: done once, under `key` (and `covers`, marked with it)."""

    key: str
    kind: str
    run: Callable[[sa.Connection], int]
    covers: tuple[str, ...] = ()


def run(settings: Settings, now: datetime) -> Counter[str]:
    """Do the scheduled work due at `now` and not done yet; returns what it wrote, per kind.

    Each piece commits on its own, so a failure halfway keeps what was done.
    """
    local = now.astimezone(ZoneInfo(settings.timezone))
    plan = Planner(settings, now, local)
    items = list(plan.scheduled())
    keys = [key for item in items for key in plan.keys(item).all]
    if not keys:
        return Counter()
    connection = db.session.connection()
    done = dict(
        connection.execute(
            sa.select(_runs.c.key, _runs.c.done_at).where(_runs.c.key.in_(keys))
        ).all()
    )
    written: Counter[str] = Counter()
    for work in plan.work(items, done):
        written[work.kind] += work.run(connection)
        _mark(connection, [work.key, *work.covers], now)
        db.session.commit()
        connection = db.session.connection()
    if plan.opened:
        written["check-ins opened"] = plan.opened
    return written


class Planner:
    """Which work is due at one moment, from the flows' schedules and what was done already.

    Deadlines run from when the invitation went out (on time: when the period opened), so
    after an outage the people invited late still get their full days before a reminder, and
    an escalation never lands in the minute after its invitation. An opening with less than
    half its period left sends no invitation (nor reminders or escalation): a first start or a
    long outage late in a period would otherwise only add noise.
    """

    def __init__(self, settings: Settings, now: datetime, local: datetime) -> None:
        self.settings, self.now, self.local = settings, now, local
        self.opened = 0
        """Check-ins the work opened."""
        self._costed: dict[tuple[str, str, str], dict] = {}

    def scheduled(self) -> Iterator[Scheduled]:
        for active in active_flows():
            flow = definition(active.version_id)
            if flow.schedule is not None:
                period = current_period(flow.schedule, self.local)
                yield Scheduled(active.flow_id, active.version_id, flow, period)

    def keys(self, item: Scheduled) -> PeriodKeys:
        """Every key this period's work can have: one SELECT tells which are done."""
        base = f"{item.flow_id}:{item.label}"
        count = len(item.flow.schedule.remind_after)
        weekly = item.flow.schedule.every == "week"
        return PeriodKeys(
            f"open:{base}",
            tuple(f"remind:{base}:{i}" for i in range(1, count + 1)),
            f"escalate:{base}",
            f"digest:{item.flow_id}:{self._digest_period()}" if weekly else None,
        )

    def work(self, items: list[Scheduled], done: dict[str, datetime]) -> Iterator[Work]:
        for item in items:
            yield from self._period_work(item, done)
        for item in items:
            key = self.keys(item).digest
            if key is not None and key not in done:
                report = digests.Digest(
                    self.settings, self.now, item.flow_id, item.flow, self._digest_period()
                )
                yield Work(key, "digest", report.write)

    def _period_work(self, item: Scheduled, done: dict[str, datetime]) -> Iterator[Work]:
        keys, schedule, period = self.keys(item), item.flow.schedule, item.period
        if keys.open not in done:
            if period.closes_at - self.local < (period.closes_at - period.opens_at) / 2:
                late = (*keys.reminders, keys.escalate, keys.uninvited)
                yield Work(keys.open, "invitation", self._opening(item, keys.open, False), late)
            else:
                yield Work(keys.open, "invitation", self._opening(item, keys.open, True))
            return
        invited = done[keys.open]
        due = [
            key
            for key, after in zip(keys.reminders, schedule.remind_after, strict=True)
            if invited + after <= self.local
        ]
        if due and due[-1] not in done:
            # Only the latest due reminder; the earlier ones are marked with it.
            yield Work(due[-1], "reminder", self._reminder(item, due[-1]), tuple(due[:-1]))
        escalate = schedule.escalate_after
        if (
            escalate is not None
            and keys.escalate not in done
            and invited + escalate <= self.local < period.closes_at
        ):
            yield Work(keys.escalate, "escalation", self._escalation(item, keys.escalate))

    def _digest_period(self) -> str:
        """The ISO week that ended before the latest digest moment (DIGEST_AT)."""
        moment = latest_weekly(self.settings.digest_at, self.local)
        ended = (moment - timedelta(days=moment.isoweekday())).isocalendar()
        return f"{ended.year}-W{ended.week:02d}"

    # -- the work ----------------------------------------------------------------------------------

    def _opening(self, item: Scheduled, key: str, invite: bool) -> Callable[[sa.Connection], int]:
        def opening(connection: sa.Connection) -> int:
            self.opened += open_checkins(connection, item)
            if not invite:
                return 0
            return self._to_asked(connection, item, key, "invitation", item.flow.schedule.invite)

        return opening

    def _reminder(self, item: Scheduled, key: str) -> Callable[[sa.Connection], int]:
        def reminder(connection: sa.Connection) -> int:
            return self._to_asked(connection, item, key, "reminder", item.flow.schedule.remind)

        return reminder

    def _escalation(self, item: Scheduled, key: str) -> Callable[[sa.Connection], int]:
        def escalation(connection: sa.Connection) -> int:
            missing: dict[int, list[str]] = defaultdict(list)
            for status in statuses(connection, item.flow_id, item.flow.schedule, item.label):
                if not status.reported and status.district_id is not None:
                    missing[status.district_id].append(status.code)
            rows = []
            for supervisor in _viewers(connection, "supervisor", list(missing)):
                subject = subject_of(item.label)
                text = escalation_text(
                    subject, missing[supervisor.facility_id], supervisor.language
                )
                rows.append(self._row(supervisor, "escalation", key, text))
            return write(connection, self.settings, rows, item.period.closes_at)

        return escalation

    def _to_asked(
        self, connection: sa.Connection, item: Scheduled, key: str, kind: str, own: Text
    ) -> int:
        """One message to each asked person whose check-in of the period is still open."""
        schedule = item.flow.schedule
        open_checkin = sa.select(_checkins.c.id).where(
            _checkins.c.flow_id == item.flow_id,
            _checkins.c.period == item.label,
            _checkins.c.status == "open",
            _checkins.c.facility_id == Worker.facility_id,
            _checkins.c.worker_id == Worker.id
            if schedule.per == "worker"
            else _checkins.c.worker_id.is_(None),
        )
        people = connection.execute(
            sa.select(Worker.id, Worker.name, Worker.phone, Worker.language, Facility.name)
            .join(Facility, Facility.id == Worker.facility_id)
            .where(
                asked(schedule),
                Worker.opted_out.is_(False),
                Worker.facility_id.in_(expected_cscoms(schedule)),
                open_checkin.exists(),
            )
        ).all()
        rows = []
        for person in people:
            fields = {
                "facility": person[4],
                "name": person.name,
                "period": short_period(item.label),
                "flow": item.flow.text(item.flow.title, person.language),
                "code": self.settings.ussd_code,
            }
            template = item.flow.text(own, person.language) if own else None
            if template:
                text = render(template, fields)
            else:
                text = say(DEFAULT_TEXT[kind], person.language, **fields)
            rows.append(self._row(person, kind, key, text))
        return write(connection, self.settings, rows, item.period.closes_at)

    def _row(self, person, kind: str, key: str, text: str) -> dict:
        """An outbox row for `person`, unique per piece of work and person (its dedupe key).

        A text's form, cost and release time are worked out once per run (message_row passes
        the person's fields through): an invitation is one text per language for thousands.
        """
        costed = self._costed.get((kind, text, person.language))
        if costed is None:
            costed = self._costed[(kind, text, person.language)] = message_row(
                self.settings, self.now, phone="", text=text, kind=kind, language=person.language
            )
        return {
            **costed,
            "phone": person.phone,
            "worker_id": person.id,
            "dedupe_key": f"{key}:{person.id}",
        }


def open_checkins(connection: sa.Connection, item: Scheduled) -> int:
    """Open the period's check-in of every expected CSCom (or worker) not yet opened: one INSERT."""
    schedule = item.flow.schedule
    per_worker = schedule.per == "worker"
    if per_worker:
        targets = sa.select(Worker.facility_id, Worker.id).where(
            asked(schedule), Worker.facility_id.in_(expected_cscoms(schedule))
        )
    else:
        targets = sa.select(Facility.id, sa.null()).where(
            Facility.id.in_(expected_cscoms(schedule))
        )
    columns = targets.add_columns(
        sa.literal(item.flow_id),
        sa.literal(item.version_id),
        sa.literal(item.label),
        sa.literal("open"),
        sa.literal(item.period.opens_at, _checkins.c.opened_at.type),
        sa.literal(item.period.closes_at, _checkins.c.closes_at.type),
    )
    insert = _INSERT_BY_DIALECT[connection.dialect.name](_checkins).from_select(
        [
            "facility_id",
            "worker_id",
            "flow_id",
            "flow_version_id",
            "period",
            "status",
            "opened_at",
            "closes_at",
        ],
        columns,
    )
    opened = connection.execute(
        insert.on_conflict_do_nothing(
            index_elements=["flow_id", "worker_id" if per_worker else "facility_id", "period"],
            index_where=_checkins.c.worker_id.is_not(None)
            if per_worker
            else _checkins.c.worker_id.is_(None),
        ).returning(_checkins.c.id)
    ).all()
    return len(opened)


def _viewers(connection: sa.Connection, role: str, facility_ids: list[int]):
    """Active, not opted-out people of `role` at these facilities (CSRefs, or regions)."""
    return connection.execute(
        sa.select(Worker.id, Worker.phone, Worker.language, Worker.facility_id).where(
            Worker.role == role,
            Worker.active.is_(True),
            Worker.opted_out.is_(False),
            Worker.facility_id.in_(facility_ids),
        )
    ).all()


def _mark(connection: sa.Connection, keys: list[str], now: datetime) -> None:
    insert = _INSERT_BY_DIALECT[connection.dialect.name](_runs)
    connection.execute(
        insert.on_conflict_do_nothing(index_elements=["key"]),
        [{"key": key, "done_at": now} for key in keys],
    )
