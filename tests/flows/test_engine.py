"""Specification for flows.engine: one input at a time, exactly as USSD and SMS walk a flow."""

import json
from pathlib import Path
from textwrap import dedent

import pytest

from flows.definition import Flow
from flows.engine import (
    CONFIRM,
    CompactError,
    Invalid,
    Outcome,
    State,
    advance,
    answer_all,
    answers,
    current,
    start,
    triggered_alerts,
)
from flows.loader import load_flow

WEEKLY_QI = Path(__file__).resolve().parents[2] / "flows" / "weekly_qi.yaml"


def load(source: str) -> Flow:
    return load_flow(dedent(source).lstrip("\n"), "f.yaml")


DEMO = load(
    """
    key: demo
    title: {fr: "Démo", bm: "Demo"}
    languages: [fr, bm]
    questions:
      - key: met
        type: choice
        prompt: {fr: "Réunion ?", bm: "Ladon kɛra wa?"}
        choices:
          - {value: "yes", label: {fr: "Oui", bm: "Awɔ"}}
          - {value: "no", label: {fr: "Non", bm: "Ayi"}}
          - {value: "unsure", label: {fr: "Pas sûr", bm: "N t'a dɔn"}}
      - key: attendees
        type: number
        min: 1
        max: 40
        ask_if: {met: "yes"}
        prompt: {fr: "Présents ?"}
      - key: denominator
        type: number
        min: 0
        prompt: {fr: "Cas ?"}
      - key: numerator
        type: number
        min: 0
        max: denominator
        prompt: {fr: "Parmi eux ?"}
      - key: reporter
        type: text
        max_length: 12
        prompt: {fr: "Votre nom ?"}
      - key: comment
        type: text
        required: false
        prompt: {fr: "Commentaire ?"}
    """
)


def walk(flow: Flow, *inputs: str, state: State | None = None) -> Outcome:
    """Start (or continue from `state`) and apply each input in turn; the last outcome."""
    outcome = start(flow) if state is None else current(flow, state)
    for raw in inputs:
        outcome = advance(flow, outcome.state, raw)
    return outcome


def on_screen(outcome: Outcome) -> str:
    """The question key on screen, or the kind of screen (confirm, closing)."""
    if outcome.screen.kind == "question":
        assert outcome.screen.question is not None
        return outcome.screen.question.key
    return outcome.screen.kind


# --- starting ----------------------------------------------------------------------------------


def test_start_shows_the_first_question_with_no_error_and_no_answers():
    outcome = start(DEMO)

    assert on_screen(outcome) == "met"
    assert outcome.screen.error is None
    assert outcome.state == State("met")
    assert outcome.submitted is False


# --- choices -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "value"),
    [
        ("1", "yes"),
        ("2", "no"),
        ("3", "unsure"),
        (" 2 ", "no"),
        ("Oui", "yes"),
        ("OUI", "yes"),
        ("oui", "yes"),
        ("Awɔ", "yes"),
        ("AWƆ", "yes"),
        ("ayi", "no"),
        ("pas sur", "unsure"),
        ("PAS SÛR", "unsure"),
        ("yes", "yes"),
        ("No", "no"),
        ("UNSURE", "unsure"),
    ],
)
def test_a_choice_is_taken_by_number_label_in_any_language_or_value(entry, value):
    outcome = walk(DEMO, entry)

    assert outcome.state.answers == {"met": value}
    assert outcome.screen.error is None


@pytest.mark.parametrize("entry", ["4", "-1", "12", "peut-être", "", "o", "1 2", "#"])
def test_an_invalid_choice_re_asks_the_same_question_with_the_number_of_choices(entry):
    before = start(DEMO)
    outcome = advance(DEMO, before.state, entry)

    assert on_screen(outcome) == "met"
    assert outcome.screen.error == Invalid("choice", 3)
    assert outcome.state == before.state


def test_the_next_question_after_a_choice_depends_on_its_answer():
    assert on_screen(walk(DEMO, "1")) == "attendees"
    assert on_screen(walk(DEMO, "2")) == "denominator"


def test_a_superscript_digit_on_a_choice_is_refused_not_a_crash():
    outcome = walk(DEMO, "²")

    assert outcome.screen.error == Invalid("choice", 3)


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "value"),
    [("12", 12), (" 12 ", 12), ("40", 40), ("1", 1), ("012", 12)],
)
def test_a_number_answer_is_read_as_an_integer(entry, value):
    outcome = walk(DEMO, "1", entry)

    assert outcome.state.answers == {"met": "yes", "attendees": value}
    assert on_screen(outcome) == "denominator"


