"""`flask import facilities|workers FILE.csv`: load the hierarchy and the staff from spreadsheets.

Each bad row is reported as `line N: reason` on stderr, the valid rows are kept, and the exit
code is 1 when any row was refused, so a script notices. The audit log gets one row per import
(actor "cli"), with the counts, as for an import from the console.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import click
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from admin import audit
from models import db
from services.directory import CsvFormatError, ImportReport, decode_csv
from services.directory import import_facilities as import_facility_rows
from services.directory import import_workers as import_worker_rows

group = AppGroup("import", help="Create or update facilities and workers from CSV files.")


def _run(file: BinaryIO, load: Callable[[str], ImportReport], kind: str) -> None:
    try:
        text = decode_csv(file.read())
    except CsvFormatError as exc:
        raise click.ClickException(f"{file.name}: {exc}") from exc
    name = Path(file.name).name
    try:
        report = load(text)
        counts = {"created": report.created, "updated": report.updated, "refused": report.refused}
        audit.record(
            f"import.{kind}",
            f"file:{name}"[:254],
            None,
            {"file": name, "rows": report.rows, **counts},
        )
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise click.ClickException(
            "another change to the same facilities or workers was saved at the same moment; "
            "nothing was imported, run the import again"
        ) from exc
    for line, message in report.errors:
        click.echo(f"line {line}: {message}", err=True)
    click.echo(report.summary())
    if report.errors:
        sys.exit(1)


@group.command("facilities", short_help="Create or update facilities from FILE.csv.")
@click.argument("file", type=click.File("rb"))
def facilities_command(file: BinaryIO) -> None:
    """Import FILE.csv with columns code,name,kind,parent_code (kind: region, csref or cscom).

    A cscom's parent is a csref, a csref's a region; a region has none. Facilities are matched
    by code, so importing again updates them.
    """
    _run(file, import_facility_rows, "facilities")


@group.command("workers", short_help="Create or update workers from FILE.csv.")
@click.argument("file", type=click.File("rb"))
def workers_command(file: BinaryIO) -> None:
    """Import FILE.csv with columns name,phone,facility_code,role,language.

    Workers are matched by phone (written any usual way, +223 assumed), so importing again
    updates them. Import the facilities first.
    """
    _run(file, import_worker_rows, "workers")


COMMANDS = [group]
