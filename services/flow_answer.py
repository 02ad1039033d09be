"""The fast way through a USSD step: an answer inside a flow, served from the session row alone.

Eight of the weekly check-in's ten steps answer the current question. Once services/ussd_steps.py
has judged the request (whose session, a repeat, the new entry), such a step needs the session's
stored state and nothing else: the pure engine, then one conditional UPDATE of the row
(services/step_store.py); a confirmation adds the submission (services/submissions.py) in the
same transaction. This is what keeps a step in the milliseconds (bench/ussd.py).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from config import Settings
from flows import engine
from models.base import utcnow
from services.conversation import FLOW, advance_in_flow, closing_text, shown
from services.flow_store import definition
from services.reply import Step, make_reply
from services.step_store import StoredStep, save
from services.submissions import Submitter, record


def answer(
    connection: sa.Connection, settings: Settings, stored: StoredStep, text: str, entry: str
) -> Step | None:
    """The stored reply to `entry`, or None to send the step the careful way.

    `connection` is in AUTOCOMMIT mode: on PostgreSQL a plain step's write is one statement
    with no BEGIN and COMMIT round trips (on SQLite it still takes the write lock briefly,
    BEGIN IMMEDIATE), and it applies only if the row is as it was read, so a concurrent step
    cannot be lost. A submit writes several tables, so it takes a transaction of its own.
    None: another stage than a flow, back to the menu, a colleague who completed the
    check-in first (the careful way keeps the answers and says who), or another request that
    won the row meanwhile.
    """
    if stored.state.get("stage") != FLOW:
        return None
    outcome = advance_in_flow(stored.state, entry)
    if outcome is None:
        return None
    now = utcnow()
    if outcome.submission is None:
        reply, state = shown(settings, stored.state, outcome, stored.language)
        saved = save(connection, stored, text, reply.text, state, now)
        connection.commit()
        return Step(reply) if saved else None
    return _submit(connection, settings, stored, outcome.submission, text, now)


def _submit(
    connection: sa.Connection,
    settings: Settings,
    stored: StoredStep,
    submission: engine.Submission,
    text: str,
    now: datetime,
) -> Step | None:
    """Store the submission with the session's last step, all or nothing."""
    flow = definition(stored.state["version"])
    reply = make_reply(settings, closing_text(flow, stored.language), stored.language, end=True)
    by = Submitter(stored.worker_id, stored.session_id, "ussd")
    with connection.engine.connect() as writer, writer.begin() as transaction:
        # The session row first, as the careful way locks it first: a step that lost the race
        # backs out before touching the check-in.
        if save(writer, stored, text, reply.text, stored.state, now, status="submitted"):
            version = stored.state["version"]
            recorded = record(
                writer, settings, flow, version, stored.checkin_id, submission, by, now
            )
            if recorded.reference:
                return Step(reply, recorded.alerts)
        transaction.rollback()  # lost the race, or a colleague was first: the careful way says who
        return None