def test_a_number_may_be_written_with_thousands_separated_by_spaces():
    assert walk(DEMO, "2", "1 250").state.answers["denominator"] == 1250


@pytest.mark.parametrize("entry", ["douze", "12.5", "1,5", "", "-", "12a", "x12"])
def test_a_number_question_refuses_what_is_not_a_whole_number(entry):
    outcome = walk(DEMO, "1", entry)

    assert on_screen(outcome) == "attendees"
    assert outcome.screen.error == Invalid("number")
    assert "attendees" not in outcome.state.answers


def test_a_number_with_too_many_digits_is_refused():
    assert walk(DEMO, "2", "999999999").state.answers["denominator"] == 999_999_999
    outcome = walk(DEMO, "2", "1234567890")

    assert on_screen(outcome) == "denominator"
    assert outcome.screen.error == Invalid("number")


def test_a_number_below_the_minimum_is_refused_with_the_minimum():
    outcome = walk(DEMO, "1", "0")

    assert on_screen(outcome) == "attendees"
    assert outcome.screen.error == Invalid("too_small", 1)


def test_a_number_above_the_maximum_is_refused_with_the_maximum():
    outcome = walk(DEMO, "1", "41")

    assert on_screen(outcome) == "attendees"
    assert outcome.screen.error == Invalid("too_big", 40)


def test_zero_is_an_answer_on_a_number_question_not_a_way_back():
    outcome = walk(DEMO, "2", "0")

    assert outcome.state.answers == {"met": "no", "denominator": 0}
    assert on_screen(outcome) == "numerator"


def test_a_bound_naming_an_earlier_question_is_that_question_s_answer():
    at_numerator = walk(DEMO, "2", "25")

    refused = advance(DEMO, at_numerator.state, "26")
    assert on_screen(refused) == "numerator"
    assert refused.screen.error == Invalid("too_big", 25)

    accepted = advance(DEMO, at_numerator.state, "25")
    assert accepted.state.answers["numerator"] == 25
    assert on_screen(accepted) == "reporter"


def test_a_bound_follows_a_changed_earlier_answer():
    at_numerator = walk(DEMO, "2", "25", "00", "10")

    assert on_screen(at_numerator) == "numerator"
    assert advance(DEMO, at_numerator.state, "11").screen.error == Invalid("too_big", 10)


@pytest.mark.parametrize("entry", ["--5", "²"])
def test_malformed_digits_on_a_number_question_are_refused_not_a_crash(entry):
    outcome = walk(DEMO, "2", entry)

    assert outcome.screen.error == Invalid("number")


# --- text --------------------------------------------------------------------------------------


def at_reporter() -> Outcome:
    outcome = walk(DEMO, "2", "5", "3")
    assert on_screen(outcome) == "reporter"
    return outcome


def test_a_text_answer_is_kept_without_surrounding_spaces():
    outcome = advance(DEMO, at_reporter().state, "  Awa Traoré ")

    assert outcome.state.answers["reporter"] == "Awa Traoré"
    assert on_screen(outcome) == "comment"


@pytest.mark.parametrize("entry", ["", "   "])
def test_a_required_text_refuses_an_empty_answer(entry):
    outcome = advance(DEMO, at_reporter().state, entry)

    assert on_screen(outcome) == "reporter"
    assert outcome.screen.error == Invalid("required")


def test_a_text_longer_than_max_length_is_refused_with_the_limit():
    state = at_reporter().state

    assert advance(DEMO, state, "x" * 12).state.answers["reporter"] == "x" * 12
    outcome = advance(DEMO, state, "x" * 13)
    assert on_screen(outcome) == "reporter"
    assert outcome.screen.error == Invalid("too_long", 12)


def test_zero_is_an_answer_on_a_text_question():
    outcome = advance(DEMO, at_reporter().state, "0")

    assert outcome.state.answers["reporter"] == "0"
    assert on_screen(outcome) == "comment"


@pytest.mark.parametrize("entry", ["", "-", ".", " . "])
def test_an_optional_text_is_skipped_with_nothing_a_dash_or_a_dot(entry):
    outcome = walk(DEMO, "2", "5", "3", "Awa", entry)

    assert on_screen(outcome) == "confirm"
    assert "comment" not in outcome.state.answers
    assert "comment" not in answers(DEMO, outcome.state)


def test_skipping_an_optional_text_after_going_back_removes_its_earlier_answer():
    outcome = walk(DEMO, "2", "5", "3", "Awa", "Tout va bien", "0", ".")

    assert on_screen(outcome) == "confirm"
    assert "comment" not in outcome.state.answers


