"""`flask tick` (the periodic work once) and `flask clock` (the same, every minute, forever)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click
from flask import current_app

from models import db
from models.base import utcnow
from services.tick import tick


def _parse_now(_ctx, _param, value: str | None) -> datetime:
    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"'{value}' is not an ISO date-time like 2026-11-30T08:05"
        ) from exc
    if moment.tzinfo is None:
        from zoneinfo import ZoneInfo

        moment = moment.replace(tzinfo=ZoneInfo(current_app.config["SETTINGS"].timezone))
    return moment.astimezone(UTC)


@click.command("tick")
@click.option(
    "--now", callback=_parse_now, help="Run as if at this moment (local time unless it has a zone)."
)
def tick_command(now: datetime) -> None:
    """Run the periodic work once: open due check-ins, mark missed ones."""
    report = tick(now, current_app.config["SETTINGS"], current_app.extensions["redis"])
    click.echo(f"{now.isoformat()}: {report}")


@click.command("clock")
@click.option("--every", default=60, show_default=True, help="Seconds between ticks.")
def clock_command(every: int) -> None:
    """Call the periodic work every minute (the Procfile's clock process)."""
    while True:
        started = time.monotonic()
        try:
            settings = current_app.config["SETTINGS"]
            report = tick(utcnow(), settings, current_app.extensions["redis"])
            click.echo(f"tick: {report}")
        except Exception as exc:  # a failed tick must not stop the clock
            db.session.rollback()
            click.echo(f"tick failed: {exc!r}", err=True)
        finally:
            db.session.remove()
        time.sleep(max(1.0, every - (time.monotonic() - started)))


COMMANDS = [tick_command, clock_command]
