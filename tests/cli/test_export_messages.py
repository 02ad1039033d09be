"""`flask export messages`: every SMS in and out, with its cost and delivery status."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from models import InboundMessage, OutboundMessage, db
from models.base import utcnow
from services.exports import MESSAGE_COLUMNS
from services.outbox import compose
from workers import outbox

COLUMNS = (
    "direction,phone,text,encoding,segments,status,gateway_id,failure_reason,attempts,created_at,"
    "possible_duplicate,cost"
)


def export(app, *args: str) -> list[dict[str, str]]:
    result = app.test_cli_runner().invoke(args=["export", "messages", *args])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == COLUMNS
    return list(csv.DictReader(io.StringIO(result.output)))


def add_messages(at: datetime) -> None:
    db.session.add_all(
        [
            InboundMessage(
                gateway_id="in-1",
                phone="+22370000011",
                text="QI",
                encoding="GSM-7",
                segments=1,
                received_at=at,
            ),
            OutboundMessage(
                phone="+22370000011",
                text="Ɲɛ",
                encoding="UCS-2",
                segments=1,
                kind="reply",
                status="failed",
                gateway_id="ATXid_1",
                failure_reason="UserIsInactive",
                attempts=2,
                possible_duplicate=True,
                cost="XOF 25",
                created_at=at + timedelta(seconds=1),
            ),
        ]
    )
    db.session.commit()


def test_the_columns_are_the_contracts():
    assert ",".join(MESSAGE_COLUMNS) == COLUMNS


def test_messages_in_and_out_are_exported_in_time_order(app):
    add_messages(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    rows = export(app)
    assert [(r["direction"], r["text"], r["status"]) for r in rows] == [
        ("in", "QI", "received"),
        ("out", "Ɲɛ", "failed"),
    ]
    assert rows[1]["encoding"] == "UCS-2"
    assert (rows[1]["failure_reason"], rows[1]["attempts"]) == ("UserIsInactive", "2")
    assert rows[0]["created_at"] == "2026-11-27T09:00:00Z"
    assert [r["possible_duplicate"] for r in rows] == ["", "yes"]
    assert [r["cost"] for r in rows] == ["", "XOF 25"]  # the last column: nothing for an SMS in


def test_the_cost_is_what_the_gateway_reported_for_each_message_it_accepted(
    app, standin, redis, run_worker
):
    settings = app.config["SETTINGS"]
    texts = {"+22370000011": "Merci", "+22370000012": "Ɲɛ" * 40, "+22370000013": "Merci"}
    for phone, text in texts.items():  # Ɲɛ * 40: 80 UCS-2 characters, 2 SMS
        compose(settings, utcnow(), phone=phone, text=text, kind="reply")
    db.session.commit()
    standin.control("faults", {"reject": {"+22370000013": 406}})  # blacklisted: refused
    outbox.dispatch(redis)
    run_worker()

    rows = export(app)

    reported = {m.number: m.cost for m in standin.messages()}
    assert reported == {"+22370000011": "XOF 25", "+22370000012": "XOF 50"}
    assert {r["phone"]: (r["status"], r["cost"]) for r in rows} == {
        "+22370000011": ("sent", "XOF 25"),
        "+22370000012": ("sent", "XOF 50"),
        "+22370000013": ("failed", ""),
    }


def test_since_keeps_the_later_messages(app):
    add_messages(datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    add_messages_later = OutboundMessage(
        phone="+22370000012",
        text="Merci",
        encoding="GSM-7",
        segments=1,
        kind="reply",
        created_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
    )
    db.session.add(add_messages_later)
    db.session.commit()
    assert [r["text"] for r in export(app, "--since", "2026-11-15")] == ["Merci"]


def test_a_malformed_since_is_refused(app):
    result = app.test_cli_runner().invoke(args=["export", "messages", "--since", "yesterday"])
    assert result.exit_code == 2
    assert "--since" in result.output
