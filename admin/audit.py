"""The audit log: the one function every change calls, so who changed what, and when, is known.

The row joins the caller's transaction (no commit here): the change and its audit row are
stored together or not at all.
"""

from __future__ import annotations

from flask import has_request_context
from flask_login import current_user

from models import AuditEntry, db

CLI = "cli"
"""The actor of changes made on the command line (create-admin, imports)."""
ANONYMOUS = "anonymous"


def record(action: str, target: str, before: object | None, after: object | None) -> AuditEntry:
    """Add one audit row: `action` (e.g. "account.create") done to `target` (e.g. "account:3").

    `before` and `after` are JSON-able values of the changed thing (None where it did not exist
    or no longer does). The actor is the signed-in account, or the command line outside a
    request.
    """
    in_request = has_request_context()
    signed_in = in_request and current_user.is_authenticated
    actor = current_user.email if signed_in else (ANONYMOUS if in_request else CLI)
    entry = AuditEntry(
        account_id=current_user.id if signed_in else None,
        actor=actor,
        action=action,
        target=target,
        before=before,
        after=after,
    )
    db.session.add(entry)
    return entry
