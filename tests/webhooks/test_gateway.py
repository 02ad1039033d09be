"""webhooks.gateway: form fields are cleaned before anything stores them; numbers fit their column."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask import Flask
from werkzeug.exceptions import BadRequest

from flows.smstext import clean_text
from webhooks.gateway import INT4_MAX, form_field, int_field

FORM = "application/x-www-form-urlencoded"
web = Flask(__name__)


def request_with(body: str, content_type: str = FORM):
    return web.test_request_context("/", method="POST", data=body, content_type=content_type)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("RAS", "RAS"),
        ("R\x00AS", "RAS"),
        ("a\x01b\x1bc\x7fd\x85e\x9f", "abcde"),
        ("deux\nlignes", "deux\nlignes"),
        ("deux\r\nlignes\rici", "deux\nlignes\nici"),
        ("col\tonne", "col onne"),
        ("é ɛ ɔ ٣ 😀 \u200b", "é ɛ ɔ ٣ 😀 \u200b"),
    ],
)
def test_text_keeps_everything_but_nul_and_control_characters(raw, clean):
    assert clean_text(raw) == clean


def test_a_field_is_cleaned_before_the_webhook_sees_it():
    with request_with("text=1*2%00*4%075&from=%2B223%0070000011"):
        assert form_field("text", 100) == "1*2*45"
        assert form_field("from", 32) == "+22370000011"


def test_a_multipart_form_is_cleaned_too():
    with web.test_request_context("/", method="POST", data={"text": "a\x00b"}):
        assert form_field("text", 100) == "ab"


def test_a_missing_required_field_or_a_too_long_one_is_a_400():
    with request_with("text=abc"), pytest.raises(BadRequest):
        form_field("sessionId", 100)
    with request_with("text=abcd"), pytest.raises(BadRequest):
        form_field("text", 3)


def test_a_form_that_is_not_utf8_is_a_400():
    with request_with("text=%FF%FE"), pytest.raises(BadRequest):
        form_field("text", 100)


def test_an_encoded_surrogate_is_not_utf8():
    with request_with("text=%ED%A0%80"), pytest.raises(BadRequest):
        form_field("text", 100)


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("0", 0),
        ("15230", 15230),
        (str(INT4_MAX), INT4_MAX),
        (str(INT4_MAX + 1), None),
        ("9" * 40, None),
        ("²", None),
        ("٣", None),
        ("\uff11\uff12", None),  # fullwidth 12
        ("-5", None),
        ("+5", None),
        (" 5", None),
        ("1.5", None),
        ("", None),
    ],
)
def test_a_number_field_is_ascii_digits_within_the_column_s_range(value, number):
    with request_with(f"durationInMillis={quote(value)}"):
        assert int_field("durationInMillis") == number


def test_an_absent_number_field_is_none_and_a_smaller_column_has_its_own_limit():
    with request_with("durationInMillis=300"):
        assert int_field("retryCount") is None
        assert int_field("durationInMillis", max_value=255) is None
        assert int_field("durationInMillis", max_value=300) == 300
