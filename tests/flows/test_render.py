"""Specification for flows.render: the exact texts a phone shows for each engine screen."""

from textwrap import dedent

import pytest

from flows.definition import Flow
from flows.engine import Invalid, Screen, advance, start
from flows.loader import load_flow
from flows.messages import say
from flows.render import error_text, menu_text, question_text, screen_text


def load(source: str) -> Flow:
    return load_flow(dedent(source).lstrip("\n"), "f.yaml")


FLOW = load(
    """
    key: f
    title: {fr: "Suivi QI", bm: "QI sɛgɛsɛgɛli"}
    languages: [fr, bm]
    questions:
      - key: change_status
        type: choice
        prompt: {fr: "Idée de changement ?", bm: "Fɛɛrɛ kura bɛ cogo di?"}
        choices:
          - {value: "not_started", label: {fr: "Pas commencée", bm: "An m'a daminɛ"}}
          - {value: "adopted", label: {fr: "Adoptée", bm: "An b'a kɛ"}}
          - {value: "abandoned", label: {fr: "Abandonnée"}}
      - key: attendees
        type: number
        max: 40
        prompt: {fr: "Combien de présents ?"}
    closing: {fr: "Merci.", bm: "I ni ce."}
    """
)
CHANGE, ATTENDEES = FLOW.questions


def test_choices_are_numbered_from_1_in_file_order_one_per_line_after_the_prompt():
    assert question_text(FLOW, CHANGE, "fr") == (
        "Idée de changement ?\n1 Pas commencée\n2 Adoptée\n3 Abandonnée"
    )


def test_a_number_question_shows_only_its_prompt():
    assert question_text(FLOW, ATTENDEES, "fr") == "Combien de présents ?"


def test_bambara_is_shown_in_bambara_and_falls_back_to_french_where_missing():
    assert question_text(FLOW, CHANGE, "bm") == (
        "Fɛɛrɛ kura bɛ cogo di?\n1 An m'a daminɛ\n2 An b'a kɛ\n3 Abandonnée"
    )
    assert question_text(FLOW, ATTENDEES, "bm") == "Combien de présents ?"


def test_a_question_screen_without_error_is_the_question_text():
    screen = start(FLOW).screen

    assert screen_text(FLOW, screen, "fr") == question_text(FLOW, CHANGE, "fr")


def test_a_refused_input_puts_its_reason_on_the_first_line_then_the_question():
    screen = advance(FLOW, start(FLOW).state, "7").screen
    lines = screen_text(FLOW, screen, "fr").split("\n")

    assert lines[0] == "Choix invalide: tapez 1 à 3."
    assert lines[1:] == question_text(FLOW, CHANGE, "fr").split("\n")


def test_the_reason_is_in_the_person_s_language():
    screen = Screen("question", ATTENDEES, Invalid("too_big", 40))

    assert screen_text(FLOW, screen, "fr") == "Le maximum est 40.\nCombien de présents ?"
    assert screen_text(FLOW, screen, "bm") == ("A ka ca kojugu: 40 dɔrɔn.\nCombien de présents ?")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (Invalid("choice", 5), "Choix invalide: tapez 1 à 5."),
        (Invalid("number"), "Tapez un nombre."),
        (Invalid("too_small", 0), "Le minimum est 0."),
        (Invalid("too_big", 9999), "Le maximum est 9999."),
        (Invalid("required"), "Une réponse est requise."),
        (Invalid("too_long", 80), "Trop long: 80 signes au plus."),
        (Invalid("confirm"), "Tapez 1 pour envoyer ou 0 pour corriger."),
    ],
)
def test_every_reason_has_a_short_french_sentence_with_its_limit(error, expected):
    assert error_text(error, "fr") == expected


@pytest.mark.parametrize(
    "reason", ["choice", "number", "too_small", "too_big", "required", "too_long", "confirm"]
)
def test_every_reason_has_a_bambara_sentence_of_its_own(reason):
    error = Invalid(reason, 7)

    assert error_text(error, "bm") != error_text(error, "fr")
    assert error_text(error, "bm")


