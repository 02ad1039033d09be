"""Phone numbers in one form (E.164), whatever way a person or a spreadsheet wrote them.

Anything else is refused, not repaired: a sender written with letters, an extension, digits
of another script or more than E.164's 15 digits is not a number we could answer (the outbox's
phone column is E.164-sized), so the caller stores it as given and never replies to it.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "ML"
MAX_DIGITS = 15
"""E.164: a country code and subscriber number of at most 15 digits in all."""
_WRITTEN = re.compile(r"\(?\+?[0-9 \-./()\u00a0\u202f]+")
"""ASCII digits and the separators people type or spreadsheets keep (no-break spaces included)."""
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


class InvalidPhone(ValueError):
    pass


@lru_cache(maxsize=8192)
def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """'76 12 34 56', '0022376123456' and '+223 76-12-34-56' all become '+22376123456'.

    Cached: parsing costs more than the rest of a USSD step, and every step repeats the number.
    """
    text = (raw or "").strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    digits = sum(c.isdigit() for c in text)
    if not _WRITTEN.fullmatch(text) or not 0 < digits <= MAX_DIGITS:
        raise InvalidPhone(f"'{raw}' is not a valid phone number")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"'{raw}' is not a phone number") from exc
    if not phonenumbers.is_valid_number(number) or number.extension:
        raise InvalidPhone(f"'{raw}' is not a valid phone number")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not _E164.fullmatch(e164):
        raise InvalidPhone(f"'{raw}' is not a valid phone number")
    return e164
