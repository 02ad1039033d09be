"""Specification for flows.templates: what an admin may write in a message template, and how it is filled.

The same tokenizer validates and renders, so a template that passes `check` is filled exactly as
str.format would fill it, and `render` never raises, whatever it is given.
"""

from __future__ import annotations

from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.loader import FlowError, load_flow
from flows.templates import check, render

FIELDS = {"facility", "name", "phone", "met"}
TYPICAL = "{facility}: pas de réunion QI cette semaine ({name}, {phone})"


def test_a_template_with_known_fields_has_no_problem_and_is_filled():
    assert check(TYPICAL, FIELDS) == []
    filled = render(TYPICAL, {"facility": "CSCom Malibougou", "name": "Fatoumata", "phone": "+223"})
    assert filled == "CSCom Malibougou: pas de réunion QI cette semaine (Fatoumata, +223)"


def test_a_lone_closing_brace_is_a_problem_that_says_where_it_is():
    template = "{facility}: pas de réunion :-} ({name})"

    assert check(template, FIELDS) == ["a lone '}' at character 30: write '}}' for the character"]


def test_a_lone_opening_brace_is_a_problem():
    assert check("{facility} :-{", FIELDS) == [
        "a lone '{' at character 14: write '{{' for the character"
    ]


def test_doubled_braces_are_the_characters_themselves():
    assert check("{facility} :-}} {{ok}}", FIELDS) == []
    assert render("{facility} :-}} {{ok}}", {"facility": "X"}) == "X :-} {ok}"


def test_an_unknown_field_is_a_problem_naming_the_known_ones():
    assert check("{facilty}", {"facility", "name"}) == [
        "unknown field {facilty} (known: {facility}, {name})"
    ]


@pytest.mark.parametrize("template", ["{}", "{0}", "{name!r}", "{name:>10}", "{name.upper}"])
def test_formatting_beyond_a_plain_name_is_a_problem(template):
    (problem,) = check(template, FIELDS)
    assert "is not a field" in problem


def test_a_field_without_a_value_is_left_empty():
    assert render("{facility}/{met}", {"facility": "X"}) == "X/"


def test_a_value_is_inserted_as_it_is_never_read_as_a_template():
    assert render("{name}", {"name": "{facility} }{"}) == "{facility} }{"


def test_render_keeps_what_check_refuses_instead_of_raising():
    assert render("a } b { c {0} {x!r}", {}) == "a } b { c {0} {x!r}"


fields = st.dictionaries(st.sampled_from(sorted(FIELDS)), st.text(max_size=20))
pieces = st.one_of(
    st.text(alphabet=st.characters(exclude_characters="{}"), max_size=10),
    st.sampled_from(["{", "}", "{{", "}}", "{}", "{0}", "{name!r}"]),
    st.sampled_from(sorted(FIELDS | {"nom"})).map(lambda name: f"{{{name}}}"),
)
templates = st.lists(pieces, max_size=12).map("".join)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(template=templates, values=fields)
def test_render_never_raises_and_fills_a_valid_template_as_str_format_would(template, values):
    filled = render(template, values)

    if not check(template, FIELDS):
        assert filled == template.format(**{name: values.get(name, "") for name in FIELDS})


# --- in a flow file ----------------------------------------------------------------------------

FLOW = """\
key: f
languages: [fr, bm]
questions:
  - key: met
    type: choice
    choices:
      - {value: "yes", label: Oui}
      - {value: "no", label: Non}
alerts:
  - when: {met: "no"}
    text:
      fr: "{facility}: pas de réunion :-} ({name})"
      bm: "{facility}: ladon ma kɛ"
"""


def test_a_flow_whose_alert_text_would_not_render_is_refused_at_that_text_s_line():
    with pytest.raises(FlowError) as caught:
        load_flow(FLOW, "f.yaml")

    assert [str(problem) for problem in caught.value.problems] == [
        "f.yaml:12: alert text (fr): a lone '}' at character 30: write '}}' for the character"
    ]


def test_the_same_text_with_the_brace_doubled_loads():
    flow = load_flow(FLOW.replace(":-}", ":-}}"), "f.yaml")

    assert flow.alerts[0].text["fr"] == "{facility}: pas de réunion :-}} ({name})"


def test_lint_reports_the_broken_template_and_exits_1(app, tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(dedent(FLOW), encoding="utf-8")

    result = app.test_cli_runner().invoke(args=["flows", "lint", str(path)])

    assert result.exit_code == 1
    assert f"{path}:12: alert text (fr): a lone '}}' at character 30" in result.output
