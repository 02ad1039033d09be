"""The `flask --app app …` commands of the DESIGN.md contract, one module per group."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from cli import accounts, demo, exports, flows, imports, schedule, simulate

    for module in (accounts, demo, exports, flows, imports, schedule, simulate):
        for command in module.COMMANDS:
            app.cli.add_command(command)
