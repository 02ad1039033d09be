"""`flask create-admin EMAIL [--role …] [--facility CODE] [--password-stdin]` (DESIGN.md)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from models import Account, AuditEntry, db
from tests.admin.conftest import PASSWORD, Person, create_admin, log_in, new_client
from tests.supervision.districts import seed_districts


@pytest.fixture
def districts(app):
    seed_districts()


def account(email: str) -> Account | None:
    db.session.commit()
    return db.session.scalar(sa.select(Account).where(Account.email == email))


def test_an_admin_is_created_with_a_hashed_password_and_an_audit_row(app, districts):
    result = create_admin(app, Person("Chef@Example.org", "admin", None))
    assert result.exit_code == 0, result.output
    assert "compte créé : chef@example.org, admin" in result.output
    made = account("chef@example.org")
    assert made.role == "admin" and made.facility_id is None and made.active
    assert check_password_hash(made.password_hash, PASSWORD)
    entry = db.session.scalars(sa.select(AuditEntry)).one()
    assert (entry.actor, entry.action, entry.before) == ("cli", "account.create", None)
    assert entry.after == {
        "email": "chef@example.org",
        "role": "admin",
        "facility": None,
        "active": True,
    }


def test_a_supervisor_names_their_csref_and_a_regional_viewer_their_region(app, districts):
    assert create_admin(app, Person("awa@example.org", "supervisor", "CSREF-KATI")).exit_code == 0
    assert create_admin(app, Person("seydou@example.org", "regional", "REG-KKR")).exit_code == 0
    assert account("awa@example.org").facility.code == "CSREF-KATI"
    assert account("seydou@example.org").facility.code == "REG-KKR"


@pytest.mark.parametrize(
    ("person", "says"),
    [
        (Person("a@example.org", "supervisor", "CSCOM-MLB"), "CSCOM-MLB est de type cscom"),
        (Person("a@example.org", "supervisor", "REG-KKR"), "structure de type csref"),
        (Person("a@example.org", "regional", "CSREF-KATI"), "structure de type region"),
        (Person("a@example.org", "supervisor", None), "--facility"),
        (Person("a@example.org", "supervisor", "NOWHERE"), "Aucune structure n'a le code NOWHERE"),
        (Person("a@example.org", "admin", "CSREF-KATI"), "ne nomme pas de structure"),
        (Person("pas-une-adresse", "admin", None), "n'est pas une adresse e-mail"),
    ],
)
def test_a_wrong_facility_or_email_is_refused_and_nothing_is_stored(app, districts, person, says):
    result = create_admin(app, person)
    assert result.exit_code == 1
    assert says in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Account)) == 0


def test_an_unknown_role_is_refused_by_the_option(app, districts):
    result = create_admin(app, Person("a@example.org", "owner", None))
    assert result.exit_code == 2
    assert "'owner' is not one of" in result.output


def test_a_short_password_is_refused(app, districts):
    result = create_admin(app, Person("a@example.org", "admin", None), password="court")
    assert result.exit_code == 1
    assert "au moins 10 caractères" in result.output


def test_without_password_stdin_it_asks_twice(app, districts):
    runner = app.test_cli_runner()
    mismatch = runner.invoke(
        args=["create-admin", "a@example.org"], input=f"{PASSWORD}\nautre chose\n"
    )
    assert account("a@example.org") is None
    assert mismatch.exit_code == 1
    result = runner.invoke(
        args=["create-admin", "a@example.org"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # the prompt does not echo it
    assert account("a@example.org") is not None


def test_running_it_again_resets_the_password_and_the_role(app, districts):
    create_admin(app, Person("awa@example.org", "supervisor", "CSREF-KATI"))
    result = create_admin(
        app, Person("awa@example.org", "regional", "REG-KKR"), "un tout nouveau secret"
    )
    assert "compte mis à jour" in result.output
    assert account("awa@example.org").role == "regional"
    assert log_in(new_client(app), "awa@example.org").status_code == 401
    assert log_in(new_client(app), "awa@example.org", "un tout nouveau secret").status_code == 302
    update = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "account.update")
    ).one()
    assert update.before["role"] == "supervisor" and update.after["role"] == "regional"