# --- going back --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "back_to"),
    [
        (("1",), "met"),  # from a number question
        (("2", "5", "3"), "numerator"),  # from a text question
        (("2", "5", "3", "Awa"), "reporter"),  # from an optional text question
        (("2", "5", "3", "Awa", "."), "comment"),  # from the confirmation screen
    ],
)
def test_double_zero_goes_back_one_question_on_any_screen(inputs, back_to):
    outcome = walk(DEMO, *inputs, "00")

    assert on_screen(outcome) == back_to
    assert outcome.screen.error is None


def test_zero_goes_back_on_the_confirmation_screen():
    at_confirm = walk(DEMO, "2", "5", "3", "Awa", ".")
    outcome = advance(DEMO, at_confirm.state, "0")

    assert on_screen(at_confirm) == "confirm"
    assert on_screen(outcome) == "comment"
    assert outcome.submitted is False


def test_zero_goes_back_on_a_choice_screen():
    flow = load(
        """
        key: f
        languages: [fr]
        questions:
          - {key: n, type: number, prompt: "N ?"}
          - key: c
            type: choice
            prompt: "C ?"
            choices: [{value: a, label: A}, {value: b, label: B}]
        """
    )
    outcome = walk(flow, "7", "0")

    assert on_screen(outcome) == "n"
    assert outcome.state.answers == {"n": 7}


@pytest.mark.parametrize("entry", ["0", "00", " 00 "])
def test_going_back_on_the_first_question_stays_there(entry):
    first = start(DEMO)
    outcome = advance(DEMO, first.state, entry)

    assert on_screen(outcome) == "met"
    assert outcome.state == first.state
    assert outcome.screen.error is None


def test_going_back_skips_questions_that_were_not_asked():
    outcome = walk(DEMO, "2", "5", "00", "00")

    assert on_screen(outcome) == "met"


def test_going_back_keeps_the_earlier_answer_until_it_is_changed():
    outcome = walk(DEMO, "1", "12", "00")

    assert on_screen(outcome) == "attendees"
    assert outcome.state.answers == {"met": "yes", "attendees": 12}


def test_a_question_no_longer_asked_after_a_changed_answer_loses_its_answer():
    changed = walk(DEMO, "1", "12", "00", "00", "2")

    assert on_screen(changed) == "denominator"
    assert "attendees" not in answers(DEMO, changed.state)

    done = walk(DEMO, "5", "3", "Awa", ".", state=changed.state)
    assert on_screen(done) == "confirm"
    assert answers(DEMO, done.state) == {
        "met": "no",
        "denominator": 5,
        "numerator": 3,
        "reporter": "Awa",
    }


CHAIN = load(
    """
    key: chain
    languages: [fr]
    questions:
      - key: a
        type: choice
        prompt: "A ?"
        choices: [{value: "yes", label: Oui}, {value: "no", label: Non}]
      - key: b
        type: choice
        prompt: "B ?"
        ask_if: {a: "yes"}
        choices: [{value: "yes", label: Oui}, {value: "no", label: Non}]
      - key: c
        type: text
        prompt: "C ?"
        ask_if: {b: "yes"}
      - {key: d, type: text, prompt: "D ?"}
    """
)


def test_a_chain_of_conditions_is_followed_going_forward():
    assert [on_screen(walk(CHAIN, *inputs)) for inputs in [(), ("1",), ("1", "1"), ("2",)]] == [
        "a",
        "b",
        "c",
        "d",
    ]
    assert on_screen(walk(CHAIN, "1", "2")) == "d"


def test_a_question_depending_on_a_question_no_longer_asked_is_not_asked():
    outcome = walk(CHAIN, "1", "1", "texte", "00", "00", "00", "2")

    assert on_screen(outcome) == "d"


# --- confirmation ------------------------------------------------------------------------------


def at_confirm() -> Outcome:
    outcome = walk(DEMO, "1", "12", "25", "20", "Awa", "RAS")
    assert on_screen(outcome) == "confirm"
    return outcome


def test_after_the_last_question_comes_the_confirmation_screen():
    outcome = at_confirm()

    assert outcome.state.step == CONFIRM
    assert outcome.screen.question is None
    assert outcome.screen.error is None
    assert outcome.submitted is False


