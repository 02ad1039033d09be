"""Specification for flows.keywords: an SMS is a keyword only when the keyword is the whole message."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.keywords import keyword_table, leading, match

TABLE = keyword_table()


@pytest.mark.parametrize(
    "text", ["STOP", "stop", "Stop.", "STOP!", "S T O P", " stop \n", "arrêt", "ARRET", "Arrêter"]
)
def test_stop_opts_out_whatever_its_case_accents_punctuation_and_spaces(text):
    assert match(text, TABLE) == "stop"


@pytest.mark.parametrize(
    "text",
    [
        "Arrêt des CPN faute de vaccins",
        "stop les ruptures",
        "STOP STOP",
        "non stop",
        "arrêt 2",
        "stopper",
    ],
)
def test_a_keyword_inside_a_longer_message_is_no_keyword(text):
    assert match(text, TABLE) is None
    assert leading(text, TABLE) is None


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("QI", "start"),
        ("qi.", "start"),
        ("START", "optin"),
        ("Début", "optin"),
        ("DAMINƐ", "optin"),
        ("aide", "help"),
        ("?", "help"),
        (" ? ", "help"),
        ("Help!", "help"),
        ("déme", "help"),
        ("fr", "fr"),
        ("Français", "fr"),
        ("BM", "bm"),
        ("Bamanankan", "bm"),
    ],
)
def test_each_default_keyword_names_its_action(text, action):
    assert match(text, TABLE) == action


@pytest.mark.parametrize("text", ["", " ", "1", "00", "-", ".", "??", "OK", "Oui", "45"])
def test_answers_and_empty_messages_are_no_keywords(text):
    assert match(text, TABLE) is None


def test_configured_synonyms_are_added_to_the_defaults():
    table = keyword_table({"start": ("SUIVI", "check"), "help": ("Info",)})

    assert match("suivi", table) == "start"
    assert match("CHECK!", table) == "start"
    assert match("info", table) == "help"
    assert match("QI", table) == "start"
    assert leading("Suivi 1 2", table) == ("start", ["1", "2"])


def test_the_start_keyword_may_lead_the_compact_answers():
    assert leading("QI 1 6 2 45 40 1 2 RAS", TABLE) == (
        "start",
        ["1", "6", "2", "45", "40", "1", "2", "RAS"],
    )
    assert leading("qi, 1 2", TABLE) == ("start", ["1", "2"])
    assert leading("QI", TABLE) == ("start", [])


@pytest.mark.parametrize("text", ["AIDE moi", "FR 1 2", "STOP 1", "DEBUT 1", "", "1 QI"])
def test_no_other_keyword_leads_a_longer_message(text):
    assert leading(text, TABLE) is None


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=60))
def test_matching_any_text_never_raises_and_names_a_known_action(text):
    action = match(text, TABLE)
    led = leading(text, TABLE)

    assert action is None or action in {"start", "stop", "optin", "help", "fr", "bm"}
    assert led is None or led[0] == "start"
