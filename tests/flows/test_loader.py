"""Specification for flows.loader: flow files as admins write them, and every mistake reported.

Snippets start on line 1 (the helper drops the leading newline), so the line numbers in the
expected messages can be counted in the snippet itself.
"""

from datetime import timedelta
from textwrap import dedent

import pytest

from flows.definition import Condition, Flow, Indicator
from flows.loader import FlowError, load_flow


def load(source: str) -> Flow:
    return load_flow(dedent(source).lstrip("\n"), "f.yaml")


def problems(source: str) -> list[str]:
    with pytest.raises(FlowError) as caught:
        load(source)
    return [str(problem) for problem in caught.value.problems]


# The example of DESIGN.md, "Flow files (contract)", exactly as admins are shown it.
DESIGN_EXAMPLE = """
key: weekly_qi                      # stable id; publishing again makes a new version
title: {fr: "Suivi QI de la semaine", bm: "…"}
languages: [fr, bm]                 # the first is the default
questions:
  - key: met
    type: choice                    # choice | number | text
    prompt: {fr: "L'équipe QI s'est réunie cette semaine ?", bm: "…"}
    choices:
      - {value: "yes", label: {fr: "Oui", bm: "Awɔ"}}
      - {value: "no",  label: {fr: "Non", bm: "Ayi"}}
  - key: attendees
    type: number                    # integers; min and max optional
    min: 0
    max: 40
    ask_if: {met: "yes"}            # every condition must hold
    prompt: {fr: "Combien de membres présents ?"}
  - key: comment
    type: text
    max_length: 80
    required: false
alerts:
  - when: {met: "no"}               # conditions: value, or {lt|le|gt|ge|ne|in: …}
    notify: supervisor
    text: {fr: "{facility}: pas de réunion QI cette semaine ({name}, {phone})"}
schedule:                           # optional
  every: week                       # day | week | month
  opens: "mon 08:00"                # local time; for month: "1 08:00"
  per: facility                     # one check-in per facility per period (or: worker)
  roles: [qi_focal_point, dtc]      # who is asked
  remind_after: [1d, 2d]            # reminders while still open
  escalate_after: 3d                # then tell the supervisor
closing: {fr: "Merci, vos réponses sont enregistrées."}
"""

# A small valid flow that the tests below break one line at a time.
MEETING = """
key: f
languages: [fr, bm]
questions:
  - key: met
    type: choice
    prompt: {fr: "Réunion ?", bm: "Ladon kɛra wa?"}
    choices:
      - {value: "yes", label: {fr: Oui, bm: Awɔ}}
      - {value: "no", label: {fr: Non, bm: Ayi}}
"""
MEETING_FILE = MEETING.lstrip("\n")  # nine lines; what is appended starts on line 10


def lines(*rows: str) -> str:
    """YAML lines to append to a snippet, one argument each, so line numbers can be counted."""
    return "".join(f"{row}\n" for row in rows)


# --- the contract's example --------------------------------------------------------------------


def test_the_design_example_loads_as_written():
    flow = load(DESIGN_EXAMPLE)
    assert [q.key for q in flow.questions] == ["met", "attendees", "comment"]


