"""`flask flows lint|publish|export`: check, store and read back the flows admins write."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from flows.lint import lint
from flows.loader import FlowError, load_flow
from models import Flow, db
from services.flow_store import latest_version, publish

group = AppGroup("flows", help="Check, publish and export flow files.")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: cannot read the file ({exc})") from exc


@group.command("lint")
@click.argument("path", type=click.Path(dir_okay=False))
def lint_command(path: str) -> None:
    """Validate FILE and report screen lengths and SMS costs; exit 1 on errors."""
    try:
        flow = load_flow(_read(path), path)
    except FlowError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(1)
    findings = lint(flow, current_app.config["SETTINGS"].transliterate)
    for finding in findings:
        click.echo(str(finding))
    warnings = sum(f.level == "warning" for f in findings)
    click.echo(
        f"{path}: {flow.key}, {_count(len(flow.questions), 'question')}, {_count(warnings, 'warning')}"
    )


@group.command("publish")
@click.argument("path", type=click.Path(dir_okay=False))
def publish_command(path: str) -> None:
    """Validate FILE and store it as the next version of its flow."""
    try:
        version, created = publish(_read(path), path)
    except FlowError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(1)
    db.session.commit()
    note = "" if created else " (unchanged)"
    click.echo(f"{version.flow.key} v{version.version}{note}")


@group.command("export")
@click.argument("key")
def export_command(key: str) -> None:
    """Print the latest published version of flow KEY exactly as it was published."""
    flow = db.session.scalar(sa.select(Flow).where(Flow.key == key))
    version = latest_version(flow) if flow else None
    if version is None:
        raise click.ClickException(f"no published flow '{key}'")
    click.echo(version.source, nl=not version.source.endswith("\n"))


COMMANDS = [group]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
