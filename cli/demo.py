"""`flask seed-demo`: a demo district to try the service with."""

from __future__ import annotations

import click
from flask import current_app

from models.base import utcnow
from services.demo import seed_demo, seed_history


@click.command("seed-demo")
@click.option(
    "--history",
    "weeks",
    type=click.IntRange(0, 104),
    default=0,
    show_default=True,
    help="Also add this many past weeks of reports, for the run charts and digests.",
)
def seed_demo_command(weeks: int) -> None:
    """Create or update a demo district: one CSRef, three CSComs, staff, the default flows."""
    counts = seed_demo()
    if weeks:
        timezone = current_app.config["SETTINGS"].timezone
        counts["past reports"] = seed_history(utcnow(), weeks, timezone)
    click.echo(", ".join(f"{n} {what}" for what, n in counts.items()))


COMMANDS = [seed_demo_command]
