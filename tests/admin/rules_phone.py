"""Access to the phone in the page: admins only (it acts as a worker)."""

from __future__ import annotations

from tests.admin.rules import ADMINS, Rule
from tests.supervision.districts import DTC, worker


def start_form() -> dict[str, object]:
    """A trial as the DTC of Malibougou (the directory's rules deactivate the focal point)."""
    return {"worker_id": worker(DTC).id, "channel": "ussd"}


RULES: dict[str, Rule] = {
    "admin.phone": Rule(roles=ADMINS),
    "admin.phone_start": Rule(roles=ADMINS, form=start_form),
    # Without a trial started, it sends the admin to pick a worker (tests/admin/test_phone_page.py
    # plays one).
    "admin.phone_try": Rule(roles=ADMINS, get_status=302, audit_rows=0),
}
