"""The results pages (admin/results_pages.py) on SQLite and PostgreSQL: a CSCom's page with its
run chart and answers, the alerts, the message log and the CSV downloads, each within the
reader's scope.

The traffic is real: check-ins answered by SMS through the webhook (their alerts written by the
service itself), a stranger's SMS, an escalation; twenty weeks of Malibougou's indicator (the
digest test's history: a long run above the median).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from admin.rollup import district_grid, district_rollup, recent_periods
from models import AuditEntry, Checkin, Facility, InboundMessage, OutboundMessage, Worker, db
from services.expected import statuses
from services.exports import (
    ANSWER_COLUMNS,
    MESSAGE_COLUMNS,
    answer_rows,
    message_rows,
    write_csv,
)
from services.flow_store import active_flows, definition, publish
from services.outbox import message_row
from services.scope import cscoms_in_scope
from tests.admin.conftest import ADMIN, REGIONAL, SUPERVISOR, new_client, page_text
from tests.services.test_digest_signals import ROSE, complete
from tests.supervision.districts import (
    COMPACT,
    FOCAL_POINT,
    KLB_FOCAL_POINT,
    OTHER_SUPERVISOR,
    SGU_FOCAL_POINT,
    WEDNESDAY,
)
from tests.supervision.districts import SUPERVISOR as AWA

STRANGER = "+22376000099"
NO_MEETING_NEEDS_HELP = "QI 2 2 45 40 1 1 RAS"
"""met: no (an alert), support: yes (an urgent alert)."""
_ids = itertools.count(1)


def sms(app, sender: str, text: str) -> None:
    form = {
        "from": sender,
        "to": "12345",
        "text": text,
        "date": "2026-12-02 10:00:00",
        "id": f"ATXid_results_{next(_ids)}",
        "linkId": "",
        "networkCode": "61001",
    }
    assert new_client(app).post("/sms/incoming", data=form).status_code == 200


@pytest.fixture
def traffic(app, region, monkeypatch) -> dict[str, int]:
    monkeypatch.setattr("webhooks.sms.utcnow", lambda: WEDNESDAY)
    complete("CSCOM-MLB", ROSE, skip_last=True)  # weeks 30 to 48: W49 comes by SMS
    db.session.commit()
    sms(app, FOCAL_POINT, NO_MEETING_NEEDS_HELP)  # Kati: two alerts to Dr Awa Traoré
    sms(app, KLB_FOCAL_POINT, COMPACT.replace(" 2 RAS", " 1 RAS"))  # Koulikoro: urgent alert
    sms(app, SGU_FOCAL_POINT, COMPACT)  # Ségou: nobody supervises it in the demo
    sms(app, STRANGER, "Bonjour")
    awa = db.session.scalar(sa.select(Worker).where(Worker.phone == AWA))
    escalation = message_row(
        app.config["SETTINGS"],
        WEDNESDAY,
        phone=AWA,
        text="QI S49: 2 CSCom sans réponse: CSCOM-KTD CSCOM-SNB",
        kind="escalation",
        worker_id=awa.id,
        dedupe_key=f"escalate:{active_flows()[0].flow_id}:2026-W49:{awa.id}",
    )
    db.session.add(OutboundMessage(**escalation))
    db.session.commit()
    return region


def rows_of(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def facility_url(region: dict[str, int], code: str) -> str:
    return f"/admin/results/facilities/{region[code]}"


# -- a CSCom's page -------------------------------------------------------------------------------


def test_a_cscom_page_shows_its_run_chart_and_its_answers(signed_in, traffic):
    page = page_text(signed_in(SUPERVISOR).get(facility_url(traffic, "CSCOM-MLB")))
    assert "<h1>CSCom Malibougou<small>CSCOM-MLB</small></h1>" in page
    svg = re.search(r"<svg .*?</svg>", page, re.S).group(0)
    assert 'role="img"' in svg and "<title " in svg and "<desc " in svg
    assert svg.count('class="point"') == 20  # 19 weeks of history and this week's SMS
    assert "hausse durable" in svg  # the digest's signal, marked and named
    assert "Signal : hausse durable, de S41 à S49" in page  # and said in words
    assert " style=" not in svg
    # The answers: this week's SMS first, as a reader says them.
    table = page.split('class="answers-table"')[1]
    assert '<th scope="col">S49<small>reçu</small></th>' in table
    assert "L'équipe QI s'est réunie cette semaine ?</th><td>Non</td>" in table
    assert "⚠ pas de réunion QI cette semaine" in table
    assert "Fatoumata Diarra<small>SMS" in table
    assert 'href="/admin/results/answers.csv?facility_id=' in page


@pytest.mark.parametrize(
    ("person", "code", "status"),
    [
        (SUPERVISOR, "CSCOM-MLB", 200),
        (SUPERVISOR, "CSCOM-KLB", 403),  # the district of Koulikoro
        (REGIONAL, "CSCOM-KLB", 200),
        (REGIONAL, "CSCOM-SGU", 403),  # another region
        (ADMIN, "CSCOM-SGU", 200),
        (ADMIN, "CSREF-KATI", 404),  # a district has a grid, not a CSCom's page
    ],
)
def test_a_cscom_page_is_within_the_readers_scope(signed_in, traffic, person, code, status):
    assert signed_in(person).get(facility_url(traffic, code)).status_code == status


def test_an_unknown_cscom_is_not_found(signed_in, traffic):
    assert signed_in(SUPERVISOR).get("/admin/results/facilities/999999").status_code == 404


def test_a_cscom_without_reports_says_so(signed_in, traffic):
    page = page_text(signed_in(ADMIN).get(facility_url(traffic, "CSCOM-SNB")))
    assert "Aucun rapport de ce CSCom pour l'instant." in page
    assert "Bonne pratique : pas encore de point." in page


def test_each_cscom_of_a_district_grid_opens_its_page(signed_in, traffic):
    page = page_text(signed_in(SUPERVISOR).get(f"/admin/districts/{traffic['CSREF-KATI']}"))
    for code in ("CSCOM-MLB", "CSCOM-KTD", "CSCOM-SNB"):
        assert f'<a href="{facility_url(traffic, code)}">' in page


# -- the message log ------------------------------------------------------------------------------


def logged_phones(client, path: str = "/admin/messages") -> set[str]:
    page = page_text(client.get(path))
    return set(re.findall(r"<small>(\+\d+)</small>", page))


def test_the_admin_reads_every_message_unknown_numbers_included(signed_in, traffic):
    phones = logged_phones(signed_in(ADMIN))
    assert {
        FOCAL_POINT,
        KLB_FOCAL_POINT,
        SGU_FOCAL_POINT,
        STRANGER,
        AWA,
        OTHER_SUPERVISOR,
    } <= phones


def test_a_supervisor_reads_the_messages_of_their_districts_people_only(signed_in, traffic):
    assert logged_phones(signed_in(SUPERVISOR)) == {FOCAL_POINT, AWA}


def test_a_regional_viewer_reads_the_messages_of_their_regions_people(signed_in, traffic):
    phones = logged_phones(signed_in(REGIONAL))
    assert phones == {FOCAL_POINT, AWA, KLB_FOCAL_POINT, OTHER_SUPERVISOR}


def test_the_log_shows_status_encoding_segments_cost_and_attempts(signed_in, traffic):
    db.session.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.kind == "escalation")
        .values(status="success", cost="XOF 25", attempts=2)
    )
    page = page_text(signed_in(SUPERVISOR).get("/admin/messages"))
    row = next(r for r in page.split("<tr>") if "CSCOM-KTD CSCOM-SNB" in r)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert "→ envoyé<small>relance</small>" in cells[1]
    assert cells[4] == "remis<small>success</small>"
    assert cells[5:] == ["GSM-7", "1", "XOF 25", "2"]
    received = next(r for r in page.split("<tr>") if "QI 2 2 45 40" in r)
    assert "← reçu" in received and "Fatoumata Diarra" in received


def test_the_log_pages_back_through_messages_of_one_moment(app, signed_in, traffic, monkeypatch):
    """An invitation to thousands shares one time: pages follow (time, direction, id)."""
    moment = datetime(2026, 12, 3, 8, tzinfo=UTC)
    awa = db.session.scalar(sa.select(Worker).where(Worker.phone == AWA))
    for n in range(5):
        db.session.add(
            OutboundMessage(
                **message_row(
                    app.config["SETTINGS"], moment, phone=AWA, text=f"tie {n}", kind="system"
                ),
            )
        )
        db.session.flush()
    for n in range(2):
        db.session.add(
            InboundMessage(
                gateway_id=f"tie-{n}",
                phone=AWA,
                text=f"tie in {n}",
                worker_id=awa.id,
                encoding="GSM-7",
                segments=1,
                received_at=moment,
            )
        )
    db.session.execute(
        sa.update(OutboundMessage)
        .values(worker_id=awa.id)
        .where(OutboundMessage.text.like("tie %"))
    )
    db.session.commit()
    client = signed_in(SUPERVISOR)
    everything = texts(client.get("/admin/messages"))
    monkeypatch.setattr("admin.results_pages.LOG_PAGE", 2)
    seen, path = [], "/admin/messages"
    while path:
        response = client.get(path)
        seen += texts(response)
        older = re.search(r'href="(/admin/messages\?before=[^"]+)"', page_text(response))
        path = older.group(1) if older else None
    assert seen == everything
    assert everything[:7] == ["tie 4", "tie 3", "tie 2", "tie 1", "tie 0", "tie in 1", "tie in 0"]


def texts(response) -> list[str]:
    return re.findall(r'<td[^>]*class="text">(.*?)</td>', page_text(response), re.S)


def test_a_page_named_by_a_malformed_cursor_is_the_first(signed_in, traffic):
    client = signed_in(ADMIN)
    first = texts(client.get("/admin/messages"))
    assert texts(client.get("/admin/messages?before=yesterday~out~x")) == first


# -- alerts ---------------------------------------------------------------------------------------


def alert_rows(response) -> list[str]:
    return page_text(response).split("<tr>")[2:]  # after the header's row


def test_a_supervisor_sees_the_alerts_of_their_district_newest_first(signed_in, traffic):
    rows = alert_rows(signed_in(SUPERVISOR).get("/admin/alerts"))
    assert len(rows) == 3
    assert "pas de réunion QI" in "".join(rows) and "CSCom Koulikoro Gare" not in "".join(rows)
    urgent = next(r for r in rows if "demande l'appui" in r)
    assert '<strong class="urgent">alerte urgente</strong>' in urgent
    malibougou = f'<a href="/admin/results/facilities/{traffic["CSCOM-MLB"]}">CSCom Malibougou</a>'
    assert malibougou in urgent
    assert '<span class="recipient">Dr Awa Traoré : en attente</span>' in urgent
    assert "<small>S49</small>" in urgent
    escalation = next(r for r in rows if "sans réponse" in r)
    assert "relance" in escalation
    assert f'href="/admin/districts/{traffic["CSREF-KATI"]}"' in escalation


def test_the_admin_sees_every_districts_alerts(signed_in, traffic):
    rows = alert_rows(signed_in(ADMIN).get("/admin/alerts"))
    assert any("CSCom Koulikoro Gare" in row for row in rows)
    assert len(rows) == 4


# -- CSV downloads --------------------------------------------------------------------------------


def cli_csv(columns, rows) -> str:
    out = io.StringIO()
    write_csv(out, columns, rows)
    return out.getvalue()


def test_the_answers_download_is_the_cli_export(signed_in, traffic):
    complete("CSREF-KATI", [5])  # a check-in of a district's own staff: the admin's too
    db.session.commit()
    response = signed_in(ADMIN).get("/admin/results/answers.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    today = datetime.now(UTC).date()  # Bamako is UTC
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="reponses-{today.isoformat()}.csv"'
    )
    body = response.get_data(as_text=True)
    assert body.splitlines()[0] == ",".join(ANSWER_COLUMNS)
    assert body == cli_csv(ANSWER_COLUMNS, answer_rows())
    assert "\nCSREF-KATI," in body


def test_a_supervisors_answers_download_holds_their_district_only(signed_in, traffic):
    codes = {
        row["facility_code"]
        for row in rows_of(signed_in(SUPERVISOR).get("/admin/results/answers.csv"))
    }
    assert codes == {"CSCOM-MLB"}
    admin_codes = {
        r["facility_code"] for r in rows_of(signed_in(ADMIN).get("/admin/results/answers.csv"))
    }
    assert admin_codes == {"CSCOM-MLB", "CSCOM-KLB", "CSCOM-SGU"}


def test_one_cscoms_answers_download_is_named_for_it(signed_in, traffic):
    client = signed_in(REGIONAL)
    response = client.get(f"/admin/results/answers.csv?facility_id={traffic['CSCOM-KLB']}")
    assert "reponses-CSCOM-KLB-" in response.headers["Content-Disposition"]
    assert {row["facility_code"] for row in rows_of(response)} == {"CSCOM-KLB"}
    outside = client.get(f"/admin/results/answers.csv?facility_id={traffic['CSCOM-SGU']}")
    assert outside.status_code == 403


def test_a_download_is_audited_as_who_took_what(signed_in, traffic):
    client = signed_in(SUPERVISOR)
    client.get(f"/admin/results/answers.csv?facility_id={traffic['CSCOM-MLB']}&since=2026-12-01")
    db.session.commit()
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.actor, entry.action) == (SUPERVISOR.email, "export.answers")
    assert entry.after == {"facility_id": traffic["CSCOM-MLB"], "since": "2026-12-01"}


def test_an_answers_download_of_one_flow_and_since_a_day(signed_in, traffic):
    client = signed_in(ADMIN)
    rows = rows_of(client.get("/admin/results/answers.csv?flow=weekly_qi&since=2026-12-01"))
    assert {row["period"] for row in rows} == {"2026-W49"}
    assert client.get("/admin/results/answers.csv?flow=nope").status_code == 404
    assert client.get("/admin/results/answers.csv?since=hier").status_code == 400


def test_the_messages_download_is_the_cli_export_within_scope(signed_in, traffic):
    response = signed_in(ADMIN).get("/admin/results/messages.csv?since=2026-12-01")
    assert response.get_data(as_text=True) == cli_csv(
        MESSAGE_COLUMNS, message_rows(date(2026, 12, 1))
    )
    assert "messages-" in response.headers["Content-Disposition"]
    phones = {
        row["phone"] for row in rows_of(signed_in(SUPERVISOR).get("/admin/results/messages.csv"))
    }
    assert phones == {FOCAL_POINT, AWA}


def test_a_download_nobody_reads_queries_nothing(app, signed_in, traffic):
    """The rows are read as the body is: an unread response leaves no transaction open."""
    client = signed_in(ADMIN)
    response = client.get("/admin/results/messages.csv")
    assert response.status_code == 200
    response.close()
    facility = Facility(code="CSCOM-NEW", name="Nouveau", kind="cscom")
    db.session.add(facility)
    db.session.commit()  # would wait on SQLite's write lock had the download kept one
    assert facility.id


# -- the roll-up and the grid count as the contract does ------------------------------------------

PER_WORKER = """\
key: pair_check
title: {fr: "Suivi individuel"}
languages: [fr]
questions:
  - key: done
    type: choice
    prompt: {fr: "Fait ?"}
    choices:
      - {value: "yes", label: {fr: Oui}}
