"""The access rules of the console's routes, one module per area (`rules_<area>.py`, each with
a RULES dict), gathered here for tests/admin/test_access_matrix.py.

Split by area so that each page's rules sit beside its tests' other data; gathered by file
name so that a new area's rules need no edit here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.admin.conftest import ADMIN, PASSWORD

EVERYONE = frozenset({"admin", "supervisor", "regional"})
ADMINS = frozenset({"admin"})

SCOPED = {
    "district_id": (
        {"supervisor": "CSREF-KATI", "regional": "CSREF-KLK", "admin": "CSREF-SGU"},
        {"supervisor": "CSREF-KLK", "regional": "CSREF-SGU"},
    ),
    "facility_id": (
        {"supervisor": "CSCOM-MLB", "regional": "CSCOM-KLB", "admin": "CSCOM-SGU"},
        {"supervisor": "CSCOM-KLB", "regional": "CSCOM-SGU"},
    ),
}
"""For a URL naming a district or a facility: one each role may open, and one a viewer may not
(an admin has no outside). Values are facility codes of the `region` fixture."""

UrlValues = dict[str, object] | Callable[[dict[str, int]], dict[str, object]]


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str] = EVERYONE
    public: bool = False
    form: Callable[[], dict[str, object]] = dict
    """A valid POST body (without the CSRF token), for routes that take POST; called after the
    `region` fixture has seeded the database, so it may read ids."""
    get_status: int = 200
    """What a permitted GET answers (a page needing earlier steps may redirect)."""
    get_audit_rows: int = 0
    """Audit rows a GET writes: none, but for a download of health data (who took what)."""
    post_status: int = 302
    audit_rows: int = 1
    """Audit rows a valid POST writes: one for every change; none for a POST that changes
    nothing (its own tests prove that it stores nothing)."""
    url_values: UrlValues = field(default_factory=dict)
    """Values of the URL's arguments other than SCOPED ones: a dict, or a function of the
    `region` fixture's facility ids by code (called once the database is seeded)."""


RULES: dict[str, Rule] = {
    "admin.static": Rule(public=True, url_values={"filename": "admin.css"}),
    "admin.login": Rule(public=True, form=lambda: {"email": ADMIN.email, "password": PASSWORD}),
    "admin.logout": Rule(),
    "admin.index": Rule(),
    "admin.district": Rule(),
    "admin.audit_log": Rule(roles=ADMINS),
}
"""The foundation's routes: sign in and out, the roll-up, a district's grid, the audit log."""


def all_rules() -> dict[str, Rule]:
    """These rules and every `rules_<area>.py` module's RULES (an endpoint named twice fails)."""
    found = dict(RULES)
    for path in sorted(Path(__file__).parent.glob("rules_*.py")):
        module = importlib.import_module(f"tests.admin.{path.stem}")
        twice = found.keys() & module.RULES.keys()
        assert not twice, f"{path.name} repeats rules for {sorted(twice)}"
        found.update(module.RULES)
    return found
