"""The one set of rules for a step of a known USSD session (services/ussd_steps.judge).

The whole webhook suite (tests/webhooks/test_ussd.py) runs through both ways that apply them.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.step_store import StoredStep
from services.ussd_steps import MAX_TEXT, Verdict, judge

OWNER = "+22370000011"
STORED = StoredStep(
    session_id=1,
    worker_id=7,
    checkin_id=3,
    status="active",
    state={"stage": "flow"},
    last_input="1*6",
    last_reply="Idée de changement ?",
    phone=OWNER,
    worker_active=True,
    language="fr",
)


def test_a_session_without_a_row_is_new():
    assert judge(None, OWNER, "1") == Verdict("new")


def test_what_was_typed_since_the_last_step_is_the_entry():
    assert judge(STORED, OWNER, "1*6*2") == Verdict("entry", "2")
    assert judge(STORED, OWNER, "1*6*a*b") == Verdict("entry", "a*b")  # a star inside an answer


def test_the_same_text_again_is_a_repeat():
    assert judge(STORED, OWNER, "1*6") == Verdict("repeat")
    assert judge(replace(STORED, status="submitted"), OWNER, "1*6") == Verdict("repeat")


@pytest.mark.parametrize("text", ["1*6", "1*6*2"])
def test_another_numbers_request_never_reaches_the_session(text):
    assert judge(STORED, "+22370000012", text) == Verdict("foreign")


def test_a_deactivated_owner_is_not_served():
    assert judge(replace(STORED, worker_active=False), OWNER, "1*6*2") == Verdict("unknown")


@pytest.mark.parametrize(
    "stored, text",
    [
        (replace(STORED, status="submitted"), "1*6*1"),  # over already
        (STORED, "2*6*2"),  # does not extend what was handled
        (STORED, "1*62"),
    ],
)
def test_a_session_that_cannot_go_on_is_over(stored, text):
    assert judge(stored, OWNER, text) == Verdict("over")


def test_a_text_beyond_any_real_session_is_refused():
    assert judge(STORED, OWNER, "1*6*" + "9" * MAX_TEXT) == Verdict("too_long")
