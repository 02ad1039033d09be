"""Message templates such as "{facility}: pas de réunion ({name})": one formatter checks and fills them.

Admins write these texts (alert texts, schedule invitations and reminders), and they are filled
in while a person's submission is being answered, where an exception would answer them with an
error. So validation and rendering share one tokenizer: what `check` accepts, `render` fills the
same way, and `render` never raises, even for a text `check` would refuse (it keeps a lone brace
as it is). The syntax is str.format's simplest subset: `{name}` is a field, `{{` and `}}` are
literal braces; conversions, format specs, indexes and attributes are refused.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
"""An escaped brace, a field (whatever is between the braces), or a lone brace."""
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]*")


def check(template: str, allowed_fields: Collection[str]) -> list[str]:
    """Every reason `template` cannot be filled as written, in order; empty when it can."""
    problems = []
    for match in _TOKEN.finditer(template):
        token, name = match.group(0), match.group(1)
        where = f"at character {match.start() + 1}"
        if token in ("{", "}"):
            problems.append(f"a lone '{token}' {where}: write '{token * 2}' for the character")
        elif name is None:
            continue
        elif not _FIELD_NAME.fullmatch(name):
            problems.append(
                f"'{token}' {where} is not a field: a field is a name in braces, such as "
                "{facility}; write '{{' and '}}' for the characters"
            )
        elif name not in allowed_fields:
            known = ", ".join(f"{{{field}}}" for field in sorted(allowed_fields))
            problems.append(f"unknown field {token} (known: {known})")
    return problems


def render(template: str, fields: Mapping[str, object]) -> str:
    """The template filled in: a field with no value becomes empty; never raises."""
    return _TOKEN.sub(lambda match: _filled(match, fields), template)


def _filled(match: re.Match[str], fields: Mapping[str, object]) -> str:
    token, name = match.group(0), match.group(1)
    if token in ("{{", "}}"):
        return token[0]
    if name is None or not _FIELD_NAME.fullmatch(name):
        return token
    value = fields.get(name)
    return "" if value is None else str(value)