def test_the_design_example_loads_once_its_comment_has_a_prompt():
    source = DESIGN_EXAMPLE.replace(
        "    required: false\n",
        '    required: false\n    prompt: {fr: "Commentaire ?"}\n',
    )
    flow = load(source)

    assert flow.key == "weekly_qi"
    assert flow.languages == ("fr", "bm")
    assert flow.title == {"fr": "Suivi QI de la semaine", "bm": "…"}
    assert [(q.key, q.type) for q in flow.questions] == [
        ("met", "choice"),
        ("attendees", "number"),
        ("comment", "text"),
    ]
    met, attendees, comment = flow.questions
    assert [(c.value, c.label) for c in met.choices] == [
        ("yes", {"fr": "Oui", "bm": "Awɔ"}),
        ("no", {"fr": "Non", "bm": "Ayi"}),
    ]
    assert (attendees.min, attendees.max) == (0, 40)
    assert attendees.ask_if == (Condition("met", "eq", "yes"),)
    assert (comment.max_length, comment.required) == (80, False)
    assert met.required is True
    (alert,) = flow.alerts
    assert alert.when == (Condition("met", "eq", "no"),)
    assert alert.notify == "supervisor"
    assert alert.urgent is False
    assert flow.schedule is not None
    assert flow.schedule.every == "week"
    assert flow.schedule.opens == "mon 08:00"
    assert flow.schedule.per == "facility"
    assert flow.schedule.roles == ("qi_focal_point", "dtc")
    assert flow.schedule.remind_after == (timedelta(days=1), timedelta(days=2))
    assert flow.schedule.escalate_after == timedelta(days=3)
    assert flow.closing == {"fr": "Merci, vos réponses sont enregistrées."}


def test_a_flow_without_schedule_alerts_or_closing_loads_with_empty_defaults():
    flow = load(MEETING)

    assert flow.schedule is None
    assert flow.alerts == ()
    assert flow.closing == {}


# --- where problems are reported ---------------------------------------------------------------


def test_a_problem_names_the_file_the_line_and_the_question():
    source = """
    key: f
    languages: [fr]
    questions:
      - {key: met, type: choice, prompt: "Réunion ?", choices: [{value: "yes", label: Oui}]}
      - key: attendees
        type: number
        max: 40.5
        prompt: "Combien ?"
    """
    assert problems(source) == [
        "f.yaml:7: question 'attendees': max must be a whole number, not '40.5'"
    ]


def test_every_problem_in_a_file_is_reported_at_once_in_file_order():
    source = """
    key: Weekly QI
    languages: [fr]
    questions:
      - key: met
        type: choice
        prompt: "Réunion ?"
        choices:
          - {value: "yes", label: Oui}
          - {value: "yes", label: Non}
      - key: attendees
        type: number
        min: none
        prompt: "Combien ?"
    schedule:
      every: fortnight
      opens: "mon 08:00"
    """
    with pytest.raises(FlowError) as caught:
        load(source)

    expected = [
        "f.yaml:1: key 'Weekly QI' must be lower-case letters, digits and _",
        "f.yaml:9: question 'met': the choice value 'yes' is used twice",
        "f.yaml:12: question 'attendees': min 'none' is not an earlier number question",
        "f.yaml:15: schedule.every must be day, week or month",
    ]
    assert [str(p) for p in caught.value.problems] == expected
    assert str(caught.value) == "\n".join(expected)
    assert caught.value.problems[1].line == 9
    assert caught.value.problems[1].question == "met"
    assert caught.value.problems[3].question is None


def test_a_flow_error_is_a_value_error_so_callers_can_catch_either():
    with pytest.raises(ValueError):
        load("key: f\n")


def test_a_flow_missing_its_required_parts_says_which_at_line_1():
    assert problems("title: Suivi\n") == [
        "f.yaml:1: the flow needs a 'key'",
        "f.yaml:1: the flow needs a 'languages'",
        "f.yaml:1: the flow needs a 'questions'",
    ]


def test_a_misspelt_field_is_reported_at_its_line_and_names_the_expected_fields():
    source = """
    key: f
    languages: [fr]
    questions:
      - key: met
        type: text
        promt: "Réunion ?"
    """
    found = problems(source)

    assert len(found) == 1
    assert found[0].startswith("f.yaml:6: question 'met':")
    assert "unknown field 'promt' (expected one of: " in found[0]
    assert "prompt" in found[0].split("expected one of: ")[1]


def test_a_misspelt_field_names_its_question():
    source = """
    key: f
    languages: [fr]
    questions:
      - key: met
        type: text
        promt: "Réunion ?"
    """
    assert problems(source)[0].startswith("f.yaml:6: question 'met': ")


def test_an_unknown_top_level_field_is_reported_at_its_line():
    found = problems(MEETING_FILE + "sheduel: {every: week}\n")

    assert len(found) == 1
    assert found[0].startswith("f.yaml:10: the flow: unknown field 'sheduel'")


