"""Access rules of the results pages (admin/results_pages.py): every role reads them, within
its scope (a CSCom's page by its `facility_id`, SCOPED in rules.py); none changes data, but a
download is audited (who took which health data home)."""

from __future__ import annotations

from tests.admin.rules import Rule

RULES = {
    "admin.facility_results": Rule(),
    "admin.alerts": Rule(),
    "admin.messages": Rule(),
    "admin.answers_csv": Rule(get_audit_rows=1),
    "admin.messages_csv": Rule(get_audit_rows=1),
}
