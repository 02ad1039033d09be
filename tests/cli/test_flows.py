"""`flask flows lint|publish|export` and `flask tick`, as an admin runs them."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from models import Checkin, FlowVersion, db
from services.demo import seed_demo

WEEKLY = str(Path(__file__).resolve().parents[2] / "flows" / "weekly_qi.yaml")
BROKEN = """\
key: broken
languages: [fr]
questions:
  - key: met
    type: choice
    promt: {fr: "Réunion ?"}
    choices:
      - {value: "yes", label: "Oui"}
"""


def test_lint_reports_screen_costs_at_their_line_and_exits_0_for_the_default_flow(app):
    result = app.test_cli_runner().invoke(args=["flows", "lint", WEEKLY])
    assert result.exit_code == 0, result.output
    lines = Path(WEEKLY).read_text(encoding="utf-8").splitlines()
    closing = next(number for number, line in enumerate(lines, 1) if line.startswith("closing:"))
    assert f"info: {WEEKLY}:{closing}: closing [fr]: SMS GSM-7, 1 segment" in result.output
    assert result.output.rstrip().endswith("weekly_qi, 8 questions, 0 warnings")


def test_lint_warns_with_file_and_line_on_a_missing_title_and_a_missing_language(app, tmp_path):
    path = tmp_path / "untitled.yaml"
    path.write_text(BROKEN.replace("promt", "prompt").replace("[fr]", "[fr, bm]"), "utf-8")

    result = app.test_cli_runner().invoke(args=["flows", "lint", str(path)])

    assert result.exit_code == 0, result.output
    assert f"warning: {path}:1: title [fr]: no title" in result.output
    assert f"warning: {path}:6: question 'met' [bm]: no text in bm" in result.output
    assert result.output.rstrip().endswith("broken, 1 question, 2 warnings")


def test_lint_names_file_line_and_question_and_exits_1(app, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["flows", "lint", str(path)])
    assert result.exit_code == 1
    assert f"error: {path}:6: question 'met': a question: unknown field 'promt'" in result.output
    assert "expected one of:" in result.output


def test_lint_of_a_missing_file_says_so(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["flows", "lint", str(tmp_path / "none.yaml")])
    assert result.exit_code != 0
    assert "cannot read the file" in result.output


def test_publish_stores_a_new_version_only_when_the_text_changed(app, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["flows", "publish", WEEKLY]).output.strip() == "weekly_qi v1"
    again = runner.invoke(args=["flows", "publish", WEEKLY]).output.strip()
    assert again == "weekly_qi v1 (unchanged)"
    edited = tmp_path / "weekly.yaml"
    edited.write_text(Path(WEEKLY).read_text(encoding="utf-8") + "\n# v2\n", encoding="utf-8")
    assert runner.invoke(args=["flows", "publish", str(edited)]).output.strip() == "weekly_qi v2"
    assert db.session.scalar(sa.select(sa.func.count(FlowVersion.id))) == 2


def test_publish_refuses_an_invalid_flow_and_stores_nothing(app, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["flows", "publish", str(path)])
    assert result.exit_code == 1
    assert db.session.scalar(sa.select(sa.func.count(FlowVersion.id))) == 0


def test_export_gives_back_the_published_text_exactly(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["flows", "publish", WEEKLY])
    result = runner.invoke(args=["flows", "export", "weekly_qi"])
    assert result.output == Path(WEEKLY).read_text(encoding="utf-8")
    missing = runner.invoke(args=["flows", "export", "nope"])
    assert missing.exit_code == 1
    assert "no published flow 'nope'" in missing.output


def test_tick_opens_one_checkin_per_cscom_invites_and_marks_last_weeks_missed(app):
    seed_demo()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["tick", "--now", "2026-11-30T08:05"])
    assert "scheduled: check-ins opened: 4, invitation: 8; 0 check-ins missed" in first.output
    periods = set(db.session.scalars(sa.select(Checkin.period)))
    assert periods == {"2026-W49"}
    again = runner.invoke(args=["tick", "--now", "2026-11-30T09:00"])
    assert "scheduled: nothing due; 0 check-ins missed" in again.output
    next_week = runner.invoke(args=["tick", "--now", "2026-12-07T08:00"])
    assert "check-ins opened: 4, digest: 3, invitation: 8; 4 check-ins missed" in next_week.output


def test_tick_refuses_a_malformed_date(app):
    result = app.test_cli_runner().invoke(args=["tick", "--now", "next monday"])
    assert result.exit_code == 2
    assert "is not an ISO date-time" in result.output