def test_a_field_given_twice_is_reported_at_the_second():
    source = """
    key: f
    key: g
    languages: [fr]
    questions:
      - {key: a, type: text, prompt: A}
    """
    assert problems(source) == ["f.yaml:2: the flow: 'key' is given twice"]


# --- questions ---------------------------------------------------------------------------------


def test_a_text_without_the_default_language_is_reported():
    source = """
    key: f
    languages: [fr, bm]
    questions:
      - key: met
        type: choice
        prompt: {bm: "Ladon kɛra wa?"}
        choices:
          - {value: "yes", label: {fr: Oui, bm: Awɔ}}
          - {value: "no", label: {bm: Ayi}}
    """
    assert problems(source) == [
        "f.yaml:6: question 'met': prompt has no text in the default language 'fr'",
        "f.yaml:9: question 'met': label has no text in the default language 'fr'",
    ]


def test_a_text_in_a_language_the_flow_does_not_declare_is_reported():
    source = """
    key: f
    languages: [fr]
    questions:
      - {key: a, type: text, prompt: {fr: "Nom ?", en: "Name?"}}
    """
    found = problems(source)

    assert len(found) == 1
    assert found[0].startswith("f.yaml:4: question 'a': prompt: unknown field 'en'")


def test_a_plain_string_is_the_text_in_the_default_language():
    flow = load(
        """
        key: f
        languages: [fr, bm]
        title: Suivi
        questions:
          - {key: a, type: text, prompt: "Nom ?"}
        """
    )
    assert flow.title == {"fr": "Suivi"}
    assert flow.questions[0].prompt == {"fr": "Nom ?"}


def test_an_empty_prompt_is_rejected():
    source = """
    key: f
    languages: [fr]
    questions:
      - key: a
        type: text
        prompt: ""
    """
    found = problems(source)
    assert len(found) == 1
    assert found[0].startswith("f.yaml:6: question 'a': ")


def test_a_duplicate_question_key_is_reported_at_the_second_key():
    # MEETING ends on line 9; the appended block starts on line 10.
    source = MEETING_FILE + lines(
        "  - key: met",
        "    type: text",
        '    prompt: "Encore ?"',
    )
    assert problems(source) == [
        "f.yaml:10: question 'met': the key 'met' is already used by an earlier question"
    ]


def test_a_duplicate_choice_value_is_reported_at_the_second_value():
    source = """
    key: f
    languages: [fr]
    questions:
      - key: met
        type: choice
        prompt: "Réunion ?"
        choices:
          - value: "yes"
            label: Oui
          - value: "yes"
            label: Non
    """
    assert problems(source) == ["f.yaml:10: question 'met': the choice value 'yes' is used twice"]


def test_an_unknown_question_type_is_reported():
    source = """
    key: f
    languages: [fr]
    questions:
      - {key: a, type: date, prompt: "Quand ?"}
    """
    assert problems(source) == ["f.yaml:4: question 'a': type must be choice, number or text"]


def test_a_choice_question_needs_choices():
    source = """
    key: f
    languages: [fr]
    questions:
      - {key: a, type: choice, prompt: "Quoi ?"}
    """
    assert problems(source) == ["f.yaml:4: question 'a': a choice question needs 'choices'"]


def test_fields_of_another_question_type_are_reported():
    source = """
    key: f
    languages: [fr]
    questions:
      - key: a
        type: text
        prompt: "Nom ?"
        max: 3
    """
    assert problems(source) == ["f.yaml:7: question 'a': 'max' applies only to number questions"]


def test_a_question_key_must_be_a_plain_lower_case_word():
    source = """
    key: f
    languages: [fr]
    questions:
      - {key: Nombre-de-cas, type: number, prompt: "Cas ?"}
    """
    assert problems(source) == [
        "f.yaml:4: question 'Nombre-de-cas': key 'Nombre-de-cas' must be lower-case letters, "
        "digits and _"
    ]


