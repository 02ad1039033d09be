"""Specification for flows.lint: screens that risk being cut, SMS that cost more than needed,
words a language's texts should not use and texts missing in a language, each at its file:line."""

from textwrap import dedent

import pytest

from flows.definition import Flow
from flows.lint import Finding, avoided, lint, measure
from flows.loader import load_flow
from flows.messages import MESSAGES


def load(source: str) -> Flow:
    return load_flow(dedent(source).lstrip("\n"), "f.yaml")


def flow_with(prompt_fr: str, prompt_bm: str | None = None, **extra: str) -> Flow:
    """A titled flow of one text question, on line 5 of f.yaml (and whatever top-level YAML
    `extra` holds, e.g. closing, alerts, from line 6)."""
    prompt = f'{{fr: "{prompt_fr}"' + (f', bm: "{prompt_bm}"' if prompt_bm else "") + "}"
    source = (
        "key: f\n"
        'title: {fr: "Suivi", bm: "Kɔlɔsili"}\n'
        "languages: [fr, bm]\n"
        "questions:\n"
        f"  - {{key: note, type: text, max_length: 20, prompt: {prompt}}}\n"
        + "".join(f"{key}: {value}\n" for key, value in extra.items())
    )
    return load_flow(source, "f.yaml")


def warnings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "warning"]


def about(findings: list[Finding], where: str, language: str) -> list[str]:
    return [
        f"{f.level}: {f.message}" for f in findings if (f.where, f.language) == (where, language)
    ]


# --- USSD screens ------------------------------------------------------------------------------

OVER_160 = "over the 160 every phone shows whole (a screen holds 182)"
UCS2_81 = (
    "USSD screen is 81 characters, over the 80 a screen holds with a letter outside GSM-7;"
    " SMS UCS-2, 2 segments, 81 units"
)


def test_a_short_flow_has_no_warnings():
    assert warnings(lint(flow_with("Votre nom ?", "I tɔgɔ?", closing='"Merci."'))) == []


def test_a_screen_over_160_characters_is_a_warning_naming_file_line_question_and_language():
    findings = lint(flow_with("x" * 161, "y" * 20))

    assert about(findings, "question 'note'", "fr") == [
        "warning: USSD screen is 161 characters, over the 160 every phone shows whole"
        " (a screen holds 182); SMS GSM-7, 2 segments, 161 units"
    ]
    assert about(findings, "question 'note'", "bm") == []
    assert str(warnings(findings)[0]) == (
        "warning: f.yaml:5: question 'note' [fr]: USSD screen is 161 characters, over the 160"
        " every phone shows whole (a screen holds 182); SMS GSM-7, 2 segments, 161 units"
    )


def test_a_screen_over_182_characters_is_over_what_any_phone_shows():
    findings = lint(flow_with("x" * 183, "y" * 20))

    assert about(findings, "question 'note'", "fr") == [
        "warning: USSD screen is 183 characters, over the 182 a screen holds"
        " (160 show whole everywhere); SMS GSM-7, 2 segments, 183 units"
    ]


def test_choice_lines_count_towards_the_screen():
    choices = ", ".join(f'{{value: c{i}, label: "{"x" * 20}"}}' for i in range(6))
    flow = load(
        f"""
        key: f
        languages: [fr]
        questions:
          - {{key: pick, type: choice, prompt: "{"p" * 30}", choices: [{choices}]}}
        """
    )
    # 30 + 6 * (1 newline + "N " + 20) = 168 characters
    assert about(lint(flow), "question 'pick'", "fr") == [
        f"warning: USSD screen is 168 characters, {OVER_160}; SMS GSM-7, 2 segments, 168 units"
    ]


def test_a_screen_that_fits_alone_but_not_with_an_error_line_is_a_warning():
    # 160 characters, then "\n" and the longest error for a text question with max_length 20:
    # "Trop long: 20 signes au plus." (29 characters) makes 190, over the 182 USSD limit.
    findings = lint(flow_with("x" * 160, "y" * 20))

    assert about(findings, "question 'note'", "fr") == [
        "warning: with an error line the screen is 190 characters, over the 182 a screen holds"
        " (160 show whole everywhere)"
    ]


