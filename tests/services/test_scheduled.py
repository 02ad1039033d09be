"""A month of the demo district driven by the clock: who is invited, reminded, escalated to,
and sent a digest, checked against a table written before the code.

The demo region: the district of Kati (supervisor Dr Awa Traoré, three CSComs), the district of
Koulikoro (its supervisor, one CSCom) and a regional viewer; each CSCom has a QI focal point and
a DTC, whom the weekly check-in asks (opens Monday 08:00, reminders after 1 and 2 days,
escalation after 3 days, digest Monday 07:00). Times are Bamako's (UTC).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import Checkin, Facility, OutboundMessage, Worker, db
from services import flow_store
from services.demo import seed_demo
from services.tick import tick as clock_tick
from tests.webhooks.test_ussd import WHOLE_CHECKIN
from workers.outbox import dispatch

ROOT = Path(__file__).resolve().parents[2]
AWA, SEYDOU, MAMADOU = "+22370000001", "+22370000002", "+22370000003"  # Kati, region, Koulikoro
FATOUMATA, MOUSSA = "+22370000011", "+22370000012"
AMINATA, OUMAR, MARIAM, IBRAHIM = "+22370000021", "+22370000022", "+22370000031", "+22370000032"
ASSITAN, BAKARY = "+22370000041", "+22370000042"  # CSCom Koulikoro Gare, which never reports
ALL_ASKED = {FATOUMATA, MOUSSA, AMINATA, OUMAR, MARIAM, ASSITAN, BAKARY}  # Ibrahim opted out
SUPERVISORS = {AWA, MAMADOU}

# (tick at, what the tick writes: kind -> recipients). Written before the code.
MONTH = [
    ("2026-11-30T07:00", {}),  # digest of W48: the service was not running then
    ("2026-11-30T08:00", {"invitation": ALL_ASKED}),
    ("2026-11-30T08:01", {}),  # idle: nothing twice
    # Malibougou (Fatoumata) reports on Monday 09:00
    ("2026-12-01T08:00", {"reminder": {AMINATA, OUMAR, MARIAM, ASSITAN, BAKARY}}),
    # Kati Dar Salam (Oumar) reports on Tuesday 12:00
    ("2026-12-02T08:00", {"reminder": {MARIAM, ASSITAN, BAKARY}}),
    ("2026-12-03T08:00", {"escalation": SUPERVISORS}),
    ("2026-12-04T08:00", {}),
    ("2026-12-07T07:00", {"digest": {*SUPERVISORS, SEYDOU}}),
    # two days without a clock: W50 opened Monday 08:00; its invitation goes out late, and the
    # reminders and the escalation count their days from it, not from the opening
    ("2026-12-09T09:00", {"invitation": ALL_ASKED}),
    ("2026-12-09T09:01", {}),
    ("2026-12-10T08:00", {}),
    ("2026-12-10T09:00", {"reminder": ALL_ASKED}),
    ("2026-12-11T09:00", {"reminder": ALL_ASKED}),
    ("2026-12-12T09:00", {"escalation": SUPERVISORS}),
    ("2026-12-14T07:00", {"digest": {*SUPERVISORS, SEYDOU}}),
    # a first clock late in a period opens its check-ins but invites nobody
    ("2026-12-18T10:00", {}),
]
REPORTS = {  # (when, who) completes their CSCom's check-in by USSD
    "2026-11-30T09:00": FATOUMATA,
    "2026-12-01T12:00": OUMAR,
}


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


def written_since(last_id: int) -> dict[str, set[str]]:
    rows = db.session.execute(
        sa.select(OutboundMessage.kind, OutboundMessage.phone).where(OutboundMessage.id > last_id)
    ).all()
    found: dict[str, set[str]] = {}
    for kind, phone in rows:
        found.setdefault(kind, set()).add(phone)
    return found


def last_id() -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(OutboundMessage.id), 0)))


def tick(app, moment: str) -> None:
    """What the clock does every minute, as if at `moment`."""
    clock_tick(at(moment), app.config["SETTINGS"], app.extensions["redis"])


@pytest.fixture
def district(app):
    seed_demo()
    db.session.execute(sa.update(Worker).where(Worker.phone == IBRAHIM).values(opted_out=True))
    db.session.commit()


def report(client, phone: str, moment: str, monkeypatch) -> None:
    from cli.simulate import UssdDial

    monkeypatch.setattr("services.ussd_steps.utcnow", lambda: at(moment))

    def post(path, form):
        response = client.post(path, data=form)
        return response.status_code, response.get_data(as_text=True)

    session = UssdDial(post, phone)
    session.start()
    for entry in WHOLE_CHECKIN:
        _, body = session.send(entry)
    assert body.startswith("END ")


def test_a_month_of_the_demo_district_sends_exactly_the_expected_messages(
    app, client, district, monkeypatch, standin, redis, run_worker
):
    for moment, expected in MONTH:
        for when, phone in REPORTS.items():
            if MONTH[[m for m, _ in MONTH].index(moment) - 1][0] < when <= moment:
                report(client, phone, when, monkeypatch)
        before = last_id()
        tick(app, moment)
        assert written_since(before) == expected, moment
    per_kind = Counter(db.session.scalars(sa.select(OutboundMessage.kind)))
    assert per_kind == {"invitation": 14, "reminder": 22, "escalation": 4, "digest": 6}
    digests = dict(
        db.session.execute(
            sa.select(OutboundMessage.phone, OutboundMessage.text).where(
                OutboundMessage.dedupe_key.like("digest:%:2026-W49:%")
            )
        ).all()
    )
    assert digests == {
        AWA: "QI S49 CSRef de Kati: 2/3 ont répondu. Manquants: CSCOM-SNB",
        MAMADOU: "QI S49 CSRef de Koulikoro: 0/1 ont répondu. Manquants: CSCOM-KLB",
        SEYDOU: "QI S49 Région de Koulikoro: 2/4 ont répondu. CSRef de Koulikoro 0/1, "
        "CSRef de Kati 2/3",
    }
    # Every one of them leaves through the real worker and the official SDK, once.
    dispatch(redis, at("2027-01-01T00:00"))
    run_worker()
    sent = Counter(message.number for message in standin.messages())
    expected = Counter(db.session.scalars(sa.select(OutboundMessage.phone)))
    assert sent == expected


def test_two_clocks_at_once_write_each_message_once(app, district, tmp_path):
    """Two `flask tick` processes started together (the clock restarted on two machines)."""
    env = {
        **os.environ,
        "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "REDIS_URL": app.config["SETTINGS"].redis_url,
        "QUIET_HOURS": "",
    }
    command = [sys.executable, "-m", "flask", "--app", "app", "tick", "--now", "2026-11-30T08:00"]
    clocks = [subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE) for _ in "ab"]
    assert [clock.wait(60) for clock in clocks] == [0, 0], [c.stderr.read() for c in clocks]
    rows = db.session.execute(sa.select(OutboundMessage.kind, OutboundMessage.phone)).all()
    assert sorted(rows) == sorted(("invitation", phone) for phone in ALL_ASKED)


def test_an_idle_minute_costs_at_most_five_statements(app, district):
    """Transaction control aside: the missed check-ins, the work done, the outbox's repairs."""
    tick(app, "2026-11-30T08:00")
    flow_store.forget_active_flows()  # the clock's next minute reads the current flows again
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        tick(app, "2026-11-30T08:01")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)
    work = [s for s in statements if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
    assert len(work) <= 5, work


def test_a_deactivated_cscom_is_expected_no_more(app, district):
    """Closed by an admin (the console deactivates, never deletes): no check-in, no invitation."""
    db.session.execute(sa.update(Facility).where(Facility.code == "CSCOM-SNB").values(active=False))
    db.session.commit()
    before = last_id()
    tick(app, "2026-11-30T08:00")
    assert written_since(before)["invitation"] == ALL_ASKED - {MARIAM}
    opened = db.session.scalars(
        sa.select(Facility.code).join(Checkin, Checkin.facility_id == Facility.id)
    ).all()
    assert "CSCOM-SNB" not in opened and "CSCOM-MLB" in opened
