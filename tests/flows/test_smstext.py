"""Specification for flows.smstext: what an SMS costs and how text is kept in GSM-7."""

import dataclasses

import pytest

from flows.smstext import (
    GSM7,
    UCS2,
    USSD_GSM_LIMIT,
    USSD_SAFE_LIMIT,
    USSD_UCS2_LIMIT,
    SmsCost,
    is_gsm7,
    sms_cost,
    to_gsm7,
    ussd_limit,
)

# Every character of the GSM 03.38 basic table (0x00-0x7F without ESC), as the codec decodes it.
GSM_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION_CHARS = "^{}\\[]~|€"
BAMBARA_LETTERS = "ɛƐɔƆɲƝŋŊ"


# --- sms_cost: empty and GSM-7 boundaries ---------------------------------------------------


def test_empty_text_costs_no_segment_and_counts_as_gsm7():
    assert sms_cost("") == SmsCost(GSM7, 0, 0)


def test_160_gsm_chars_fit_in_one_segment():
    assert sms_cost("a" * 160) == SmsCost(GSM7, 160, 1)


def test_161_gsm_chars_need_two_segments():
    assert sms_cost("a" * 161) == SmsCost(GSM7, 161, 2)


def test_306_gsm_chars_fill_exactly_two_segments_of_153():
    assert sms_cost("a" * 306) == SmsCost(GSM7, 306, 2)


def test_307_gsm_chars_need_a_third_segment():
    assert sms_cost("a" * 307) == SmsCost(GSM7, 307, 3)


@pytest.mark.parametrize("char", list(GSM_EXTENSION_CHARS))
def test_each_extension_char_costs_two_septets_but_stays_gsm7(char):
    assert sms_cost(char) == SmsCost(GSM7, 2, 1)


def test_80_euro_signs_fill_one_segment_as_160_septets():
    assert sms_cost("€" * 80) == SmsCost(GSM7, 160, 1)


def test_81_euro_signs_overflow_into_two_segments():
    assert sms_cost("€" * 81) == SmsCost(GSM7, 162, 2)


def test_newline_and_carriage_return_cost_one_septet_each():
    assert sms_cost("a\nb\r") == SmsCost(GSM7, 4, 1)


def test_an_extension_char_is_never_split_across_segments():
    # 306 septets would be 2 segments, but the € cannot start at septet 153 of segment one.
    text = "a" * 152 + "€" + "a" * 152
    assert sms_cost(text) == SmsCost(GSM7, 306, 3)


def test_whole_gsm_basic_table_is_gsm7_at_one_septet_per_char():
    assert sms_cost(GSM_BASIC_TABLE) == SmsCost(GSM7, len(GSM_BASIC_TABLE), 1)


def test_a_bare_escape_character_is_not_gsm7_text():
    assert not is_gsm7("\x1b")
    assert sms_cost("a\x1b").encoding == UCS2


# --- sms_cost: UCS-2 boundaries -------------------------------------------------------------


def test_70_ucs2_chars_fit_in_one_segment():
    assert sms_cost("ɛ" * 70) == SmsCost(UCS2, 70, 1)


def test_71_ucs2_chars_need_two_segments():
    assert sms_cost("ɛ" * 71) == SmsCost(UCS2, 71, 2)


def test_134_ucs2_chars_fill_exactly_two_segments_of_67():
    assert sms_cost("ɛ" * 134) == SmsCost(UCS2, 134, 2)


def test_135_ucs2_chars_need_a_third_segment():
    assert sms_cost("ɛ" * 135) == SmsCost(UCS2, 135, 3)


def test_an_emoji_costs_two_ucs2_units():
    assert sms_cost("ok 🙏") == SmsCost(UCS2, 5, 1)


def test_35_emoji_fill_one_ucs2_segment_and_36_need_two():
    assert sms_cost("🙏" * 35) == SmsCost(UCS2, 70, 1)
    assert sms_cost("🙏" * 36) == SmsCost(UCS2, 72, 2)


def test_an_emoji_is_never_split_across_segments():
    # 134 units would be 2 segments, but the surrogate pair cannot straddle unit 67.
    text = "a" * 66 + "🙏" + "a" * 66
    assert sms_cost(text) == SmsCost(UCS2, 134, 3)


