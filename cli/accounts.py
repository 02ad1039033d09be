"""`flask create-admin EMAIL [--role admin|supervisor|regional] [--facility CODE]`: an account
for the admin console (DESIGN.md's contract).

Running it again for the same email updates the role and facility and sets the new password:
that is also how a forgotten password is reset.
"""

from __future__ import annotations

import sys

import click

from admin.accounts import AccountError, save_account
from models import db
from models.accounts import ACCOUNT_ROLES


@click.command("create-admin")
@click.argument("email")
@click.option("--role", type=click.Choice(ACCOUNT_ROLES), default="admin", show_default=True)
@click.option(
    "--facility",
    metavar="CODE",
    help="A supervisor's CSRef, or a regional viewer's region (an admin names none).",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)
def create_admin_command(email: str, role: str, facility: str | None, password_stdin: bool) -> None:
    """Create (or update) the console account EMAIL."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)
    try:
        saved = save_account(email, password, role, facility)
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    where = f" ({saved.account.facility.code})" if saved.account.facility else ""
    verb = "créé" if saved.created else "mis à jour"
    click.echo(f"compte {verb} : {saved.account.email}, {saved.account.role}{where}")


COMMANDS = [create_admin_command]
