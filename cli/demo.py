"""`flask seed-demo`: a demo district to try the service with."""

from __future__ import annotations

import click

from services.demo import seed_demo


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Create or update a demo district: one CSRef, three CSComs, staff, the default flows."""
    counts = seed_demo()
    click.echo(", ".join(f"{n} {what}" for what, n in counts.items()))


COMMANDS = [seed_demo_command]