def test_one_on_the_confirmation_screen_submits_and_shows_the_closing():
    outcome = advance(DEMO, at_confirm().state, "1")

    assert outcome.submitted is True
    assert on_screen(outcome) == "closing"
    assert answers(DEMO, outcome.state) == {
        "met": "yes",
        "attendees": 12,
        "denominator": 25,
        "numerator": 20,
        "reporter": "Awa",
        "comment": "RAS",
    }


@pytest.mark.parametrize("entry", ["3", "oui", "", "11", "envoyer"])
def test_anything_else_on_the_confirmation_screen_asks_again(entry):
    before = at_confirm()
    outcome = advance(DEMO, before.state, entry)

    assert outcome.submitted is False
    assert on_screen(outcome) == "confirm"
    assert outcome.screen.error == Invalid("confirm")
    assert outcome.state == before.state


# --- state -------------------------------------------------------------------------------------


def test_the_state_survives_a_json_round_trip_and_the_walk_continues_from_it():
    midway = walk(DEMO, "1", "12", "25")
    stored = json.loads(json.dumps(midway.state.to_dict()))
    restored = State.from_dict(stored)

    assert restored == midway.state
    assert restored.answers == {"met": "yes", "attendees": 12, "denominator": 25}
    assert restored.trail == ("met", "attendees", "denominator")
    assert on_screen(advance(DEMO, restored, "00")) == "denominator"
    assert advance(DEMO, restored, "26").screen.error == Invalid("too_big", 25)


def test_the_raw_inputs_are_kept_beside_the_typed_answers():
    outcome = walk(DEMO, "OUI", " 012 ", "25")

    assert outcome.state.answers == {"met": "yes", "attendees": 12, "denominator": 25}
    assert outcome.state.raw == {"met": "OUI", "attendees": "012", "denominator": "25"}


def test_a_refused_input_is_not_kept():
    outcome = walk(DEMO, "1", "douze")

    assert outcome.state.raw == {"met": "1"}


def test_current_shows_the_stored_question_again_for_a_resume():
    midway = walk(DEMO, "1", "12")
    resumed = current(DEMO, State.from_dict(midway.state.to_dict()))

    assert on_screen(resumed) == "denominator"
    assert resumed.screen.error is None
    assert resumed.state == midway.state


def test_current_shows_the_confirmation_screen_when_stopped_there():
    resumed = current(DEMO, at_confirm().state)

    assert on_screen(resumed) == "confirm"
    assert resumed.submitted is False


# --- alerts ------------------------------------------------------------------------------------


ALERTS = load(
    """
    key: alerts
    languages: [fr]
    questions:
      - key: met
        type: choice
        prompt: "Réunion ?"
        choices:
          - {value: "yes", label: Oui}
          - {value: "no", label: Non}
          - {value: "unsure", label: "Pas sûr"}
      - {key: stock, type: number, prompt: "Stock ?"}
    alerts:
      - {when: {met: "no"}, text: eq}
      - {when: {met: {ne: "yes"}}, text: ne}
      - {when: {stock: {lt: 5}}, text: lt}
      - {when: {stock: {le: 5}}, text: le}
      - {when: {stock: {gt: 100}}, text: gt}
      - {when: {stock: {ge: 100}}, text: ge}
      - {when: {met: {in: ["no", "unsure"]}}, text: in}
      - {when: {stock: {in: [0, 1]}}, text: in-number}
      - {when: {met: "yes", stock: {lt: 5}}, text: all}
    """
)


def fired(final: dict) -> list[str]:
    return [alert.text["fr"] for alert in triggered_alerts(ALERTS, final)]


@pytest.mark.parametrize(
    ("final", "expected"),
    [
        ({"met": "yes", "stock": 50}, []),
        ({"met": "no", "stock": 50}, ["eq", "ne", "in"]),
        ({"met": "unsure", "stock": 50}, ["ne", "in"]),
        ({"met": "yes", "stock": 4}, ["lt", "le", "all"]),
        ({"met": "yes", "stock": 5}, ["le"]),
        ({"met": "yes", "stock": 6}, []),
        ({"met": "yes", "stock": 99}, []),
        ({"met": "yes", "stock": 100}, ["ge"]),
        ({"met": "yes", "stock": 101}, ["gt", "ge"]),
        ({"met": "yes", "stock": 1}, ["lt", "le", "in-number", "all"]),
        ({"met": "no", "stock": -3}, ["eq", "ne", "lt", "le", "in"]),
    ],
)
def test_alerts_fire_when_every_condition_holds(final, expected):
    assert fired(final) == expected


def test_a_condition_on_an_unanswered_question_does_not_hold():
    assert fired({"met": "yes"}) == []
    assert fired({"stock": 1}) == ["lt", "le", "in-number"]