schedule: {every: week, opens: "mon 08:00", per: worker, roles: [qi_focal_point, dtc]}
"""


def same_as_statuses(flow_id: int, schedule, now: datetime, key: str) -> dict[str, list[int]]:
    """The grid's and the roll-up's counts, checked against services/expected.py's `statuses`
    period by period; returns the grid's first two periods by CSCom code."""
    scope = cscoms_in_scope("admin", None)
    (grid,) = [t for t in district_grid(scope, now, "Africa/Bamako") if t.key == key]
    (rollup,) = [t for t in district_rollup(scope, now, "Africa/Bamako") if t.key == key]
    periods = recent_periods(schedule, now)
    for index, period in enumerate(periods):
        found = statuses(db.session.connection(), flow_id, schedule, period)
        expected = {s.code: int(s.reported) for s in found}
        assert {line.code: line.cells[index].reported for line in grid.lines} == expected
        by_district = {}
        for status in found:
            done, total = by_district.get(status.district_id, (0, 0))
            by_district[status.district_id] = (done + status.reported, total + 1)
        assert {line.id: tuple(vars(line.cells[index]).values()) for line in rollup.lines} == (
            by_district
        )
    return {line.code: [cell.reported for cell in line.cells[:2]] for line in grid.lines}


def test_the_roll_up_counts_a_teams_flow_as_the_contracts_statuses(traffic):
    """One statement per flow (admin/rollup.py) reads who reported as services/expected.py's
    `statuses` says, one period at a time."""
    active = active_flows()[0]
    schedule = definition(active.version_id).schedule
    now = datetime(2026, 12, 2, 10, tzinfo=UTC)
    lines = same_as_statuses(active.flow_id, schedule, now, "weekly_qi")
    assert lines["CSCOM-MLB"] == [1, 1] and lines["CSCOM-SNB"] == [0, 0]