def test_required_reads_yes_and_no_as_well_as_true_and_false():
    flow = load(
        """
        key: f
        languages: [fr]
        questions:
          - {key: a, type: text, prompt: A, required: no}
          - {key: b, type: text, prompt: B, required: yes}
          - {key: c, type: text, prompt: C, required: false}
          - {key: d, type: text, prompt: D}
        """
    )
    assert [q.required for q in flow.questions] == [False, True, False, True]


def test_required_must_be_true_or_false():
    source = """
    key: f
    languages: [fr]
    questions:
      - {key: a, type: text, prompt: A, required: maybe}
    """
    assert problems(source) == ["f.yaml:4: question 'a': required must be true or false"]


# --- conditions --------------------------------------------------------------------------------


def test_a_condition_on_an_unknown_question_is_reported():
    source = MEETING_FILE + lines(
        "  - key: attendees",
        "    type: number",
        '    ask_if: {mett: "yes"}',
        '    prompt: {fr: "Combien ?"}',
    )
    assert problems(source) == [
        "f.yaml:12: question 'attendees': ask_if refers to 'mett', which is not an earlier question"
    ]


def test_a_condition_on_a_later_question_is_reported():
    source = """
    key: f
    languages: [fr]
    questions:
      - key: attendees
        type: number
        ask_if: {met: "yes"}
        prompt: "Combien ?"
      - key: met
        type: choice
        prompt: "Réunion ?"
        choices: [{value: "yes", label: Oui}]
    """
    assert problems(source) == [
        "f.yaml:6: question 'attendees': ask_if refers to 'met', which is not an earlier question"
    ]


def test_a_question_cannot_be_conditional_on_itself():
    source = """
    key: f
    languages: [fr]
    questions:
      - {key: a, type: text, prompt: A, ask_if: {a: "x"}}
    """
    assert problems(source) == [
        "f.yaml:4: question 'a': ask_if refers to 'a', which is not an earlier question"
    ]


def test_a_condition_value_must_be_one_of_the_choices():
    source = MEETING_FILE + lines(
        "  - key: attendees",
        "    type: number",
        '    ask_if: {met: "oui"}',
        '    prompt: "Combien ?"',
    )
    assert problems(source) == [
        "f.yaml:12: question 'attendees': 'oui' is not one of the choices of 'met'"
    ]


def test_every_value_of_an_in_condition_must_be_one_of_the_choices():
    source = MEETING_FILE + lines(
        "  - key: why",
        "    type: text",
        '    ask_if: {met: {in: ["no", "maybe"]}}',
        '    prompt: "Pourquoi ?"',
    )
    assert problems(source) == [
        "f.yaml:12: question 'why': 'maybe' is not one of the choices of 'met'"
    ]


def test_lt_on_a_choice_question_is_reported():
    source = MEETING_FILE + lines(
        "  - key: why",
        "    type: text",
        '    ask_if: {met: {lt: "yes"}}',
        '    prompt: "Pourquoi ?"',
    )
    assert problems(source) == [
        "f.yaml:12: question 'why': 'lt' compares numbers, and 'met' is not a number"
    ]


def test_a_number_condition_must_compare_with_a_number():
    source = """
    key: f
    languages: [fr]
    questions:
      - {key: stock, type: number, prompt: "Stock ?"}
      - {key: why, type: text, prompt: "Pourquoi ?", ask_if: {stock: {lt: few}}}
    """
    assert problems(source) == [
        "f.yaml:5: question 'why': 'stock' is a number question: compare it with a number"
    ]


def test_a_condition_takes_exactly_one_operator():
    source = """
    key: f
    languages: [fr]
    questions:
      - {key: stock, type: number, prompt: "Stock ?"}
      - {key: why, type: text, prompt: "Pourquoi ?", ask_if: {stock: {gt: 1, lt: 9}}}
    """
    assert problems(source) == [
        "f.yaml:5: question 'why': ask_if.stock needs exactly one of: lt, le, gt, ge, ne, in"
    ]


