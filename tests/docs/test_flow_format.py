"""docs/flow-format.md documents the flow format as the loader accepts it.

The loader's accepted fields are read from the loader itself: each level of the complete
example gets an unknown field, and the loader's refusal lists what it expects there. So a field
added to the loader and not to the page, or a field the page shows and the loader refuses, fails
here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from flows.definition import SCHEDULE_FIELDS
from flows.loader import KEY_PATTERN, PLACEHOLDERS, FlowError, load_flow

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "flow-format.md").read_text(encoding="utf-8")
UNKNOWN = "zz_not_a_field"

Data = dict
Place = Callable[[Data], Data]
"""Where in a flow's data one level's fields live (the mapping an unknown field goes into)."""

# Each level: where the page documents it, where the loader reads it in the example.
LEVELS: dict[str, tuple[str, Place]] = {
    "the flow": ("## The flow", lambda flow: flow),
    "a question": ("## Questions", lambda flow: flow["questions"][0]),
    "a choice": ("### Choices", lambda flow: flow["questions"][0]["choices"][0]),
    "an alert": ("## Alerts", lambda flow: flow["alerts"][0]),
    "schedule": ("## Schedule", lambda flow: flow["schedule"]),
    "an indicator": ("## Indicators", lambda flow: flow["indicators"][0]),
    "a condition": ("### Conditions", lambda flow: flow["questions"][1]["ask_if"]["met"]),
}


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOC, re.DOTALL)


def complete_example() -> Data:
    """The first YAML block, under 'A complete example'."""
    return yaml.safe_load(yaml_blocks()[0])


def accepted_fields(level: str) -> set[str]:
    """What the loader accepts at `level`, as its refusal of an unknown field lists it."""
    flow = complete_example()
    place = LEVELS[level][1]
    if level == "a condition":  # `met: "yes"` becomes `met: {<unknown>: "yes"}`
        flow["questions"][1]["ask_if"]["met"] = {}
    place(flow)[UNKNOWN] = "x"
    with pytest.raises(FlowError) as refused:
        load_flow(yaml.safe_dump(flow, allow_unicode=True, sort_keys=False))
    unknown = [p.message for p in refused.value.problems if f"'{UNKNOWN}'" in p.message]
    assert len(unknown) == 1, refused.value
    return set(re.search(r"expected one of: (.*)\)$", unknown[0]).group(1).split(", "))


def section(heading: str) -> str:
    """The page's text from `heading` to the next heading."""
    start = DOC.index(f"\n{heading}\n") + len(heading) + 2
    following = re.search(r"^#", DOC[start:], re.MULTILINE)
    return DOC[start : start + following.start()] if following else DOC[start:]


def table_names(text: str) -> set[str]:
    """The `names` in the first cell of each table row (a header row has none)."""
    cells = (line.split("|")[1] for line in text.splitlines() if line.startswith("| `"))
    return {name for cell in cells for name in re.findall(r"`([^`]+)`", cell)}


def keys_used(value: object, level_of: Callable[[Data], bool]) -> Iterator[str]:
    """Every key of every mapping in `value` that `level_of` says belongs to the level."""
    if isinstance(value, dict):
        if level_of(value):
            yield from value
        for item in value.values():
            yield from keys_used(item, level_of)
    elif isinstance(value, list):
        for item in value:
            yield from keys_used(item, level_of)


def used_in_example(level: str) -> set[str]:
    example = complete_example()
    if level == "the flow":
        return set(example)
    if level == "a condition":
        conditions = [
            c
            for holder in [*example["questions"], *example["alerts"]]
            for c in (holder.get("ask_if") or holder.get("when") or {}).values()
            if isinstance(c, dict)
        ]
        return {op for condition in conditions for op in condition}
    lists = {
        "a question": example["questions"],
        "a choice": [c for q in example["questions"] for c in q.get("choices", [])],
        "an alert": example["alerts"],
        "schedule": [example["schedule"]],
        "an indicator": example["indicators"],
    }
    return {key for item in lists[level] for key in item}


@pytest.mark.parametrize("level", LEVELS)
def test_every_field_the_loader_accepts_is_documented_and_no_other(level):
    names = table_names(section(LEVELS[level][0]))
    documented = {n for n in names if KEY_PATTERN.fullmatch(n)}  # not `{facility}`, `key: value`
    assert documented == accepted_fields(level)


@pytest.mark.parametrize("level", LEVELS)
def test_the_complete_example_uses_every_field(level):
    assert used_in_example(level) == accepted_fields(level)


def test_the_complete_example_also_uses_the_plain_equality_condition():
    example = complete_example()
    plain = [v for q in example["questions"] for v in q.get("ask_if", {}).values()]
    assert any(isinstance(value, str) for value in plain)


def test_every_yaml_block_of_the_page_is_a_flow_that_loads():
    blocks = yaml_blocks()
    assert blocks
    for block in blocks:
        load_flow(block, "docs/flow-format.md")


def test_every_field_an_alert_or_schedule_text_may_name_is_documented():
    alert_fields = {name.strip("{}") for name in table_names(section("## Alerts"))}
    assert PLACEHOLDERS | {"<question key>"} <= alert_fields
    schedule_fields = {name.strip("{}") for name in table_names(section("## Schedule"))}
    assert set(SCHEDULE_FIELDS) <= schedule_fields


def test_a_text_naming_a_field_it_cannot_fill_is_refused_as_the_page_says():
    example = complete_example()
    example["schedule"]["invite"] = "{phone}"  # an alert's field, not an invitation's
    with pytest.raises(FlowError, match="unknown field"):
        load_flow(yaml.safe_dump(example, allow_unicode=True))


def test_the_readme_points_at_this_page_and_not_outside_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/flow-format.md" in readme
    assert "../shared/" not in readme  # a clone has no ../shared