def test_the_roll_up_counts_a_per_worker_flow_as_the_contracts_statuses(region):
    """A CSCom of a `per: worker` flow has reported once each of its asked workers has."""
    version, _ = publish(PER_WORKER)
    db.session.commit()
    flow = definition(version.id)
    now = datetime(2026, 12, 2, 10, tzinfo=UTC)
    # Week 49: Malibougou's focal point but not its DTC (so Malibougou has not reported), Kati
    # Dar Salam's focal point and DTC, Koulikoro Gare's focal point. Week 48: both of Malibougou's.
    reports = {
        "2026-W49": [FOCAL_POINT, "+22370000021", "+22370000022", KLB_FOCAL_POINT],
        "2026-W48": [FOCAL_POINT, "+22370000012"],
    }
    for period, phones in reports.items():
        for phone in phones:
            worker = db.session.scalar(sa.select(Worker).where(Worker.phone == phone))
            db.session.add(
                Checkin(
                    flow_id=version.flow_id,
                    flow_version_id=version.id,
                    facility_id=worker.facility_id,
                    worker_id=worker.id,
                    period=period,
                    status="completed",
                    completed_at=now,
                )
            )
    db.session.commit()
    lines = same_as_statuses(version.flow_id, flow.schedule, now, "pair_check")
    assert lines["CSCOM-MLB"] == [0, 1] and lines["CSCOM-KTD"] == [1, 0]