def test_conditions_are_read_as_data_with_their_operator():
    flow = load(
        """
        key: f
        languages: [fr]
        questions:
          - key: met
            type: choice
            prompt: "Réunion ?"
            choices: [{value: "yes", label: Oui}, {value: "no", label: Non}]
          - {key: stock, type: number, prompt: "Stock ?"}
          - key: why
            type: text
            prompt: "Pourquoi ?"
            ask_if: {met: {in: ["yes", "no"]}, stock: {le: -1}}
        """
    )
    assert flow.question("why").ask_if == (
        Condition("met", "in", ("yes", "no")),
        Condition("stock", "le", "-1"),
    )


# --- bounds ------------------------------------------------------------------------------------


def test_max_can_be_the_answer_to_an_earlier_number_question():
    flow = load(
        """
        key: f
        languages: [fr]
        questions:
          - {key: denominator, type: number, prompt: "Cas ?", min: 0}
          - {key: numerator, type: number, prompt: "Parmi eux ?", min: 0, max: denominator}
        """
    )
    assert flow.question("numerator").max == "denominator"
    assert flow.question("numerator").min == 0


def test_max_cannot_be_a_later_number_question():
    source = """
    key: f
    languages: [fr]
    questions:
      - {key: numerator, type: number, prompt: "Parmi eux ?", max: denominator}
      - {key: denominator, type: number, prompt: "Cas ?"}
    """
    assert problems(source) == [
        "f.yaml:4: question 'numerator': max 'denominator' is not an earlier number question"
    ]


def test_max_cannot_be_a_question_that_is_not_a_number():
    source = MEETING_FILE + lines(
        "  - key: attendees",
        "    type: number",
        "    max: met",
        '    prompt: "Combien ?"',
    )
    assert problems(source) == [
        "f.yaml:12: question 'attendees': max 'met' is not an earlier number question"
    ]


def test_negative_bounds_are_whole_numbers():
    flow = load(
        """
        key: f
        languages: [fr]
        questions:
          - {key: t, type: number, prompt: "Température ?", min: -10, max: 50}
        """
    )
    assert (flow.questions[0].min, flow.questions[0].max) == (-10, 50)


def test_max_length_must_be_at_least_one():
    source = """
    key: f
    languages: [fr]
    questions:
      - {key: a, type: text, prompt: A, max_length: 0}
    """
    assert problems(source) == ["f.yaml:4: question 'a': max_length must be at least 1"]


# --- YAML 1.1 surprises are read as the text typed --------------------------------------------


def test_unquoted_yes_no_on_off_choice_values_stay_text():
    flow = load(
        """
        key: f
        languages: [fr]
        questions:
          - key: met
            type: choice
            prompt: Réunion ?
            choices:
              - {value: yes, label: Oui}
              - {value: no, label: Non}
              - {value: on, label: Allumé}
              - {value: off, label: Éteint}
          - {key: why, type: text, prompt: "Pourquoi ?", ask_if: {met: no}}
        """
    )
    assert [c.value for c in flow.question("met").choices] == ["yes", "no", "on", "off"]
    assert flow.question("why").ask_if == (Condition("met", "eq", "no"),)


def test_unquoted_words_that_yaml_1_1_reads_as_booleans_are_text_in_prompts_and_labels():
    flow = load(
        """
        key: f
        languages: [fr]
        questions:
          - key: met
            type: choice
            prompt: yes
            choices: [{value: a, label: No}, {value: b, label: 1.0}]
        """
    )
    met = flow.question("met")
    assert met.prompt == {"fr": "yes"}
    assert [c.label for c in met.choices] == [{"fr": "No"}, {"fr": "1.0"}]


def test_unquoted_opening_times_are_not_read_as_sexagesimal_numbers():
    daily = load(MEETING + "schedule: {every: day, opens: 12:30}\n")
    weekly = load(MEETING + "schedule:\n  every: week\n  opens: mon 08:00\n")

    assert daily.schedule is not None and daily.schedule.opens == "12:30"
    assert weekly.schedule is not None and weekly.schedule.opens == "mon 08:00"


