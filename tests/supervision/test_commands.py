"""A supervisor's SMS read as a command: the keywords, their arguments, and what is not one."""

from __future__ import annotations

import pytest

from flows.keywords import keyword_table
from supervision.commands import (
    Coach,
    Detail,
    Help,
    Missing,
    Usage,
    coaching_reply,
    parse,
    same_code,
)

TABLE = keyword_table()


@pytest.mark.parametrize(
    "text", ["MANQUANTS", "manquants", "Manquants.", "missing", "M A N Q U A N T"]
)
def test_missing_is_the_whole_message_in_either_language(text):
    assert parse(text, TABLE) == Missing()


def test_missing_followed_by_more_words_is_not_the_keyword():
    assert parse("manquants de vaccins cette semaine", TABLE) is None


@pytest.mark.parametrize("text", ["AIDE", "help", "Aide !", "?", "dɛmɛ"])
def test_help_uses_the_apps_help_keywords(text):
    assert parse(text, TABLE) == Help()


def test_a_configured_help_synonym_works_for_supervisors_too():
    assert parse("INFO", keyword_table({"help": ("INFO",)})) == Help()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("DETAIL CSCOM-MLB", "CSCOM-MLB"),
        ("détail cscom-mlb", "cscom-mlb"),
        ("Details  CSCOM MLB", "CSCOM MLB"),
    ],
)
def test_detail_leads_its_code(text, code):
    assert parse(text, TABLE) == Detail(code)


@pytest.mark.parametrize("text", ["DETAIL", "detail.", "Détail  "])
def test_detail_without_a_code_says_how_to_write_it(text):
    assert parse(text, TABLE) == Usage("DETAIL")


def test_r_sends_the_rest_of_the_message_to_the_code():
    assert parse("R CSCOM-MLB Bravo pour la réunion !", TABLE) == Coach(
        "CSCOM-MLB", "Bravo pour la réunion !"
    )
    assert parse("r cscom-ktd  merci", TABLE) == Coach("cscom-ktd", "merci")


@pytest.mark.parametrize("text", ["R", "r", "R CSCOM-MLB", "R CSCOM-MLB   "])
def test_r_without_a_code_and_a_text_says_how_to_write_it(text):
    assert parse(text, TABLE) == Usage("R")


@pytest.mark.parametrize(
    "text", ["STOP", "QI", "QI 1 6 2", "FR", "bonjour", "RAS", "R A S", "r.a.s", "Rapport envoyé"]
)
def test_anything_else_is_not_a_supervisors_command(text):
    assert parse(text, TABLE) is None


def test_a_coaching_reply_is_the_text_after_r():
    assert coaching_reply("R merci, on s'en occupe") == "merci, on s'en occupe"
    assert coaching_reply("r  OK") == "OK"


@pytest.mark.parametrize("text", ["R", "R  ", "R A S", "RAS", "r.a.s.", "Rien", "merci", ""])
def test_rien_a_signaler_and_a_bare_r_are_not_coaching_replies(text):
    assert coaching_reply(text) is None


def test_codes_compare_as_keywords_do():
    assert same_code("cscom mlb", "CSCOM-MLB")
    assert same_code("Cscom-Mlb.", "CSCOM-MLB")
    assert not same_code("CSCOM-ML", "CSCOM-MLB")
    assert not same_code("", "")
