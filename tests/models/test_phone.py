"""models.phone: any way a Malian number is written becomes E.164; anything else is refused."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.phone import InvalidPhone, normalise_phone


@pytest.mark.parametrize(
    "written",
    [
        "+22376123456",
        "76 12 34 56",
        "76123456",
        "0022376123456",
        "+223 76-12-34-56",
        "+223 76.12.34.56",
        "(+223) 76 12 34 56",
        "76\u00a012\u00a034\u00a056",
        " +22376123456 ",
    ],
)
def test_the_ways_people_and_spreadsheets_write_a_number_give_one_e164(written):
    assert normalise_phone(written) == "+22376123456"


def test_a_number_of_another_country_keeps_its_country_code():
    assert normalise_phone("+33 6 12 34 56 78") == "+33612345678"


@pytest.mark.parametrize(
    "written",
    [
        "",
        "12 34",
        "+2237612345",  # one digit short
        "+223761234560000000000",  # 21 characters: longer than E.164 allows
        "+2237612345600000",
        "9" * 40,
        "+22376123456 ext 5",
        "+22376123456;ext=5",
        "a+22376123456",
        "+22376123456a",
        "+223 76123456\x00",
        "ORANGE",
        "+\u0662\u0662\u0663\u0667\u0666\u0661\u0662\u0663\u0664\u0665\u0666",  # Arabic-Indic
        "\uff0b\uff12\uff12\uff13\uff17\uff16\uff11\uff12\uff13\uff14\uff15\uff16",  # fullwidth
        "+223²6123456",
        "++22376123456",
        "+-",
    ],
)
def test_what_is_not_a_valid_number_of_at_most_15_digits_is_refused(written):
    with pytest.raises(InvalidPhone):
        normalise_phone(written)


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.text(alphabet="+0123456789 -", max_size=30),
        st.from_regex(r"\+?(00)?223[0-9]{6,14}", fullmatch=True),
    )
)
def test_a_number_either_is_refused_or_is_e164_of_at_most_15_digits(written):
    try:
        number = normalise_phone(written)
    except InvalidPhone:
        return
    assert re.fullmatch(r"\+[1-9][0-9]{1,14}", number)
    assert len(number) <= 16