# --- YAML itself -------------------------------------------------------------------------------


def test_invalid_yaml_is_reported_with_its_line():
    source = """
    key: f
    languages: [fr]
    questions:
      - {key: a, type: text, prompt: "Nom ?"}
      - {key: b, type: text, prompt: D?}
    """
    found = problems(source)

    assert len(found) == 1
    assert found[0].startswith("f.yaml:5: not valid YAML: ")


def test_a_tab_indented_file_is_invalid_yaml_with_a_line():
    found = problems("key: f\nlanguages: [fr]\nquestions:\n\t- {key: a}\n")

    assert len(found) == 1
    assert found[0].startswith("f.yaml:4: not valid YAML: ")


@pytest.mark.parametrize("source", ["", "\n\n", "# only a comment\n"])
def test_an_empty_file_is_reported(source):
    assert problems(source) == ["f.yaml:1: the file is empty"]


def test_a_file_that_is_not_a_mapping_is_reported():
    assert problems("- key: f\n") == ["f.yaml:1: the flow must be a mapping (key: value)"]


def test_a_file_over_the_size_limit_is_refused_before_parsing():
    found = problems("# " + "x" * 200_001)

    assert len(found) == 1
    assert found[0].startswith("f.yaml:1: file is larger than")


def test_languages_written_as_one_word_instead_of_a_list_is_reported():
    source = """
    key: f
    languages: fr
    questions:
      - {key: a, type: text, prompt: "Nom ?"}
    """
    found = problems(source)
    assert found[0] == "f.yaml:2: languages must be a list"


def test_a_language_must_be_a_short_code():
    source = """
    key: f
    languages: [français]
    questions:
      - {key: a, type: text, prompt: "Nom ?"}
    """
    assert problems(source) == [
        "f.yaml:2: language 'français' must be a 2 or 3 letter code such as fr"
    ]


# --- schedule ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "opens"),
    [
        ("day", "08:00"),
        ("day", "23:59"),
        ("week", "mon 08:00"),
        ("week", "sun 00:00"),
        ("month", "1 08:00"),
        ("month", "28 17:30"),
    ],
)
def test_a_valid_opening_is_kept_as_written(every, opens):
    flow = load(MEETING + f'schedule: {{every: {every}, opens: "{opens}"}}\n')

    assert flow.schedule is not None
    assert (flow.schedule.every, flow.schedule.opens) == (every, opens)


@pytest.mark.parametrize(
    ("every", "opens", "example"),
    [
        ("day", "8:00", '"08:00"'),
        ("day", "24:00", '"08:00"'),
        ("day", "08:60", '"08:00"'),
        ("day", "mon 08:00", '"08:00"'),
        ("week", "08:00", '"mon 08:00"'),
        ("week", "monday 08:00", '"mon 08:00"'),
        ("week", "Mon 08:00", '"mon 08:00"'),
        ("week", "mon 8h", '"mon 08:00"'),
        ("month", "0 08:00", '"1 08:00"'),
        ("month", "29 08:00", '"1 08:00"'),
        ("month", "mon 08:00", '"1 08:00"'),
        ("month", "08:00", '"1 08:00"'),
    ],
)
def test_an_invalid_opening_shows_the_expected_shape_at_its_line(every, opens, example):
    source = MEETING_FILE + lines(
        "schedule:",
        f"  every: {every}",
        f'  opens: "{opens}"',
    )

    assert problems(source) == [f"f.yaml:12: schedule.opens must look like {example}"]


def test_a_schedule_needs_an_opening():
    source = MEETING_FILE + lines(
        "schedule:",
        "  every: week",
    )

    # Reported where the schedule's fields start.
    assert problems(source) == ['f.yaml:11: schedule.opens must look like "mon 08:00"']


def test_a_schedule_can_be_per_worker():
    flow = load(MEETING + 'schedule: {every: day, opens: "07:00", per: worker}\n')

    assert flow.schedule is not None and flow.schedule.per == "worker"