def test_cost_is_immutable():
    cost = sms_cost("a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cost.units = 0  # type: ignore[misc]


# --- which characters are GSM-7 -------------------------------------------------------------


@pytest.mark.parametrize("char", list("éèàùìòÉÇ"))
def test_french_accents_in_the_gsm_table_keep_the_message_gsm7(char):
    assert is_gsm7(f"Rendez-vous {char}")
    assert sms_cost(f"Rendez-vous {char}") == SmsCost(GSM7, 13, 1)


def test_e_circumflex_makes_the_message_ucs2():
    assert not is_gsm7("fête")
    assert sms_cost("fête") == SmsCost(UCS2, 4, 1)


def test_small_c_cedilla_is_not_gsm7_only_the_capital_is():
    assert not is_gsm7("ç")
    assert is_gsm7("Ç")


@pytest.mark.parametrize("letter", list(BAMBARA_LETTERS))
def test_each_bambara_letter_makes_the_message_ucs2(letter):
    assert not is_gsm7(letter)
    assert sms_cost(letter).encoding == UCS2


def test_one_bambara_letter_makes_the_whole_message_ucs2():
    text = "a" * 100 + "ɛ"
    assert sms_cost("a" * 100) == SmsCost(GSM7, 100, 1)
    assert sms_cost(text) == SmsCost(UCS2, 101, 2)


def test_empty_text_is_gsm7():
    assert is_gsm7("")


# --- to_gsm7 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Bambara
        ("ɛ", "è"),
        ("Ɛ", "E"),  # the brief's È is not GSM-7; the capital rule takes it to E
        ("ɔ", "ò"),
        ("Ɔ", "O"),  # likewise Ò is not GSM-7
        ("ɲ", "ny"),
        ("Ɲ", "Ny"),
        ("ŋ", "ng"),
        ("Ŋ", "Ng"),
        # Typography
        ("\u2019", "'"),
        ("\u2018", "'"),
        ("«", '"'),
        ("»", '"'),
        ("\u201c", '"'),
        ("\u201d", '"'),
        ("…", "..."),
        ("\u00a0", " "),
        ("\u202f", " "),
        ("\u2013", "-"),
        ("\u2014", "-"),
        # French lower case outside GSM-7
        ("â", "a"),
        ("ê", "e"),
        ("î", "i"),
        ("ô", "o"),
        ("û", "u"),
        ("ë", "e"),
        ("ï", "i"),
        ("ÿ", "y"),
        ("œ", "oe"),
        ("ç", "c"),
        # French capitals outside GSM-7
        ("È", "E"),
        ("À", "A"),
        ("Â", "A"),
        ("Ê", "E"),
        ("Ë", "E"),
        ("Î", "I"),
        ("Ï", "I"),
        ("Ô", "O"),
        ("Ù", "U"),
        ("Û", "U"),
        ("Ÿ", "Y"),
        ("Œ", "OE"),
    ],
)
def test_to_gsm7_maps_each_listed_character_to_gsm7(source, expected):
    assert to_gsm7(source) == expected
    assert is_gsm7(to_gsm7(source))


@pytest.mark.parametrize("char", list("éèàùìòÉÇ"))
def test_to_gsm7_keeps_accents_that_are_already_gsm7(char):
    assert to_gsm7(char) == char


def test_to_gsm7_leaves_all_gsm7_text_unchanged():
    text = GSM_BASIC_TABLE + GSM_EXTENSION_CHARS
    assert to_gsm7(text) == text


def test_to_gsm7_makes_a_bambara_greeting_gsm7():
    result = to_gsm7("I ni ce! Ɲɛnamaya ka ɲi. Sɔgɔma ŋaniya")
    assert result == "I ni ce! Nyènamaya ka nyi. Sògòma nganiya"
    assert is_gsm7(result)
    assert sms_cost(result) == SmsCost(GSM7, len(result), 1)


def test_to_gsm7_spells_capital_digraphs_in_capitals_inside_all_caps_words():
    assert to_gsm7("ƝƐNAMAYA") == "NYENAMAYA"
    assert to_gsm7("ŊANIYA") == "NGANIYA"
    assert to_gsm7("Ɲɛnamaya") == "Nyènamaya"


def test_to_gsm7_makes_typographic_french_gsm7():
    source = (
        "L\u2019infirmière vous attend\u00a0: « Venez tôt… » "
        "C\u2019est la fête de l\u2019enfant\u202f! Ça commence à 8\u00a0h."
    )
    result = to_gsm7(source)
    assert result == (
        'L\'infirmière vous attend : " Venez tot... " '
        "C'est la fete de l'enfant ! Ça commence à 8 h."
    )
    assert is_gsm7(result)
    assert sms_cost(source).encoding == UCS2
    assert sms_cost(result) == SmsCost(GSM7, len(result), 1)


def test_to_gsm7_composes_decomposed_accents_so_they_stay_gsm7():
    assert to_gsm7("e\u0301te\u0301") == "été"
    assert to_gsm7("fe\u0302te") == "fete"


def test_to_gsm7_leaves_an_emoji_alone_so_the_cost_stays_visible():
    assert to_gsm7("Merci 🙏") == "Merci 🙏"
    assert sms_cost(to_gsm7("Merci 🙏")).encoding == UCS2


def test_to_gsm7_leaves_unmapped_non_gsm_characters_alone():
    assert to_gsm7("Ɛ\u0300 ب") == "E\u0300 ب"
    assert not is_gsm7(to_gsm7("Ɛ\u0300 ب"))


def test_to_gsm7_of_empty_text_is_empty():
    assert to_gsm7("") == ""


# --- USSD -----------------------------------------------------------------------------------


def test_ussd_limits_are_the_network_values():
    assert (USSD_GSM_LIMIT, USSD_SAFE_LIMIT, USSD_UCS2_LIMIT) == (182, 160, 80)


def test_ussd_limit_is_182_for_gsm7_text():
    assert ussd_limit("1. Rendez-vous\n2. Vaccins €") == 182


def test_ussd_limit_is_80_when_any_character_is_outside_gsm7():
    assert ussd_limit("1. Rendez-vous\n2. Sɔgɔma") == 80
    assert ussd_limit("ok 🙏") == 80


def test_ussd_limit_of_transliterated_bambara_is_back_to_182():
    assert ussd_limit(to_gsm7("1. Ɲɛnamaya")) == 182


def test_ussd_limit_of_empty_text_is_the_gsm7_limit():
    assert ussd_limit("") == 182
