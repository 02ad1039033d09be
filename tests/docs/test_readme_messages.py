"""The README's SMS section explains every status an outgoing SMS can have, and the columns of
`export messages` as the export writes them: someone reading the export needs both."""

from __future__ import annotations

import re
from pathlib import Path

from models.messages import OUTBOX_STATUSES
from services.exports import MESSAGE_COLUMNS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def sms_section() -> str:
    return README.split("\n## SMS\n", 1)[1].split("\n## ", 1)[0]


def test_every_outbox_status_has_a_row_saying_what_it_means_for_the_person():
    legend = dict(re.findall(r"^\| `([a-z_]+)` \| (.+) \|$", sms_section(), re.MULTILINE))

    assert [status for status in OUTBOX_STATUSES if status in legend] == list(OUTBOX_STATUSES)
    assert "delivered to the phone" in legend["success"]


def test_the_readme_names_the_last_column_of_export_messages():
    last = MESSAGE_COLUMNS[-1]

    assert f"`export messages` with `possible_duplicate`, then `{last}`." in README
