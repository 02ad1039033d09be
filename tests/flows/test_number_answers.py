"""Number answers: ASCII digits within the question's bounds; anything else asks for a number again.

Whatever is typed, the engine answers with a screen, never an exception, and a number it keeps
always fits answers.value_number (BIGINT).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.engine import Invalid, advance, start
from flows.loader import load_flow

FLOW = load_flow(
    """\
key: numbers
languages: [fr]
questions:
  - key: count
    type: number
  - key: served
    type: number
    min: 0
    max: count
  - key: change
    type: number
    min: -50
    max: 50
""",
    "numbers.yaml",
)
BIGINT = range(-(2**63), 2**63)


def typed(*entries: str):
    outcome = start(FLOW)
    for entry in entries:
        outcome = advance(FLOW, outcome.state, entry)
    return outcome


@pytest.mark.parametrize(
    "entry",
    [
        "\u0663",  # Arabic-Indic three
        "\u0661\u0662",  # Arabic-Indic twelve
        "\u00b2",  # superscript two
        "\uff11\uff12",  # fullwidth twelve
        "\u0967",  # Devanagari one
        "1\u00b2",
        "12\u00a0000",  # a no-break space is not a thousands separator here
        "1e3",
        "0x10",
        "1_000",
        "+5",
        "--5",
        "5-",
        "1234567890",
        "9" * 400,
    ],
)
def test_what_is_not_ascii_digits_is_asked_again_as_a_number(entry):
    outcome = typed(entry)

    assert outcome.state.step == "count"
    assert outcome.screen.error == Invalid("number")
    assert outcome.state.answers == {}


def test_a_minus_is_not_a_number_where_no_minimum_allows_one():
    assert typed("-3").screen.error == Invalid("number")


def test_a_minus_below_a_minimum_of_zero_is_refused_with_the_minimum():
    assert typed("10", "-3").screen.error == Invalid("too_small", 0)


def test_a_negative_answer_is_kept_where_the_minimum_is_below_zero():
    outcome = typed("10", "4", "-12")

    assert outcome.state.answers == {"count": 10, "served": 4, "change": -12}
    assert typed("10", "4", "-51").screen.error == Invalid("too_small", -50)


def test_the_largest_number_kept_has_nine_digits():
    assert typed("999 999 999").state.answers == {"count": 999_999_999}


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=12),
            st.from_regex(r"-?[0-9 ]{1,25}", fullmatch=True),
            st.integers().map(str),
        ),
        max_size=4,
    )
)
def test_any_input_gives_a_screen_and_every_number_kept_fits_its_column(entries):
    outcome = typed(*entries)

    assert outcome.screen.kind in ("question", "confirm")
    for value in outcome.state.answers.values():
        assert isinstance(value, int) and value in BIGINT
