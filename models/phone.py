"""Phone numbers in one form (E.164), whatever way a person or a spreadsheet wrote them."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "ML"


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
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"'{raw}' is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"'{raw}' is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
