"""Exporting answers (services.exports), after real USSD check-ins, on SQLite and PostgreSQL.

A check-in is completed the way a health worker completes it: a whole USSD session posted to
the webhook. Each stored answer becomes one row.
"""

from __future__ import annotations

import inspect
import io
import itertools
import textwrap
import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from models import Checkin, Flow, db
from services.demo import seed_demo
from services.exports import (
    ANSWER_COLUMNS,
    AnswerRow,
    answer_rows,
    since_datetime,
    write_csv,
)
from services.flow_store import publish

FOCAL_POINT = "+22370000011"  # Fatoumata Diarra, CSCom Malibougou, French
WEEKLY_INPUTS = ["1", "6", "2", "40", "38", "1", "2", "a comment", "1"]
WEEKLY_ANSWERS = {
    "met": "yes",
    "attendees": 6,
    "change_status": "being_tested",
    "denominator": 40,
    "numerator": 38,
    "obstacle": "none",
    "support": "no",
    "comment": "a comment",
}
STOCK_FLOW = textwrap.dedent(
    """\
    key: stock_check
    title: {fr: "Stock"}
    languages: [fr]
    questions:
      - key: doses
        type: number
        prompt: {fr: "Doses en stock ?"}
    closing: {fr: "Merci."}
    """
)


def ussd_session(client, phone: str, inputs: list[str]) -> str:
    """Dial, then send each input as the gateway does (cumulative text joined by `*`); every
    screen before the last must ask for more (`CON`). Returns the last screen."""
    session_id = f"TEST{uuid.uuid4().hex}"
    screens = []
    for count in range(len(inputs) + 1):
        response = client.post(
            "/ussd",
            data={
                "sessionId": session_id,
                "serviceCode": "*384*1#",
                "phoneNumber": phone,
                "text": "*".join(inputs[:count]),
                "networkCode": "61001",
            },
        )
        assert response.status_code == 200
        screens.append(response.get_data(as_text=True))
    assert all(screen.startswith("CON ") for screen in screens[:-1]), screens
    return screens[-1]


def complete_weekly_checkin(client, phone: str = FOCAL_POINT) -> Checkin:
    """The demo district's weekly QI check-in, answered in full over USSD."""
    body = ussd_session(client, phone, WEEKLY_INPUTS)
    assert body.startswith("END "), body  # the closing text, in the worker's language
    return db.session.scalars(sa.select(Checkin).where(Checkin.status == "completed")).one()


def complete_stock_checkin(client, doses: str = "12") -> Checkin:
    """A second, on-demand flow, published once the weekly check-in is done, so it is the
    worker's only open flow and the session starts on its question."""
    publish(STOCK_FLOW)
    db.session.commit()
    body = ussd_session(client, FOCAL_POINT, [doses, "1"])
    assert body == "END Merci.", body
    return db.session.scalars(sa.select(Checkin).join(Flow).where(Flow.key == "stock_check")).one()


def set_completed_at(checkin: Checkin, moment: datetime) -> None:
    db.session.execute(
        sa.update(Checkin).where(Checkin.id == checkin.id).values(completed_at=moment)
    )
    db.session.commit()


@pytest.fixture
def seeded(app) -> None:
    seed_demo()


# -- answer_rows ----------------------------------------------------------------------------------


def test_each_answer_of_a_completed_checkin_is_one_row(seeded, client):
    checkin = complete_weekly_checkin(client)

    rows = list(answer_rows())

    assert [(row.question_key, row.value) for row in rows] == list(WEEKLY_ANSWERS.items())
    assert {row[:4] for row in rows} == {("CSCOM-MLB", checkin.period, "weekly_qi", 1)}
    assert {(row.phone, row.channel, row.completed_at) for row in rows} == {
        (FOCAL_POINT, "ussd", checkin.completed_at)
    }


def test_the_columns_are_the_contract():
    assert ANSWER_COLUMNS == (
        "facility_code",
        "period",
        "flow_key",
        "flow_version",
        "question_key",
        "value",
        "phone",
        "channel",
        "completed_at",
        "reference",  # added at the end, as DESIGN.md asks of a new column
    )


def test_a_number_answer_is_a_number_and_a_choice_is_its_value(seeded, client):
    complete_weekly_checkin(client)

    values = {row.question_key: row.value for row in answer_rows()}

    assert values["denominator"] == 40 and isinstance(values["denominator"], int)
    assert values["met"] == "yes"


def test_the_phone_is_that_of_the_worker_who_answered(seeded, client):
    complete_weekly_checkin(client, phone="+22370000012")  # Moussa, the DTC, in Bambara

    assert {row.phone for row in answer_rows()} == {"+22370000012"}


def test_an_unfinished_checkin_exports_nothing(seeded, client):
    body = ussd_session(client, FOCAL_POINT, ["1", "6", "2"])

    assert body.startswith("CON")
    assert list(answer_rows()) == []


def test_a_skipped_optional_question_has_no_row(seeded, client):
    ussd_session(client, FOCAL_POINT, ["2", "1", "10", "5", "1", "2", ".", "1"])

    keys = [row.question_key for row in answer_rows()]

    assert "comment" not in keys and "attendees" not in keys
    assert keys[0] == "met"


