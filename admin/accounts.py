"""Accounts: creating them (create-admin) and checking a password at login.

Passwords are hashed with werkzeug's scrypt (memory-hard, salted; Flask already depends on
werkzeug, so no new library). The check costs the same whether or not the email exists, so the
login form does not tell which addresses have accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from admin import audit
from models import Account, Facility, db
from models.accounts import ACCOUNT_ROLES, FACILITY_KIND_OF_ROLE

MIN_PASSWORD_LENGTH = 10
_NOBODY = generate_password_hash("a password no account has")
"""Checked against when the email is unknown, so that answer takes as long as a wrong password."""


class AccountError(ValueError):
    """What is wrong with a requested account, in words for the person who typed it."""


@dataclass(frozen=True)
class Saved:
    account: Account
    created: bool


def normal_email(email: str) -> str:
    """Emails compare without case or surrounding spaces (people type them both ways)."""
    return email.strip().lower()


def save_account(email: str, password: str, role: str, facility_code: str | None) -> Saved:
    """Create the account, or update it (role, facility, password; active again) if it exists.

    Updating is how a forgotten password is reset from the command line. Checks that a
    supervisor names a CSRef, a regional viewer a region, and an admin nothing. Writes one
    audit row; the caller commits.
    """
    email = normal_email(email)
    if "@" not in email.strip("@"):
        raise AccountError(_l("« %(email)s » n'est pas une adresse e-mail.", email=email))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _l("Le mot de passe doit compter au moins %(n)d caractères.", n=MIN_PASSWORD_LENGTH)
        )
    facility = _facility_for(role, facility_code)
    account = db.session.scalar(sa.select(Account).where(Account.email == email))
    created = account is None
    before = None if account is None else describe(account)
    account = account or Account(email=email)
    account.password_hash = generate_password_hash(password)
    account.role, account.facility, account.active = role, facility, True
    db.session.add(account)
    db.session.flush()
    action = "account.create" if created else "account.update"
    audit.record(action, f"account:{account.id}", before, describe(account))
    return Saved(account, created)


def _facility_for(role: str, code: str | None) -> Facility | None:
    if role not in ACCOUNT_ROLES:
        raise AccountError(_l("Rôle inconnu : %(role)s.", role=role))
    kind = FACILITY_KIND_OF_ROLE.get(role)
    if kind is None:
        if code:
            raise AccountError(_l("Un administrateur voit tout : il ne nomme pas de structure."))
        return None
    if not code:
        raise AccountError(_l("Ce rôle demande --facility (le code de sa structure)."))
    facility = db.session.scalar(sa.select(Facility).where(Facility.code == code.strip()))
    if facility is None:
        raise AccountError(_l("Aucune structure n'a le code %(code)s.", code=code))
    if facility.kind != kind:
        raise AccountError(
            _l(
                "%(code)s est de type %(found)s ; ce rôle demande une structure de type %(kind)s.",
                code=code,
                found=facility.kind,
                kind=kind,
            )
        )
    return facility


def describe(account: Account) -> dict[str, object]:
    """What the audit log keeps of an account: never its password hash."""
    return {
        "email": account.email,
        "role": account.role,
        "facility": account.facility.code if account.facility else None,
        "active": account.active,
    }


def authenticate(email: str, password: str) -> Account | None:
    """The active account with this email and password, else None (same cost either way)."""
    account = db.session.scalar(sa.select(Account).where(Account.email == normal_email(email)))
    if account is None:
        check_password_hash(_NOBODY, password)
        return None
    if not check_password_hash(account.password_hash, password) or not account.active:
        return None
    return account
