"""Access rules of the flow pages: admins only, for reading as for publishing.

The valid forms are real changes, each worth its audit row: a new wording of the default flow
(the demo's `region` publishes its version 1), a new flow, and a rollback to version 1, which
first needs a version 2 to roll back from.
"""

from __future__ import annotations

from pathlib import Path

from services import flow_store
from tests.admin.rules import ADMINS, Rule

WEEKLY = (Path(__file__).resolve().parents[2] / "flows" / "weekly_qi.yaml").read_text("utf-8")
ATTENDEES = "Combien de membres étaient présents ?"
REWORDED = WEEKLY.replace(ATTENDEES, "Combien de membres de l'équipe étaient là ?")
NEW_FLOW = """\
key: stock
title: {fr: "Ruptures de stock"}
languages: [fr]
questions:
  - {key: out, type: choice, prompt: "Rupture ?", choices: [{value: "yes", label: "Oui"}]}
"""
WEEKLY_QI = {"key": "weekly_qi"}


def _rollback_form() -> dict[str, object]:
    """Roll back to version 1, after publishing a version 2 as the command line would."""
    flow_store.publish(REWORDED)
    return {"version": "1"}


RULES: dict[str, Rule] = {
    "admin.flows": Rule(roles=ADMINS, form=lambda: {"source": NEW_FLOW, "action": "publish"}),
    "admin.flow": Rule(
        roles=ADMINS, form=lambda: {"source": REWORDED, "action": "publish"}, url_values=WEEKLY_QI
    ),
    "admin.flow_versions": Rule(roles=ADMINS, url_values=WEEKLY_QI),
    "admin.flow_rollback": Rule(roles=ADMINS, form=_rollback_form, url_values=WEEKLY_QI),
}