def test_a_bambara_screen_with_a_letter_outside_gsm7_is_held_to_80_characters():
    findings = lint(flow_with("Votre nom ?", "ɛ" + "y" * 80))

    assert about(findings, "question 'note'", "bm") == [f"warning: {UCS2_81}"]


def test_the_same_length_in_gsm7_letters_is_fine():
    findings = lint(flow_with("Votre nom ?", "e" + "y" * 80))

    assert about(findings, "question 'note'", "bm") == []


def test_transliterating_bambara_brings_the_screen_back_under_the_gsm7_limit():
    findings = lint(flow_with("Votre nom ?", "ɛ" + "y" * 80), transliterate=("bm",))

    assert about(findings, "question 'note'", "bm") == []


def test_transliteration_applies_only_to_the_languages_named():
    findings = lint(flow_with("Votre nom ?", "ɛ" + "y" * 80), transliterate=("fr",))

    assert about(findings, "question 'note'", "bm") == [f"warning: {UCS2_81}"]


def test_a_bambara_screen_falling_back_to_french_is_measured_too():
    findings = lint(flow_with("x" * 161))

    assert about(findings, "question 'note'", "bm")[1:] == [
        f"warning: USSD screen is 161 characters, {OVER_160}; SMS GSM-7, 2 segments, 161 units"
    ]


def test_a_screen_is_measured_in_septets_so_euro_signs_count_twice():
    findings = lint(flow_with("x" * 140 + "€" * 12, "y" * 20))

    (warning,) = about(findings, "question 'note'", "fr")
    assert warning.startswith("warning: USSD screen is 164 ")


# --- SMS texts ---------------------------------------------------------------------------------


def test_the_closing_is_reported_with_its_encoding_and_segments_in_each_language():
    findings = lint(flow_with("Nom ?", closing='{fr: "Merci.", bm: "I ni ce."}'))

    assert about(findings, "closing", "fr") == ["info: SMS GSM-7, 1 segment, 6 units"]
    assert about(findings, "closing", "bm") == ["info: SMS GSM-7, 1 segment, 8 units"]


def test_a_closing_longer_than_one_sms_is_a_warning():
    findings = lint(flow_with("Nom ?", closing='"' + "m" * 161 + '"'))

    assert about(findings, "closing", "fr") == [
        f"warning: USSD screen is 161 characters, {OVER_160}; SMS GSM-7, 2 segments, 161 units",
        "warning: SMS GSM-7, 2 segments, 161 units",
    ]


def test_an_alert_with_a_letter_outside_gsm7_is_reported_as_ucs2():
    alerts = '[{when: {note: "x"}, text: "{facility}: fenêtre cassée"}]'
    findings = lint(flow_with("Nom ?", alerts=alerts))

    where = "alert 1 (before its {fields} are filled)"
    assert about(findings, where, "fr") == ["info: SMS UCS-2, 1 segment, 26 units"]


def test_a_bambara_alert_is_ucs2_unless_bambara_is_transliterated():
    alerts = (
        '[{when: {note: "x"}, text: {fr: "{facility}: pas de réunion", '
        'bm: "{facility}: ladon ma kɛ"}}]'
    )
    where = "alert 1 (before its {fields} are filled)"

    assert about(lint(flow_with("Nom ?", alerts=alerts)), where, "bm") == [
        "info: SMS UCS-2, 1 segment, 23 units"
    ]
    # In GSM-7 the braces of {facility} are extension characters of two septets each.
    assert about(lint(flow_with("Nom ?", alerts=alerts), ("bm",)), where, "bm") == [
        "info: SMS GSM-7, 1 segment, 25 units"
    ]


def test_an_alert_over_70_ucs2_characters_costs_two_segments_and_is_a_warning():
    alerts = '[{when: {note: "x"}, text: "' + "ê" * 71 + '"}]'
    findings = lint(flow_with("Nom ?", alerts=alerts))

    assert about(findings, "alert 1 (before its {fields} are filled)", "fr") == [
        "warning: SMS UCS-2, 2 segments, 71 units"
    ]


def test_every_alert_is_numbered_from_1_in_file_order():
    alerts = '[{when: {note: "a"}, text: "A"}, {when: {note: "b"}, text: "BB"}]'
    findings = lint(flow_with("Nom ?", alerts=alerts))

    assert about(findings, "alert 1 (before its {fields} are filled)", "fr") == [
        "info: SMS GSM-7, 1 segment, 1 units"
    ]
    assert about(findings, "alert 2 (before its {fields} are filled)", "fr") == [
        "info: SMS GSM-7, 1 segment, 2 units"
    ]


