"""`flask export answers [--flow KEY] [--since YYYY-MM-DD]`: CSV on stdout, one row per answer,
after real USSD check-ins, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from datetime import UTC, datetime

import pytest

import cli.exports
from models import db
from services.demo import seed_demo
from tests.services.test_exports import (
    FOCAL_POINT,
    WEEKLY_ANSWERS,
    complete_stock_checkin,
    complete_weekly_checkin,
    set_completed_at,
)

HEADER = (
    "facility_code,period,flow_key,flow_version,question_key,value,phone,channel,completed_at,"
    "reference"
)


@pytest.fixture
def export(app):
    runner = app.test_cli_runner()

    def export(*options: str):
        return runner.invoke(args=["export", "answers", *options])

    return export


def rows(stdout: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(stdout, newline="")))


@pytest.fixture
def seeded(app) -> None:
    seed_demo()


def test_with_no_answers_only_the_header_is_printed(export):
    result = export()

    assert result.exit_code == 0
    assert result.stdout == HEADER + "\n"


def test_a_completed_checkin_gives_one_row_per_answer_with_the_contract_columns(
    seeded, client, export
):
    checkin = complete_weekly_checkin(client)

    result = export()

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == HEADER
    exported = rows(result.stdout)
    assert [(row["question_key"], row["value"]) for row in exported] == [
        (key, str(value)) for key, value in WEEKLY_ANSWERS.items()
    ]
    completed_at = checkin.completed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for row in exported:
        assert row == {
            "facility_code": "CSCOM-MLB",
            "period": checkin.period,
            "flow_key": "weekly_qi",
            "flow_version": "1",
            "question_key": row["question_key"],
            "value": row["value"],
            "phone": FOCAL_POINT,
            "channel": "ussd",
            "completed_at": completed_at,
            "reference": "yes",
        }


def test_an_export_lets_the_web_and_the_worker_write_while_it_streams(
    seeded, client, export, monkeypatch
):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a PostgreSQL reader never blocks writers")
    complete_weekly_checkin(client)
    wrote = []

    def write_csv_while_another_process_writes(out, columns, rows, lineterminator):
        next(iter(rows))  # the export's transaction is open and reading
        other = sqlite3.connect(db.engine.url.database, timeout=0.2, isolation_level=None)
        try:
            other.execute("UPDATE workers SET name = name")
            wrote.append(True)
        except sqlite3.OperationalError:
            wrote.append(False)
        finally:
            other.close()
        return 0

    monkeypatch.setattr(cli.exports, "write_csv", write_csv_while_another_process_writes)
    assert export().exit_code == 0
    assert wrote == [True]


def test_a_number_answer_is_written_as_the_number(seeded, client, export):
    complete_weekly_checkin(client)

    values = {row["question_key"]: row["value"] for row in rows(export().stdout)}

    assert (values["attendees"], values["denominator"], values["numerator"]) == ("6", "40", "38")


def test_completed_at_is_iso_8601_in_utc(seeded, client, export):
    set_completed_at(complete_weekly_checkin(client), datetime(2026, 3, 2, 9, 15, 30, tzinfo=UTC))

    [completed_at] = {row["completed_at"] for row in rows(export().stdout)}

    assert completed_at == "2026-03-02T09:15:30Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", completed_at)


def test_flow_keeps_the_answers_to_one_flow(seeded, client, export):
    complete_weekly_checkin(client)
    complete_stock_checkin(client, doses="12")

    stock = export("--flow", "stock_check")
    weekly = export("--flow", "weekly_qi")

    assert [(r["flow_key"], r["question_key"], r["value"]) for r in rows(stock.stdout)] == [
        ("stock_check", "doses", "12")
    ]
    assert {r["flow_key"] for r in rows(weekly.stdout)} == {"weekly_qi"}
    assert len(rows(weekly.stdout)) == len(WEEKLY_ANSWERS)
    assert len(rows(export().stdout)) == len(WEEKLY_ANSWERS) + 1


def test_an_unknown_flow_is_a_usage_error_naming_the_known_ones(seeded, export):
    result = export("--flow", "weekly")

    assert result.exit_code == 2
    assert "no flow 'weekly' (known: weekly_qi)" in result.stderr
    assert result.stdout == ""


def test_since_keeps_checkins_completed_from_midnight_utc_that_day(seeded, client, export):
    set_completed_at(complete_weekly_checkin(client), datetime(2026, 3, 1, 23, 59, tzinfo=UTC))
    set_completed_at(complete_stock_checkin(client), datetime(2026, 3, 2, 0, 0, tzinfo=UTC))

    day_before = export("--since", "2026-03-01")
    that_day = export("--since", "2026-03-02")
    day_after = export("--since", "2026-03-03")

    assert len(rows(day_before.stdout)) == len(WEEKLY_ANSWERS) + 1
    assert [r["flow_key"] for r in rows(that_day.stdout)] == ["stock_check"]
    assert day_after.stdout == HEADER + "\n"


def test_flow_and_since_together(seeded, client, export):
    set_completed_at(complete_weekly_checkin(client), datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    set_completed_at(complete_stock_checkin(client), datetime(2026, 3, 9, 12, 0, tzinfo=UTC))

    result = export("--flow", "weekly_qi", "--since", "2026-03-02")

    assert result.exit_code == 0
    assert rows(result.stdout) == []


@pytest.mark.parametrize("since", ["2026-13-01", "02/03/2026", "yesterday", "2026-03-02T10:00"])
def test_a_bad_date_is_a_clear_usage_error(app, export, since):
    result = export("--since", since)

    assert result.exit_code == 2
    assert "Invalid value for '--since'" in result.stderr
    assert "%Y-%m-%d" in result.stderr
    assert result.stdout == ""