def test_alerts_are_checked_against_the_answers_that_count_after_a_walk():
    outcome = walk(ALERTS, "Non", "3", "1")

    assert outcome.submitted is True
    assert [a.text["fr"] for a in triggered_alerts(ALERTS, answers(ALERTS, outcome.state))] == [
        "eq",
        "ne",
        "lt",
        "le",
        "in",
    ]


# --- the default weekly flow -------------------------------------------------------------------


@pytest.fixture(scope="module")
def weekly() -> Flow:
    return load_flow(WEEKLY_QI.read_text(encoding="utf-8"), WEEKLY_QI.name)


def test_the_weekly_flow_walked_when_the_team_met(weekly):
    screens = []
    outcome = start(weekly)
    for entry in ["1", "9", "2", "30", "31", "24", "3", "2", "RAS", "1"]:
        screens.append(on_screen(outcome))
        outcome = advance(weekly, outcome.state, entry)

    assert screens == [
        "met",
        "attendees",
        "change_status",
        "denominator",
        "numerator",
        "numerator",  # 31 > 30 is refused; 24 is taken
        "obstacle",
        "support",
        "comment",
        "confirm",
    ]
    assert outcome.submitted is True
    final = answers(weekly, outcome.state)
    assert final == {
        "met": "yes",
        "attendees": 9,
        "change_status": "being_tested",
        "denominator": 30,
        "numerator": 24,
        "obstacle": "stock_out",
        "support": "no",
        "comment": "RAS",
    }
    assert triggered_alerts(weekly, final) == []


def test_the_weekly_flow_walked_when_the_team_did_not_meet(weekly):
    screens = []
    outcome = start(weekly)
    for entry in ["Ayi", "5", "0", "0", "1", "Awɔ", ".", "1"]:
        screens.append(on_screen(outcome))
        outcome = advance(weekly, outcome.state, entry)

    assert screens == [
        "met",
        "change_status",
        "denominator",
        "numerator",
        "obstacle",
        "support",
        "comment",
        "confirm",
    ]
    assert outcome.submitted is True
    final = answers(weekly, outcome.state)
    assert final == {
        "met": "no",
        "change_status": "abandoned",
        "denominator": 0,
        "numerator": 0,
        "obstacle": "none",
        "support": "yes",
    }
    alerts = triggered_alerts(weekly, final)
    assert [a.when[0].key for a in alerts] == ["met", "support", "change_status"]
    assert [a.urgent for a in alerts] == [False, True, False]


def test_the_weekly_flow_forgets_attendees_when_met_is_changed_to_no(weekly):
    outcome = walk(weekly, "1", "9", "00", "00", "2")

    assert on_screen(outcome) == "change_status"
    assert answers(weekly, outcome.state) == {"met": "no"}


# -- the compact form -----------------------------------------------------------------------------


def test_a_compact_answer_list_is_checked_as_a_whole_and_confirms():
    result = answer_all(DEMO, ["1", "6", "40", "38", "Awa", "tout", "va", "bien"])
    assert isinstance(result, State) and result.step == CONFIRM
    assert answers(DEMO, result)["comment"] == "tout va bien"  # the last text takes the rest


def test_a_compact_error_names_the_answers_place_among_those_asked_and_how_many():
    # met: no, so "attendees" is not asked: five answers are expected, not six
    wrong = answer_all(DEMO, ["2", "40", "41", "Awa"])
    assert isinstance(wrong, CompactError)
    assert (wrong.problem, wrong.position, wrong.expected) == ("invalid", 3, 5)
    assert wrong.question.key == "numerator"


def test_a_missing_answer_says_how_many_are_asked():
    missing = answer_all(DEMO, ["1", "6"])
    assert (missing.problem, missing.position, missing.expected) == ("missing", 3, 6)


def test_the_confirmation_carries_the_answers_and_2_turns_its_page():
    before = at_confirm()
    assert before.screen.answers == answers(DEMO, before.state)
    assert before.screen.page == 1
    more = advance(DEMO, before.state, "2")
    assert (on_screen(more), more.screen.page, more.screen.error) == ("confirm", 2, None)
    assert more.state == before.state
    assert advance(DEMO, more.state, "1").submitted


def test_the_second_question_says_once_that_00_goes_back():
    first = start(DEMO)
    second = advance(DEMO, first.state, "1")
    third = advance(DEMO, second.state, "12")
    assert (first.screen.hint_back, second.screen.hint_back, third.screen.hint_back) == (
        False,
        True,
        False,
    )