def test_without_a_closing_the_title_shown_instead_is_what_is_measured():
    flow = load(
        """
        key: f
        title: "Suivi QI de la semaine"
        languages: [fr]
        questions:
          - {key: a, type: text, prompt: "Nom ?"}
        """
    )
    assert about(lint(flow), "closing", "fr") == ["info: SMS GSM-7, 1 segment, 22 units"]


# --- words a language's texts should not use -----------------------------------------------------

BILINGUAL = """
key: f
title: {{fr: "Suivi", bm: "{title}"}}
languages: [fr, bm]
questions:
  - key: met
    type: choice
    prompt: {{fr: "{fr}", bm: "{bm}"}}
    choices:
      - {{value: "yes", label: {{fr: "Oui", bm: "{label}"}}}}
  - {{key: n, type: number, prompt: {{fr: "Combien ?", bm: "Joli?"}}}}
closing: {{fr: "Merci.", bm: "{closing}"}}
alerts:
  - {{when: {{met: "yes"}}, text: {{fr: "{{facility}}: oui", bm: "{alert}"}}}}
schedule:
  every: week
  opens: "mon 08:00"
  invite: {{fr: "{{flow}} ouvert", bm: "{invite}"}}
indicators:
  - {{key: met_share, label: {{fr: "Part", bm: "{indicator}"}}, numerator: n}}
"""
PLAIN = {
    "title": "Kɔlɔsili",
    "fr": "Réunion ?",
    "bm": "Ɲɔgɔnye kɛra wa?",
    "label": "Awɔ",
    "closing": "Aw ni ce.",
    "alert": "{facility}: awɔ",
    "invite": "{flow} dayɛlɛla",
    "indicator": "Hakɛ",
}


def bilingual(**bambara: str) -> Flow:
    """A flow with a text in every place lint reads, in French and Bambara; `bambara` replaces
    some Bambara texts (title, bm for the prompt, label, closing, alert, invite, indicator)."""
    return load(BILINGUAL.format(**(PLAIN | bambara)))


def avoided_words(findings: list[Finding]) -> list[str]:
    return [str(f) for f in findings if f.level == "warning" and f.message.startswith("'")]


def test_bambara_texts_in_every_place_without_avoided_words_have_no_such_warning():
    assert avoided_words(lint(bilingual())) == []


def test_a_french_word_warns_in_the_bambara_prompt_and_not_in_the_french_one():
    findings = lint(bilingual(bm="QI jɛkulu ye réunion kɛ wa?"))  # in French: "Réunion ?"

    assert avoided_words(findings) == [
        "warning: f.yaml:7: question 'met' [bm]: 'réunion': a French word; write ɲɔgɔnye"
    ]


def test_a_word_the_glossary_rejects_is_a_warning_wherever_the_bambara_text_is():
    places = ["title", "bm", "label", "closing", "alert", "invite", "indicator"]
    findings = lint(bilingual(**{place: "Jatebi sɛbɛn" for place in places}))

    assert [(f.at, f.where, f.language) for f in findings if "'jatebi'" in f.message] == [
        ("f.yaml:2", "title", "bm"),
        ("f.yaml:7", "question 'met'", "bm"),
        ("f.yaml:9", "question 'met' choice 'yes'", "bm"),
        ("f.yaml:11", "closing", "bm"),
        ("f.yaml:13", "alert 1", "bm"),
        ("f.yaml:17", "schedule invite", "bm"),
        ("f.yaml:19", "indicator 'met_share'", "bm"),
    ]


@pytest.mark.parametrize(
    "written",
    ["REUNION", "la reunion", "réunions", "Jatèbi", "jatebiw", "i ka kɔlɔsili tɛmɛnen tɛ"],
)
def test_avoided_words_are_found_whatever_their_case_accents_plural_or_spelling(written):
    assert avoided(written, "bm") != []


@pytest.mark.parametrize("written", ["réunionnel", "jatebiko", "tɛmɛnenw tɛ", "joli", ""])
def test_only_whole_words_count(written):
    assert avoided(written, "bm") == []