def test_answers_can_be_limited_to_one_flow(seeded, client):
    complete_weekly_checkin(client)
    complete_stock_checkin(client)

    assert [(r.flow_key, r.question_key, r.value) for r in answer_rows("stock_check")] == [
        ("stock_check", "doses", 12)
    ]
    assert {r.flow_key for r in answer_rows("weekly_qi")} == {"weekly_qi"}
    assert len(list(answer_rows())) == len(WEEKLY_ANSWERS) + 1
    assert list(answer_rows("no_such_flow")) == []


def test_since_keeps_checkins_completed_from_that_day_at_midnight_utc(seeded, client):
    weekly = complete_weekly_checkin(client)
    stock = complete_stock_checkin(client)
    set_completed_at(weekly, datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC))
    set_completed_at(stock, datetime(2026, 3, 2, 0, 0, 0, tzinfo=UTC))

    assert {r.flow_key for r in answer_rows(since=date(2026, 3, 1))} == {
        "weekly_qi",
        "stock_check",
    }
    assert {r.flow_key for r in answer_rows(since=date(2026, 3, 2))} == {"stock_check"}
    assert list(answer_rows(since=date(2026, 3, 3))) == []
    assert {r.flow_key for r in answer_rows("weekly_qi", date(2026, 3, 2))} == set()


def test_rows_come_oldest_checkin_first_in_question_order(seeded, client):
    weekly = complete_weekly_checkin(client)
    stock = complete_stock_checkin(client)
    set_completed_at(weekly, datetime(2026, 3, 9, tzinfo=UTC))
    set_completed_at(stock, datetime(2026, 3, 2, tzinfo=UTC))

    keys = [row.question_key for row in answer_rows()]

    assert keys == ["doses", *WEEKLY_ANSWERS]


def test_rows_are_streamed_in_batches(seeded, client):
    complete_weekly_checkin(client)

    rows = answer_rows(batch_size=3)

    assert inspect.isgenerator(rows)
    first_two = list(itertools.islice(rows, 2))
    assert [row.question_key for row in first_two] == ["met", "attendees"]
    assert len(list(rows)) == len(WEEKLY_ANSWERS) - 2


def test_since_a_day_is_from_midnight_utc_and_a_moment_is_that_moment():
    lagos_noon = datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("Africa/Lagos"))  # UTC+1

    assert since_datetime(date(2026, 3, 2)) == datetime(2026, 3, 2, tzinfo=UTC)
    assert since_datetime(datetime(2026, 3, 2, 9, 30)) == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert since_datetime(lagos_noon) == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


# -- write_csv ------------------------------------------------------------------------------------


def test_write_csv_writes_a_header_then_one_line_per_row():
    out = io.StringIO()
    row = AnswerRow(
        "CSCOM-MLB",
        "2026-W10",
        "weekly_qi",
        2,
        "comment",
        'Rupture, "SRO"\net zinc',
        "+22370000011",
        "sms",
        datetime(2026, 3, 2, 9, 15, 30, 123456, tzinfo=UTC),
        "yes",
    )

    count = write_csv(out, ANSWER_COLUMNS, [row, row._replace(value=None, channel=None)])

    assert count == 2
    assert out.getvalue().splitlines(keepends=True) == [
        "facility_code,period,flow_key,flow_version,question_key,value,phone,channel,"
        "completed_at,reference\r\n",
        'CSCOM-MLB,2026-W10,weekly_qi,2,comment,"Rupture, ""SRO""\n',
        'et zinc",+22370000011,sms,2026-03-02T09:15:30Z,yes\r\n',
        "CSCOM-MLB,2026-W10,weekly_qi,2,comment,,+22370000011,,2026-03-02T09:15:30Z,yes\r\n",
    ]


def test_write_csv_writes_each_row_before_reading_the_next():
    out = io.StringIO()

    def rows():
        for n in range(3):
            assert out.getvalue().count("\r\n") == n + 1  # the header and every row so far
            yield (n, f"row {n}")

    assert write_csv(out, ("n", "text"), rows()) == 3


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK(""http://x"")'),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-1+1", "'-1+1"),
        ("+cmd", "'+cmd"),
        ("\t=1+1", "'\t=1+1"),
        ("+22370000011", "+22370000011"),
        ("-3", "-3"),
        ("Rupture de SRO", "Rupture de SRO"),
    ],
)
def test_write_csv_keeps_text_that_looks_like_a_formula_as_text(typed, written):
    out = io.StringIO()
    write_csv(out, ("value",), [(typed,)])
    assert out.getvalue().splitlines()[1] == (f'"{written}"' if '"' in typed else written)


def test_write_csv_with_no_rows_writes_the_header():
    out = io.StringIO()

    assert write_csv(out, ("a", "b"), []) == 0
    assert out.getvalue() == "a,b\r\n"


def test_a_colleagues_later_submission_is_exported_whole_after_the_reference(seeded, client):
    from cli.simulate import UssdDial

    def post(path, form):
        response = client.post(path, data=form)
        return response.status_code, response.get_data(as_text=True)

    first, late = UssdDial(post, "+22370000011"), UssdDial(post, "+22370000012")
    first.start()
    late.start()
    for entry in ["2", "2", "45", "40", "1", "2", "RAS"]:
        late.send(entry)
    complete_weekly_checkin(client)
    late.send("1")
    rows = list(answer_rows())
    assert [row.reference for row in rows] == ["yes"] * 8 + ["no"] * 7
    assert {row.phone for row in rows if row.reference == "no"} == {"+22370000012"}
