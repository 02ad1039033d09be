"""The console's menu: each area's page, shown to the roles that may open it.

Listed here once, rather than in the base template, so a page's place in the menu and who sees
it are read together; an entry whose page is not registered is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from admin import bp


@dataclass(frozen=True)
class Entry:
    endpoint: str
    label: str
    admins_only: bool = False
    covers: frozenset[str] = frozenset()
    """The area's other pages: the entry is marked current on them too."""


MENU = (
    Entry("admin.index", _l("Achèvement"), covers=frozenset({"district", "facility_results"})),
    Entry("admin.alerts", _l("Alertes")),
    Entry("admin.messages", _l("Messages")),
    Entry(
        "admin.facilities",
        _l("Structures"),
        covers=frozenset({"facility", "facility_new", "imports", "import_status"}),
    ),
    Entry("admin.workers", _l("Personnel"), covers=frozenset({"worker", "worker_new"})),
    Entry(
        "admin.flows",
        _l("Questionnaires"),
        admins_only=True,
        covers=frozenset({"flow", "flow_versions"}),
    ),
    Entry(
        "admin.phone", _l("Téléphone d'essai"), admins_only=True, covers=frozenset({"phone_try"})
    ),
    Entry("admin.audit_log", _l("Journal"), admins_only=True),
)


@bp.context_processor
def menu() -> dict[str, object]:
    """`menu`: (entry, is the current page) for the signed-in person; empty for a visitor."""
    if not current_user.is_authenticated:
        return {"menu": []}
    shown = [
        entry
        for entry in MENU
        if entry.endpoint in current_app.view_functions
        and (current_user.role == "admin" or not entry.admins_only)
    ]
    page = request.endpoint or ""
    here = page.partition(".")[2]
    return {"menu": [(entry, page == entry.endpoint or here in entry.covers) for entry in shown]}
