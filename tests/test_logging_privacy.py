"""No answer and no whole USSD input reaches a log line, whatever the logging level.

Health answers are personal data, and logs are copied to places (consoles, log services,
bug reports) that the database's protections do not reach. Ids and lengths are enough to
follow a request. A USSD and an SMS check-in are walked end to end, replies sent through the
worker to the gateway stand-in, with every logger at DEBUG; then no record, traceback
included, may contain an answer.
"""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from models import Answer, db
from services.demo import seed_demo

USSD_WORKER = "+22370000011"  # Fatoumata, CSCom Malibougou
SMS_WORKER = "+22370000022"  # Oumar, another CSCom: both check-ins are open
USSD_ANSWERS = ["1", "37", "2", "8461", "7352", "1", "2", "Rupture Zx7Q confidentielle"]
SMS_ANSWERS = ["1", "29", "3", "6173", "5281", "1", "2", "Plainte Qm4W du village"]
SECRETS = ["8461", "7352", "Zx7Q", "6173", "5281", "Qm4W", "1*37*2"]


@pytest.fixture
def every_record(caplog):
    """Every log record of the test, at DEBUG for every logger, formatted with its traceback."""
    caplog.set_level(logging.DEBUG)
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return lambda: [formatter.format(record) for record in caplog.records]


def ussd_checkin(client) -> str:
    """Every step of one session, `text` cumulative as the gateway sends it; the last screen."""
    inputs = [*USSD_ANSWERS, "1"]
    screen = ""
    for step in range(len(inputs) + 1):
        form = {
            "sessionId": "ATUid_privacy",
            "serviceCode": "*384*123#",
            "phoneNumber": USSD_WORKER,
            "text": "*".join(inputs[:step]),
            "networkCode": "61001",
        }
        response = client.post("/ussd", data=form)
        assert response.status_code == 200
        screen = response.get_data(as_text=True)
    return screen


def sms_checkin(client) -> None:
    for number, text in enumerate(["QI", *SMS_ANSWERS, "1"]):
        form = {
            "from": SMS_WORKER,
            "to": "12345",
            "text": text,
            "date": "2026-11-27 10:00:00",
            "id": f"ATXid_privacy_{number}",
            "linkId": "",
            "networkCode": "61001",
        }
        assert client.post("/sms/incoming", data=form).status_code == 200


def test_a_ussd_and_an_sms_checkin_leave_no_answer_in_any_log_record(
    app, client, standin, run_worker, every_record
):
    seed_demo()

    assert ussd_checkin(client).startswith("END ")
    sms_checkin(client)
    run_worker()

    stored = set(db.session.scalars(sa.select(Answer.value_text)))
    assert {"Rupture Zx7Q confidentielle", "Plainte Qm4W du village"} <= stored
    records = every_record()
    assert records, "the walk logged nothing at all: is logging captured?"
    # Whole tokens: a random job or worker id may hold "7352" among its hex digits by chance.
    found = [
        re.compile(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])") for secret in SECRETS
    ]
    leaks = [record for record in records if any(secret.search(record) for secret in found)]
    assert leaks == []
