"""The Bambara texts that tell people which keyword to send name one the service understands."""

import pytest

from flows.keywords import keyword_table, match
from flows.messages import say
from flows.smstext import to_gsm7


@pytest.mark.parametrize(
    ("key", "keyword", "action"),
    [
        ("sms.hint", "DƐMƐ", "help"),
        ("sms.stopped", "DAMINƐ", "optin"),
        ("supervisor.unknown_code", "DƐMƐ", "help"),
    ],
)
def test_a_keyword_a_bambara_text_asks_for_works_as_the_phone_shows_it(key, keyword, action):
    sent = to_gsm7(say(key, "bm", code="CSCOM-X"))
    shown = to_gsm7(keyword)  # DƐMƐ reaches a basic phone as DEME

    assert shown in sent.replace(".", " ").split()
    assert match(shown, keyword_table()) == action
    assert match(keyword.lower(), keyword_table()) == action
