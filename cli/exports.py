"""`flask export answers|messages`: data out as CSV on stdout, for spreadsheets and scripts."""

from __future__ import annotations

import sys
from datetime import datetime

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from models import Flow, db
from models.base import read_only
from services.exports import (
    ANSWER_COLUMNS,
    MESSAGE_COLUMNS,
    answer_rows,
    message_rows,
    write_csv,
)

group = AppGroup("export", help="Export data as CSV on stdout.")

SINCE = click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Only from this day on (YYYY-MM-DD, from midnight UTC).",
)


@group.command("answers")
@click.option("--flow", "flow_key", metavar="KEY", help="Only the answers to this flow.")
@SINCE
def answers_command(flow_key: str | None, since: datetime | None) -> None:
    """One row per answer of every completed check-in, oldest first."""
    read_only()
    if (
        flow_key is not None
        and db.session.scalar(sa.select(Flow.id).where(Flow.key == flow_key)) is None
    ):
        known = ", ".join(db.session.scalars(sa.select(Flow.key).order_by(Flow.key))) or "none"
        raise click.BadParameter(f"no flow '{flow_key}' (known: {known})", param_hint="--flow")
    rows = answer_rows(flow_key, since.date() if since else None)
    write_csv(sys.stdout, ANSWER_COLUMNS, rows, lineterminator="\n")
    sys.stdout.flush()


@group.command("messages")
@SINCE
def messages_command(since: datetime | None) -> None:
    """One row per SMS received or sent, oldest first, with its cost and delivery status."""
    read_only()
    write_csv(sys.stdout, MESSAGE_COLUMNS, message_rows(since.date() if since else None), "\n")
    sys.stdout.flush()


COMMANDS = [group]
