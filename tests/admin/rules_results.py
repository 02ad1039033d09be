"""Access rules of the results pages (admin/results_pages.py): every role reads them, within
its scope (a CSCom's page by its `facility_id`, SCOPED in rules.py); none writes."""

from __future__ import annotations

from tests.admin.rules import Rule

RULES = {
    "admin.facility_results": Rule(),
    "admin.alerts": Rule(),
    "admin.messages": Rule(),
    "admin.answers_csv": Rule(),
    "admin.messages_csv": Rule(),
}
