"""What an SMS costs, and how to keep Bambara and French text cheap.

A single non-GSM-7 character (one Bambara letter, a curly apostrophe, an emoji) switches the
whole message to UCS-2, which cuts a segment from 160 to 70 characters and often doubles or
triples what a health centre pays. This module prices text exactly and transliterates it back
into GSM-7 where that loses nothing a reader needs.

Pure functions only: no I/O, no framework imports. The GSM 03.38 table comes from the
maintained ``gsm0338`` codec rather than a hand-typed copy.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import gsm0338  # noqa: F401  (importing registers the "gsm03.38" codec)

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# Units per message (septets for GSM-7, UTF-16 code units for UCS-2). A multipart message
# loses 7 septets / 3 code units per segment to the concatenation header (UDH).
GSM_SINGLE = 160
GSM_MULTI = 153
UCS2_SINGLE = 70
UCS2_MULTI = 67

# USSD: 182 GSM-7 septets per screen; 160 is the length every handset and operator is known to
# display without truncation; UCS-2 screens hold 80 code units (160 octets).
USSD_GSM_LIMIT = 182
USSD_SAFE_LIMIT = 160
USSD_UCS2_LIMIT = 80

_ESCAPE = "\x1b"


@dataclass(frozen=True)
class SmsCost:
    """Price of one text as the network sees it, so callers can budget and warn before sending.

    ``units`` are septets for GSM-7 (extension characters ``^{}\\[]~|€`` take two) and UTF-16
    code units for UCS-2 (an emoji takes two). ``segments`` is what the operator bills.
    """

    encoding: str
    units: int
    segments: int


@lru_cache(maxsize=1024)
def _septets(char: str) -> int:
    """Septets one character takes in GSM-7, or 0 if the basic table and its extension lack it.

    The codec encodes the escape character itself as one byte, but a bare ESC is not text: it
    would change the meaning of the next character on the handset, so it counts as non-GSM.
    """
    if char == _ESCAPE:
        return 0
    try:
        return len(char.encode("gsm03.38"))
    except UnicodeEncodeError:
        return 0


def _ucs2_units(char: str) -> int:
    """UTF-16 code units for one code point: 2 for anything beyond the BMP (e.g. emoji)."""
    return 2 if ord(char) > 0xFFFF else 1


def _segments(weights: list[int], single: int, multi: int) -> int:
    """Segments needed when no character is split across two segments.

    Gateways keep an escape pair (GSM-7) or a surrogate pair (UCS-2) in one segment, so a
    segment can carry one unit fewer than ``multi``; packing character by character gives the
    real count, which is ``ceil(units / multi)`` whenever nothing straddles a boundary.
    """
    total = sum(weights)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for weight in weights:
        if used + weight > multi:
            segments += 1
            used = 0
        used += weight
    return segments


def is_gsm7(text: str) -> bool:
    """True when every character fits the GSM-7 table, i.e. the message is billed at 160/153."""
    return all(_septets(char) for char in text)


def sms_cost(text: str) -> SmsCost:
    """Encoding, units and billed segments for ``text`` exactly as given (no transliteration)."""
    septets = [_septets(char) for char in text]
    if all(septets):
        return SmsCost(GSM7, sum(septets), _segments(septets, GSM_SINGLE, GSM_MULTI))
    code_units = [_ucs2_units(char) for char in text]
    return SmsCost(UCS2, sum(code_units), _segments(code_units, UCS2_SINGLE, UCS2_MULTI))


# Single characters with a GSM-7 replacement that a reader of Bambara or French understands.
# Capital È, Ò, À ... are not in GSM-7 (only É and Ç are), so capitals go to the bare letter.
_REPLACEMENTS: dict[str, str] = {
    # Bambara (Latin orthography)
    "ɛ": "è",
    "Ɛ": "E",
    "ɔ": "ò",
    "Ɔ": "O",
    "ɲ": "ny",
    "ŋ": "ng",
    # Typography
    "\u2019": "'",  # right single quotation mark, the typographic apostrophe
    "\u2018": "'",  # left single quotation mark
    "\u00ab": '"',  # «
    "\u00bb": '"',  # »
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u2026": "...",  # …
    "\u00a0": " ",  # no-break space (French puts one before : ; ! ? and inside « »)
    "\u202f": " ",  # narrow no-break space
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    # French letters outside GSM-7
    "â": "a",
    "ê": "e",
    "î": "i",
    "ô": "o",
    "û": "u",
    "ë": "e",
    "ï": "i",
    "ÿ": "y",
    "œ": "oe",
    "ç": "c",  # GSM has only Ç; some gateways render 0x09 as ç, so avoid relying on it
    "À": "A",
    "Â": "A",
    "È": "E",
    "Ê": "E",
    "Ë": "E",
    "Î": "I",
    "Ï": "I",
    "Ô": "O",
    "Ù": "U",
    "Û": "U",
    "Ÿ": "Y",
    "Œ": "OE",
}

# Capital digraph letters: "Ny"/"Ng" in a capitalised word, "NY"/"NG" inside an all-caps one.
_CAPITAL_DIGRAPHS: dict[str, tuple[str, str]] = {
    "Ɲ": ("Ny", "NY"),
    "Ŋ": ("Ng", "NG"),
}


def to_gsm7(text: str) -> str:
    """Transliterate Bambara and typographic French into GSM-7 so a message costs 160/153.

    ɛ→è, ɔ→ò, ɲ→ny, ŋ→ng (capitals Ɛ→E, Ɔ→O since È and Ò are not GSM-7; Ɲ→Ny, Ŋ→Ng, or
    NY/NG when the next letter is a capital too), curly single quotes → ', « » “ ” → ",
    … → ..., en and em dashes → -, no-break and narrow no-break spaces → space, French
    letters outside GSM-7 to the bare letter (â→a, ê→e, œ→oe, ç→c, È→E, ...). é è à ù ì ò
    É Ç are GSM-7 and stay. Text is NFC-normalised first so a decomposed é (e + U+0301)
    stays one GSM-7 character.

    Anything else still outside GSM-7 (emoji, combining tone marks, other scripts) is left
    as it is, so ``sms_cost`` on the result shows the caller what it will really cost.
    """
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    for index, char in enumerate(text):
        if char in _CAPITAL_DIGRAPHS:
            following = text[index + 1 : index + 2]
            capitalised, all_caps = _CAPITAL_DIGRAPHS[char]
            out.append(all_caps if following.isupper() else capitalised)
        else:
            out.append(_REPLACEMENTS.get(char, char))
    return "".join(out)


def ussd_limit(text: str) -> int:
    """Units one USSD screen can hold for ``text``: 182 septets for GSM-7, 80 for UCS-2.

    Compare against ``sms_cost(text).units``; use ``USSD_SAFE_LIMIT`` when the menu must show
    untruncated on every handset.
    """
    return USSD_GSM_LIMIT if is_gsm7(text) else USSD_UCS2_LIMIT


_CONTROLS = {code: None for code in (*range(0x20), *range(0x7F, 0xA0)) if code != 0x0A}
_CONTROLS[0x09] = " "
_CONTROLS[0x0D] = "\n"


def clean_text(value: str) -> str:
    """`value` without NUL and the other control characters; a tab becomes a space, CR LF a newline."""
    if value.isprintable():
        return value
    return value.replace("\r\n", "\n").translate(_CONTROLS)
