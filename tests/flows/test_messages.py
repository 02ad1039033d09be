"""The service's own texts: French first, Bambara where given, one cheap SMS each."""

from __future__ import annotations

import string

import pytest

from flows.messages import MESSAGES, say
from flows.smstext import GSM7, USSD_SAFE_LIMIT, sms_cost, to_gsm7

REALISTIC = {
    "limit": 9999,
    "title": "Suivi QI de la semaine",
    "name": "Fatoumata Diarra",
    "n": 12,
    "prompt": "Parmi eux, combien ont bénéficié de...",
    "reason": "Choix invalide: tapez 1 à 6.",
    "flow": "Suivi QI de la semaine",
    "period": "S49",
    "code": "*384*123#",
    "total": 12,
    "answers": "Oui, 6, En test, 45, 40, Aucun, Non, RAS",
    "since": "10:02",
    "text": "Pensez à la fiche de suivi des CPN cette semaine.",
    "names": "Fatoumata Diarra, Moussa Coulibaly",
    "time": "07:00",
}
CASES = [(key, lang) for key, texts in MESSAGES.items() for lang in texts]


def filled(key: str, language: str) -> str:
    text = say(key, language, **REALISTIC)
    return to_gsm7(text) if language == "bm" else text


@pytest.mark.parametrize(("key", "language"), CASES)
def test_every_builtin_text_is_one_gsm7_segment(key, language):
    cost = sms_cost(filled(key, language))
    assert (cost.encoding, cost.segments) == (GSM7, 1), filled(key, language)


@pytest.mark.parametrize(("key", "language"), CASES)
def test_every_builtin_text_fits_a_ussd_screen(key, language):
    assert len(filled(key, language)) <= USSD_SAFE_LIMIT


def test_every_message_exists_in_french_the_default():
    assert [key for key, texts in MESSAGES.items() if "fr" not in texts] == []


@pytest.mark.parametrize("key", list(MESSAGES))
def test_french_and_bambara_take_the_same_placeholders(key):
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    texts = MESSAGES[key]
    assert fields(texts.get("bm", texts["fr"])) == fields(texts["fr"])


def test_a_language_without_a_text_falls_back_to_french():
    assert say("nothing_open", "xx") == say("nothing_open", "fr")
