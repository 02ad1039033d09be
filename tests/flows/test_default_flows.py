"""Specification for the flows shipped in flows/: valid, bilingual, short, what QI teams need."""

from datetime import timedelta
from pathlib import Path

import pytest

from flows.definition import Condition, Flow
from flows.lint import lint
from flows.loader import load_flow
from flows.render import question_text
from flows.smstext import USSD_SAFE_LIMIT

FLOWS_DIR = Path(__file__).resolve().parents[2] / "flows"
FLOW_FILES = sorted(FLOWS_DIR.glob("*.yaml")) + sorted(FLOWS_DIR.glob("*.yml"))
LANGUAGES = ("fr", "bm")


def read(path: Path) -> Flow:
    return load_flow(path.read_text(encoding="utf-8"), path.name)


@pytest.fixture(params=FLOW_FILES, ids=[path.name for path in FLOW_FILES])
def flow(request) -> Flow:
    return read(request.param)


def test_the_weekly_qi_flow_is_shipped():
    assert FLOWS_DIR / "weekly_qi.yaml" in FLOW_FILES


def test_every_shipped_flow_loads_under_a_key_matching_its_file_name():
    keys = {path.stem: read(path).key for path in FLOW_FILES}

    assert keys == {stem: stem for stem in keys}


def test_every_shipped_flow_is_in_french_first_then_bambara(flow):
    assert flow.languages == LANGUAGES


def test_every_shipped_flow_lints_without_warnings_when_bambara_is_transliterated(flow):
    assert [str(f) for f in lint(flow, transliterate=("bm",)) if f.level == "warning"] == []


def test_every_question_has_a_prompt_in_french_and_bambara(flow):
    missing = [
        (q.key, language)
        for q in flow.questions
        for language in LANGUAGES
        if not q.prompt.get(language)
    ]
    assert missing == []


def test_every_choice_has_a_label_in_french_and_bambara(flow):
    missing = [
        (q.key, c.value, language)
        for q in flow.questions
        for c in q.choices
        for language in LANGUAGES
        if not c.label.get(language)
    ]
    assert missing == []


def test_the_title_closing_and_alerts_are_in_french_and_bambara(flow):
    texts = {"title": flow.title, "closing": flow.closing}
    texts |= {f"alert {i}": alert.text for i, alert in enumerate(flow.alerts, 1)}

    missing = [
        (name, lang) for name, text in texts.items() for lang in LANGUAGES if not text.get(lang)
    ]
    assert missing == []


def test_every_screen_fits_160_characters_in_both_languages_even_untransliterated(flow):
    too_long = [
        (q.key, language, len(question_text(flow, q, language)))
        for q in flow.questions
        for language in LANGUAGES
        if len(question_text(flow, q, language)) > USSD_SAFE_LIMIT
    ]
    assert too_long == []


# --- the weekly QI check-in --------------------------------------------------------------------


@pytest.fixture(scope="module")
def weekly() -> Flow:
    return read(FLOWS_DIR / "weekly_qi.yaml")


def test_the_weekly_flow_asks_what_the_qi_team_reports_in_this_order(weekly):
    assert [q.key for q in weekly.questions] == [
        "met",
        "attendees",
        "change_status",
        "denominator",
        "numerator",
        "obstacle",
        "support",
        "comment",
    ]


def test_the_weekly_flow_asks_attendees_only_when_the_team_met(weekly):
    assert weekly.question("attendees").ask_if == (Condition("met", "eq", "yes"),)
    assert [q.key for q in weekly.questions if q.ask_if] == ["attendees"]


def test_the_weekly_indicator_numerator_cannot_exceed_its_denominator(weekly):
    numerator, denominator = weekly.question("numerator"), weekly.question("denominator")

    assert (numerator.type, denominator.type) == ("number", "number")
    assert numerator.max == "denominator"
    assert numerator.min == 0 and denominator.min == 0


def test_the_weekly_pdsa_status_covers_each_stage_of_a_change_idea(weekly):
    values = [c.value for c in weekly.question("change_status").choices]

    assert values == ["not_started", "being_tested", "adopted", "adapted", "abandoned"]


def test_the_weekly_comment_is_optional_and_short(weekly):
    comment = weekly.question("comment")

    assert comment.type == "text"
    assert comment.required is False
    assert comment.max_length is not None and comment.max_length <= 80


def test_the_weekly_flow_alerts_the_supervisor_on_no_meeting_support_and_abandon(weekly):
    assert [(a.when, a.urgent) for a in weekly.alerts] == [
        ((Condition("met", "eq", "no"),), False),
        ((Condition("support", "eq", "yes"),), True),
        ((Condition("change_status", "eq", "abandoned"),), False),
    ]
    assert {a.notify for a in weekly.alerts} == {"supervisor"}


def test_the_weekly_flow_opens_every_monday_for_each_facility(weekly):
    schedule = weekly.schedule

    assert schedule is not None
    assert (schedule.every, schedule.opens, schedule.per) == ("week", "mon 08:00", "facility")
    assert schedule.roles == ("qi_focal_point", "dtc")
    assert schedule.remind_after == (timedelta(days=1), timedelta(days=2))
    assert schedule.escalate_after == timedelta(days=3)