def test_a_bambara_text_missing_falls_back_to_french_without_a_warning():
    flow = flow_with("Réunion cette semaine ?")

    assert avoided_words(lint(flow)) == []


def test_the_services_own_bambara_messages_use_no_avoided_word():
    slips = {key: avoided(texts["bm"], "bm") for key, texts in MESSAGES.items() if "bm" in texts}

    assert {key: found for key, found in slips.items() if found} == {}


def test_flows_lint_prints_the_warning_for_a_flow_file(app, tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(BILINGUAL.format(**PLAIN | {"bm": "Jatebi sɛbɛn."}), encoding="utf-8")

    result = app.test_cli_runner().invoke(args=["flows", "lint", str(path)])

    # BILINGUAL starts with an empty line: the prompt is on line 8 of the file.
    assert f"warning: {path}:8: question 'met' [bm]: 'jatebi': not a Bambara word" in (
        result.output
    )


# --- texts missing in a language, and where each finding points ----------------------------------

BLOCK = """
# A weekly check-in.
key: f
languages: [fr, bm]
questions:
  - key: met
    type: choice
    prompt:
      fr: "{fr}"
      bm: "{bm}"
    choices:
      - {{value: "yes", label: "Oui"}}
closing:
  fr: "Merci."
  bm: "{closing}"
alerts:
  - when: {{met: "yes"}}
    text: "{{facility}}: {alert}"
"""


def block(
    title: str = 'title: {fr: "Suivi", bm: "Kɔlɔsili"}',
    drop: str | tuple[str, ...] = (),
    **texts: str,
) -> Flow:
    """A flow written over many lines (the prompt's French on line 8, Bambara on 9, the
    closing's Bambara on 14, the alert's text on 17), `title` on line 1 in the comment's place;
    the lines starting with `drop` (one start or several; indentation aside) left out."""
    plain = {"fr": "Réunion ?", "bm": "Ɲɔgɔnye kɛra wa?", "closing": "Aw ni ce.", "alert": "oui"}
    source = BLOCK.format(**plain | texts).replace("# A weekly check-in.", title)
    kept = [line for line in source.splitlines() if not (drop and line.lstrip().startswith(drop))]
    return load("\n".join(kept))


def test_a_titled_flow_with_every_prompt_in_every_language_has_no_warning():
    assert warnings(lint(block())) == []


def test_a_flow_without_a_title_is_a_warning_where_the_flow_starts():
    # The comment stays on line 1, so the flow itself starts on line 2.
    findings = lint(block(title="# A weekly check-in."))

    assert [str(f) for f in warnings(findings)] == [
        "warning: f.yaml:2: title [fr]: no title: menus, invitations and alerts name the flow"
        " with nothing"
    ]


def test_a_title_missing_a_language_is_a_warning_for_that_language():
    findings = lint(block(title='title: "Suivi"'))

    assert [str(f) for f in warnings(findings)] == [
        "warning: f.yaml:1: title [bm]: no text in bm: people reading bm see the fr one"
    ]


def test_a_prompt_missing_a_language_is_a_warning_at_the_prompt():
    findings = lint(block(bm="drop me", drop='bm: "drop me"'))

    assert [str(f) for f in warnings(findings)] == [
        "warning: f.yaml:8: question 'met' [bm]: no text in bm: people reading bm see the fr one"
    ]


def test_a_question_without_a_prompt_warns_once_that_its_key_is_shown():
    flow = load(
        """
        key: f
        title: {fr: "Suivi", bm: "Kɔlɔsili"}
        languages: [fr, bm]
        questions:
          - {key: cases_seen, type: number}
        """
    )

    assert [str(f) for f in warnings(lint(flow))] == [
        "warning: f.yaml:5: question 'cases_seen' [fr]: no prompt: the screen shows the key,"
        " 'Cases seen'"
    ]


def test_screens_and_sms_point_at_the_line_of_their_own_language():
    findings = lint(block(bm="ɛ" + "y" * 80, closing="ɛ" * 71, alert="ê" * 71))

    assert [(f.at, f.where, f.language) for f in warnings(findings)] == [
        ("f.yaml:9", "question 'met'", "bm"),
        ("f.yaml:17", "alert 1 (before its {fields} are filled)", "fr"),
        ("f.yaml:14", "closing", "bm"),
        ("f.yaml:17", "alert 1 (before its {fields} are filled)", "bm"),
    ]


def test_without_a_closing_the_closing_points_at_the_title():
    title = 'title: {fr: "' + "t" * 161 + '", bm: "' + "k" * 161 + '"}'
    flow = block(title, drop=("closing:", 'fr: "Merci."', 'bm: ""'), closing="")

    assert [f.at for f in warnings(lint(flow)) if f.where == "closing"] == ["f.yaml:1"] * 4


def test_a_flow_built_in_code_has_findings_without_a_place():
    flow = block()
    built = Flow(flow.key, {}, flow.languages, flow.questions)

    assert str(warnings(lint(built))[0]) == (
        "warning: title [fr]: no title: menus, invitations and alerts name the flow with nothing"
    )


def test_a_finding_gives_its_line_for_a_page_to_mark_and_none_without_a_place():
    findings = lint(block(bm="ɛ" + "y" * 80))
    built = Flow("f", {}, ("fr",), block().questions)

    assert [f.line for f in warnings(findings)] == [9]
    assert {f.line for f in lint(built)} == {0}


# --- the console's panel: every text's cost per language ----------------------------------------


def panel(flow: Flow, language: str, transliterate: tuple[str, ...] = ()) -> dict[str, object]:
    """The measures of `language`, by where: (line, sent, encoding, units, segments, fit)."""
    (found,) = [p for p in measure(flow, transliterate) if p.language == language]
    return {
        m.where: (
            m.line,
            m.sent,
            m.cost.encoding,
            m.cost.units,
            m.cost.segments,
            m.screen_fit if m.screen else None,
        )
        for m in found.texts
    }


def test_the_panel_lists_each_screen_and_sms_of_a_language_in_file_order_at_its_line():
    flow = block(alert="ê" * 71)

    assert panel(flow, "fr") == {
        "question 'met'": (8, "Réunion ?\n1 Oui", "GSM-7", 15, 1, "whole"),
        "closing": (13, "Merci.", "GSM-7", 6, 1, "whole"),
        "alert 1": (17, "{facility}: " + "ê" * 71, "UCS-2", 83, 2, None),
    }


def test_the_panel_shows_a_transliterated_language_as_it_is_sent():
    flow = block()

    assert panel(flow, "bm")["question 'met'"] == (
        9,
        "Ɲɔgɔnye kɛra wa?\n1 Oui",
        "UCS-2",
        22,
        1,
        "whole",
    )
    assert panel(flow, "bm", ("bm",))["question 'met'"] == (
        9,
        "Nyògònye kèra wa?\n1 Oui",
        "GSM-7",
        23,
        1,
        "whole",
    )
    (bambara,) = [p for p in measure(flow, ("bm",)) if p.language == "bm"]
    assert bambara.transliterated
    assert bambara.texts[0].written == "Ɲɔgɔnye kɛra wa?\n1 Oui"


def test_the_panel_says_whether_a_screen_shows_whole_is_long_or_is_cut():
    assert panel(block(fr="x" * 150), "fr")["question 'met'"][5] == "whole"  # 156 units
    assert panel(block(fr="x" * 170), "fr")["question 'met'"][5] == "long"  # 176 of 182
    assert panel(block(fr="x" * 180), "fr")["question 'met'"][5] == "cut"  # 186
    assert panel(block(fr="ê" * 75), "fr")["question 'met'"][5] == "cut"  # 81 of 80, UCS-2


def test_the_panel_measures_the_invitation_and_the_reminder_when_the_flow_writes_them():
    flow = bilingual()

    assert panel(flow, "bm", ("bm",))["schedule invite"] == (
        17,
        "{flow} dayèlèla",
        "GSM-7",
        17,
        1,
        None,
    )
    assert "schedule remind" not in panel(flow, "bm")
    assert "schedule invite" not in panel(block(), "fr")


def test_without_a_closing_the_panel_measures_the_title_at_its_line():
    title = 'title: {fr: "Suivi", bm: "Kɔlɔsili"}'
    flow = block(title, drop=("closing:", 'fr: "Merci."', 'bm: ""'), closing="")

    assert panel(flow, "bm")["closing"][:2] == (1, "Kɔlɔsili")
