"""The common USSD step, an answer inside a flow, served from the session row alone.

Eight of the weekly check-in's ten steps are answers to the current question. They need the
session's stored state and whose session it is, nothing else: one SELECT and one conditional
UPDATE (services/step_store.py), the pure engine in between, and for the final confirmation
the answers' INSERT in the same transaction. This is what keeps a step in the milliseconds
(bench/ussd.py). Anything this module declines goes the careful way (webhooks/ussd.py).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from config import Settings
from flows import engine
from flows.engine import Outcome
from models.base import utcnow
from services import checkins
from services.conversation import FLOW, Reply, advance_in_flow, closing_text, make_reply, shown
from services.flow_store import definition
from services.step_store import StoredStep, save


def answer(
    connection: sa.Connection, settings: Settings, stored: StoredStep, phone: str, text: str
) -> Reply | None:
    """The reply to an answer inside a flow (or to a repeated step), stored; or None.

    `connection` is in AUTOCOMMIT mode (see webhooks/ussd.py): on PostgreSQL the read and a
    plain step's write are single statements with no BEGIN and COMMIT round trips (on SQLite
    each still takes the write lock briefly, BEGIN IMMEDIATE), and the write applies only if
    the row is as it was read, so a concurrent step cannot be lost. A submit writes three
    tables, so it takes a transaction of its own. None sends the request the careful way:
    another stage, a submit that raises an alert or finds the check-in completed by a
    colleague, an input that does not extend the last one, or another request that won the
    row meanwhile.
    """
    if not stored.belongs_to(phone):
        return None
    if text == stored.last_input:
        return Reply(stored.last_reply, end=stored.status != "active")
    entry = new_input(stored.last_input, text)
    if stored.status != "active" or entry is None or stored.state.get("stage") != FLOW:
        return None
    outcome = advance_in_flow(stored.state, entry)
    if outcome is None:
        return None
    now = utcnow()
    if not outcome.submitted:
        reply, state = shown(settings, stored.state, outcome, stored.language)
        saved = save(connection, stored, text, reply.text, state, now)
        connection.commit()
        return reply if saved else None
    return _submit(connection, settings, stored, outcome, text, now)


def _submit(
    connection: sa.Connection,
    settings: Settings,
    stored: StoredStep,
    outcome: Outcome,
    text: str,
    now: datetime,
) -> Reply | None:
    """Store the confirmed answers with the session; None (nothing stored) for the careful way."""
    flow = definition(stored.state["version"])
    final = engine.answers(flow, outcome.state)
    if engine.triggered_alerts(flow, final):
        return None  # alerts go to the facility's supervisors: the careful way writes them
    reply = make_reply(settings, closing_text(flow, stored.language), stored.language, end=True)
    with connection.engine.connect() as writer, writer.begin() as transaction:
        # The session row first, as the careful way locks it first: a step that lost the race
        # backs out before touching the check-in.
        if save(writer, stored, text, reply.text, stored.state, now, status="submitted") and (
            checkins.submit(
                writer,
                stored.checkin_id,
                flow,
                final,
                dict(outcome.state.raw),
                stored.worker_id,
                stored.session_id,
                "ussd",
                now,
            )
        ):
            return reply
        transaction.rollback()  # lost the race, or a colleague was first: the careful way says who
        return None


def new_input(handled: str, text: str) -> str | None:
    """What the person typed since the last step: the gateway sends everything, `*`-joined."""
    if not handled:
        return text
    if not text.startswith(handled + "*"):
        return None
    return text[len(handled) + 1 :]