def test_a_schedule_per_anything_else_is_reported():
    source = MEETING_FILE + 'schedule: {every: day, opens: "07:00", per: team}\n'

    assert problems(source) == ["f.yaml:10: schedule.per must be facility or worker"]


@pytest.mark.parametrize(
    ("written", "duration"),
    [
        ("1d", timedelta(days=1)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("36h", timedelta(hours=36)),
    ],
)
def test_durations_are_days_hours_or_minutes(written, duration):
    flow = load(
        MEETING + f'schedule: {{every: week, opens: "mon 08:00", remind_after: [{written}], '
        f"escalate_after: {written}}}\n"
    )
    assert flow.schedule is not None
    assert flow.schedule.remind_after == (duration,)
    assert flow.schedule.escalate_after == duration


@pytest.mark.parametrize("written", ["1w", "1.5d", "d", "2 d", "12", "1D"])
def test_other_durations_are_reported_with_their_text(written):
    source = MEETING_FILE + lines(
        "schedule:",
        "  every: week",
        '  opens: "mon 08:00"',
        f"  escalate_after: {written}",
    )
    assert problems(source) == [
        f"f.yaml:13: escalate_after must look like 1d, 12h or 30m, not '{written}'"
    ]


# --- alerts ------------------------------------------------------------------------------------


def test_an_alert_may_use_the_known_placeholders_and_question_keys():
    flow = load(
        MEETING
        + lines(
            "alerts:",
            '  - when: {met: "no"}',
            '    text: "{facility} {name} {phone} {period} {flow}: {met}"',
            "    urgent: true",
        )
    )
    (alert,) = flow.alerts
    assert alert.text == {"fr": "{facility} {name} {phone} {period} {flow}: {met}"}
    assert alert.urgent is True
    assert alert.notify == "supervisor"


def test_an_unknown_alert_placeholder_is_reported_with_its_language():
    source = MEETING_FILE + lines(
        "alerts:",
        '  - when: {met: "no"}',
        "    text:",
        '      fr: "{facility}: pas de réunion"',
        '      bm: "{facilty}: ladon ma kɛ"',
    )
    assert problems(source) == [
        "f.yaml:14: alert text (bm): unknown field {facilty} (known: {facility}, {flow}, "
        "{met}, {name}, {period}, {phone})"
    ]


def test_an_alert_condition_on_an_unknown_question_is_reported():
    source = MEETING_FILE + lines(
        "alerts:",
        "  - when: {stock: {lt: 5}}",
        '    text: "x"',
    )

    assert problems(source) == [
        "f.yaml:11: when refers to 'stock', which is not an earlier question"
    ]


def test_an_alert_only_notifies_the_supervisor():
    source = MEETING_FILE + lines(
        "alerts:",
        '  - when: {met: "no"}',
        "    notify: minister",
        '    text: "x"',
    )
    assert problems(source) == ["f.yaml:12: notify must be 'supervisor'"]


# --- text fallback -----------------------------------------------------------------------------


def test_a_text_missing_in_a_language_falls_back_to_the_first_language():
    flow = load(MEETING)

    assert flow.text({"fr": "Oui", "bm": "Awɔ"}, "bm") == "Awɔ"
    assert flow.text({"fr": "Combien ?"}, "bm") == "Combien ?"
    assert flow.text({"fr": "Combien ?", "bm": ""}, "bm") == "Combien ?"
    assert flow.text({"fr": "Oui", "bm": "Awɔ"}, "en") == "Oui"
    assert flow.text({}, "fr") == ""


# --- indicators ---------------------------------------------------------------------------------

# MEETING plus two number questions and a text one; `indicators:` starts on line 16.
COUNTS = MEETING_FILE + lines(
    "  - key: due",
    "    type: number",
    "  - key: done",
    "    type: number",
    "  - key: note",
    "    type: text",
)


def test_an_indicator_names_its_number_questions_rule_set_and_baseline():
    source = COUNTS + lines(
        "indicators:",
        "  - key: anc4",
        "    label: {fr: CPN4, bm: CPN4}",
        "    numerator: done",
        "    denominator: due",
        "    rules: ihi",
        "    baseline: 8",
    )
    [indicator] = load(source).indicators
    assert indicator == Indicator("anc4", {"fr": "CPN4", "bm": "CPN4"}, "done", "due", "ihi", 8)


def test_an_indicator_without_a_denominator_is_a_count_on_anhoej_rules_over_twelve_points():
    source = COUNTS + lines("indicators:", "  - {key: births, label: Naissances, numerator: done}")
    [indicator] = load(source).indicators
    assert indicator == Indicator("births", {"fr": "Naissances"}, "done", None, "anhoej", 12)


def test_a_flow_without_indicators_has_none():
    assert load(COUNTS).indicators == ()


def test_an_indicator_counts_only_number_questions():
    source = COUNTS + lines(
        "indicators:",
        "  - key: a",
        "    label: A",
        "    numerator: note",
        "    denominator: met",
        "  - {key: b, label: B, numerator: nowhere}",
    )
    assert problems(source) == [
        "f.yaml:19: numerator 'note' is not a number question",
        "f.yaml:20: denominator 'met' is not a number question",
        "f.yaml:21: numerator 'nowhere' is not a number question",
    ]


def test_an_indicator_rejects_a_bad_rule_set_baseline_or_denominator():
    source = COUNTS + lines(
        "indicators:",
        "  - key: a",
        "    label: A",
        "    numerator: done",
        "    denominator: done",
        "    rules: western_electric",
        "    baseline: 0",
    )
    assert problems(source) == [
        "f.yaml:20: the denominator must differ from the numerator",
        "f.yaml:21: rules must be anhoej or ihi",
        "f.yaml:22: baseline must be at least 1",
    ]


def test_an_indicator_label_is_short_enough_for_sms_in_every_language():
    source = COUNTS + lines(
        "indicators:",
        "  - key: a",
        "    label:",
        "      fr: CPN4",
        "      bm: Musokɔnɔmaw ka taa dɔgɔtɔrɔso la",
        "    numerator: done",
    )
    assert problems(source) == ["f.yaml:20: indicator label (bm) is longer than 20"]


def test_indicator_keys_fields_and_shape_are_checked():
    source = COUNTS + lines(
        "indicators:",
        "  - {key: a, label: A, numerator: done}",
        "  - {key: a, label: B, numerator: due}",
        "  - {key: c, numerator: due}",
        "  - {key: d, label: D, numerator: due, colour: red}",
    )
    assert problems(source) == [
        "f.yaml:18: the indicator key 'a' is used twice",
        "f.yaml:19: an indicator needs a 'key', a 'label' and a 'numerator'",
        "f.yaml:20: an indicator: unknown field 'colour' (expected one of: baseline, "
        "denominator, key, label, numerator, rules)",
    ]


@pytest.mark.parametrize(
    "field, value",
    [
        ("min", '"\u0663"'),
        ("max", '"\u00b2"'),
        ("max", '"\uff14\uff10"'),
    ],  # Arabic-Indic 3, superscript 2, fullwidth 40
)
def test_a_bound_in_another_scripts_digits_is_an_error_not_a_number(field, value):
    source = f"""
        key: f
        title: T
        languages: [fr]
        questions:
          - key: n
            type: number
            {field}: {value}
            prompt: "Combien ?"
    """
    assert any("must be a whole number" in p for p in problems(source))


@pytest.mark.parametrize("opens", ['"\u00b2 08:00"', '"1 \uff108:00"', '"\u0661 08:00"'])
def test_a_monthly_opening_in_other_digits_is_reported_not_raised(opens):
    source = f"""
        key: f
        title: T
        languages: [fr]
        questions:
          - key: n
            type: number
            prompt: "Combien ?"
        schedule:
          every: month
          opens: {opens}
    """
    assert any("schedule.opens must look like" in p for p in problems(source))
