"""A facility's results (services/facility_results.py): its run charts read the points the
weekly digest reads, with the same signals, and its latest check-ins' answers as a reader says
them.

The history of tests/services/test_digest_signals.py: twenty weeks of the demo district's
weekly check-in; Malibougou's good practice rose to 80% over the last eight weeks after twelve
around 40%, Kati Dar Salam's too but it has not reported the last week, Sanankoroba's stayed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import sqlalchemy as sa

from models import Answer, Checkin, Facility, Worker, db
from services.facility_results import facility_answers, facility_charts
from services.flow_store import active_flows
from tests.services.test_digest_signals import AWA, WEEK, digest_of

# The digest test's history, as a fixture of this module too (the redundant alias re-exports it).
from tests.services.test_digest_signals import history as history


def facility_id(code: str) -> int:
    return db.session.scalar(sa.select(Facility.id).where(Facility.code == code))


def add_checkin(code: str, period: str, answers: dict[str, object], status="completed") -> int:
    facility = facility_id(code)
    worker = db.session.scalar(sa.select(Worker).where(Worker.facility_id == facility))
    active = active_flows()[0]
    checkin = Checkin(
        flow_id=active.flow_id,
        flow_version_id=active.version_id,
        facility_id=facility,
        period=period,
        status=status,
        completed_at=datetime(2026, 12, 8, 9, tzinfo=UTC) if status == "completed" else None,
        completed_by_id=worker.id if status == "completed" else None,
        channel="sms" if status == "completed" else None,
    )
    db.session.add(checkin)
    db.session.flush()
    for key, value in answers.items():
        db.session.add(Answer.of(key, value, checkin_id=checkin.id, worker_id=worker.id))
    return checkin.id


# -- run charts -----------------------------------------------------------------------------------


def test_the_chart_marks_the_signal_the_digest_named(app, history):
    assert "CSCOM-MLB Bonne pratique hausse durable" in digest_of(app, AWA)
    (chart,) = facility_charts(facility_id("CSCOM-MLB"))
    assert (chart.flow_key, chart.key, chart.label) == (
        "weekly_qi",
        "good_practice",
        "Bonne pratique",
    )
    assert chart.percent and chart.rules == "anhoej"
    assert len(chart.points) == 20 and chart.slots[-1].period == WEEK
    assert chart.median == 40
    assert len(chart.baseline) == 12
    (signal,) = chart.signals
    assert (signal.rule, signal.direction, signal.short) == (
        "long_run",
        "up",
        "supervision.signal.up",
    )
    # The eight weeks at 80%, and the last baseline week (45%) just before them: one run above.
    assert signal.periods == tuple(slot.period for slot in chart.slots[-9:])


def test_a_period_without_a_point_is_a_gap_not_a_zero(app, history):
    """Kati Dar Salam has not reported the last week: its axis still reaches it, with no point;
    a zero denominator is no point either."""
    (chart,) = facility_charts(facility_id("CSCOM-KTD"))
    assert chart.slots[-1].period == WEEK and chart.slots[-1].point is None
    assert len(chart.points) == 19
    db.session.execute(
        sa.update(Answer)
        .where(
            Answer.question_key == "denominator",
            Answer.checkin_id.in_(
                sa.select(Checkin.id).where(
                    Checkin.facility_id == facility_id("CSCOM-SNB"), Checkin.period == WEEK
                )
            ),
        )
        .values(value_number=0)
    )
    (chart,) = facility_charts(facility_id("CSCOM-SNB"))
    assert chart.slots[-1].point is None
    assert all(slot.point.value > 0 for slot in chart.slots[:-1])


def test_a_stable_chart_has_no_signal(app, history):
    (chart,) = facility_charts(facility_id("CSCOM-SNB"))
    assert chart.signals == ()
    assert chart.median == 40 and len(chart.points) == 20


def test_an_uncommitted_trial_checkin_is_on_the_chart_until_rolled_back(app, history):
    """The console's phone previews a trial in a transaction it rolls back."""
    pelengana = facility_id("CSCOM-SNB")
    add_checkin("CSCOM-SNB", "2026-W50", {"denominator": 20, "numerator": 20})
    (chart,) = facility_charts(pelengana)
    assert chart.slots[-1].period == "2026-W50"
    assert chart.slots[-1].point.value == Fraction(100)
    db.session.rollback()
    (chart,) = facility_charts(pelengana)
    assert chart.slots[-1].period == WEEK


def test_a_facility_with_no_answers_has_an_empty_chart_and_an_unknown_one_none(app, history):
    klb = facility_id("CSCOM-KLB")
    (chart,) = facility_charts(klb)
    assert chart.slots == () and chart.median is None and chart.signals == ()
    assert facility_charts(999_999) == []


# -- answers over time ----------------------------------------------------------------------------


def test_the_latest_twelve_checkins_newest_first_with_choice_labels(app, history):
    (flow,) = facility_answers(facility_id("CSCOM-MLB"))
    assert flow.flow_key == "weekly_qi" and flow.title == "Suivi QI de la semaine"
    assert len(flow.columns) == 12
    assert flow.columns[0].period == WEEK and flow.columns[0].short == "S49"
    assert [c.period for c in flow.columns] == sorted(
        (c.period for c in flow.columns), reverse=True
    )
    lines = {line.key: line for line in flow.lines}
    assert lines["met"].prompt == "L'équipe QI s'est réunie cette semaine ?"
    assert lines["met"].values[0] == "Oui"  # the choice's label, not its value
    assert lines["numerator"].values[0] == "16" and lines["denominator"].values[0] == "20"
    assert lines["obstacle"].values[0] is None  # not answered in this history
    assert [line.key for line in flow.lines][:3] == ["met", "attendees", "change_status"]


def test_a_checkin_shows_its_status_who_and_the_alerts_its_answers_raised(app, history):
    add_checkin("CSCOM-SNB", "2026-W50", {"met": "no", "support": "yes"})
    add_checkin("CSCOM-SNB", "2026-W51", {}, status="open")
    (flow,) = facility_answers(facility_id("CSCOM-SNB"))
    open_one, answered = flow.columns[:2]
    assert (open_one.period, open_one.status, open_one.alerts) == ("2026-W51", "open", ())
    assert answered.status == "completed" and answered.channel == "sms"
    assert answered.by == "Mariam Konaté"
    # As the digest names them: without the facility and person the SMS alert names.
    assert answered.alerts == (
        "pas de réunion QI cette semaine",
        "URGENT : l'équipe QI demande l'appui du CSRef",
    )


def test_only_the_reference_submission_is_shown(app, history):
    checkin = db.session.scalar(
        sa.select(Checkin.id).where(
            Checkin.facility_id == facility_id("CSCOM-MLB"), Checkin.period == WEEK
        )
    )
    worker = db.session.scalar(sa.select(Worker.id).where(Worker.phone == "+22370000012"))
    db.session.add(
        Answer(
            checkin_id=checkin,
            worker_id=worker,
            question_key="numerator",
            value_number=3,
            raw="3",
            reference=False,
        )
    )
    (flow,) = facility_answers(facility_id("CSCOM-MLB"))
    assert {line.key: line for line in flow.lines}["numerator"].values[0] == "16"


def test_a_facility_without_checkins_has_no_table(app, history):
    assert facility_answers(facility_id("CSCOM-KLB")) == []