GIVEN = {"change_status": "adopted", "attendees": 12}


def test_the_confirm_screen_shows_the_answers_then_1_to_send_and_0_to_correct():
    lines = screen_text(FLOW, Screen("confirm", answers=GIVEN), "fr").split("\n")

    assert lines == ["Vos réponses: Adoptée, 12", "1 Envoyer", "0 Corriger"]


def test_the_confirm_screen_in_bambara_shows_the_bambara_labels_and_the_same_keys():
    lines = screen_text(FLOW, Screen("confirm", answers=GIVEN), "bm").split("\n")

    assert lines[0] == "I ka jaabiw: An b'a kɛ, 12"
    assert [line.split()[0] for line in lines[1:]] == ["1", "0"]


def test_answers_that_do_not_fit_one_screen_continue_on_a_second_page():
    wordy = load(
        """
        key: f
        title: T
        languages: [fr]
        questions:
"""
        + "".join(
            f"""
          - key: q{n}
            type: text
            prompt: "Question {n} ?"
"""
            for n in range(8)
        )
    )
    given = {f"q{n}": f"la réponse numéro {n}" for n in range(8)}
    first = screen_text(wordy, Screen("confirm", answers=given), "fr")
    second = screen_text(wordy, Screen("confirm", answers=given, page=2), "fr")

    assert len(first) <= 160 and len(second) <= 160
    assert first.endswith("...\n1 Envoyer\n2 Voir la suite\n0 Corriger")
    assert second.startswith("Suite: ") and second.endswith("\n1 Envoyer\n0 Corriger")
    shown = first.split("\n")[0] + ", " + second.split("\n")[0].removeprefix("Suite: ")
    assert all(f"numéro {n}" in shown for n in range(8))


def test_a_refused_confirmation_says_why_above_the_confirm_screen():
    text = screen_text(FLOW, Screen("confirm", error=Invalid("confirm"), answers=GIVEN), "fr")

    assert text.split("\n")[0] == say("invalid.confirm", "fr")
    assert text.split("\n")[1] == "Vos réponses: Adoptée, 12"


def test_the_second_question_says_once_that_00_goes_back():
    second = screen_text(FLOW, Screen("question", ATTENDEES, hint_back=True), "fr")

    assert second == "Combien de présents ?\n00 Retour"


def test_the_closing_screen_shows_the_closing_text_in_the_person_s_language():
    assert screen_text(FLOW, Screen("closing"), "fr") == "Merci."
    assert screen_text(FLOW, Screen("closing"), "bm") == "I ni ce."


def test_the_closing_falls_back_to_the_title_when_the_flow_has_none():
    untitled_closing = load(
        """
        key: f
        title: {fr: "Suivi QI", bm: "QI sɛgɛsɛgɛli"}
        languages: [fr, bm]
        questions:
          - {key: a, type: text, prompt: "Nom ?"}
        """
    )
    assert screen_text(untitled_closing, Screen("closing"), "fr") == "Suivi QI"
    assert screen_text(untitled_closing, Screen("closing"), "bm") == "QI sɛgɛsɛgɛli"


def test_a_closing_missing_in_bambara_falls_back_to_the_french_closing_not_the_title():
    flow = load(
        """
        key: f
        title: {fr: "Suivi QI", bm: "QI sɛgɛsɛgɛli"}
        languages: [fr, bm]
        questions:
          - {key: a, type: text, prompt: "Nom ?"}
        closing: "Merci."
        """
    )
    assert screen_text(flow, Screen("closing"), "bm") == "Merci."


def test_the_menu_lists_flow_titles_numbered_from_1_under_a_heading():
    assert menu_text(["Suivi QI", "Stock"], "fr") == "Choisissez le suivi:\n1 Suivi QI\n2 Stock"
    assert menu_text(["Suivi QI"], "bm").split("\n") == ["Kɔlɔsili sugandi:", "1 Suivi QI"]


def test_a_language_without_service_messages_gets_french_ones():
    assert error_text(Invalid("number"), "en") == "Tapez un nombre."
    assert menu_text(["A"], "en") == "Choisissez le suivi:\n1 A"
