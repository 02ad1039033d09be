"""Every webhook, on both databases, against generated hostile input: never a 5xx.

What the gateway could send and what an attacker could post: NUL and other control
characters, any Unicode (surrogates aside: they cannot be UTF-8), very long fields, runs of
`*` and back keys, digits of other scripts, numbers past every column's range, malformed and
overlong phone numbers, fields missing. The demo district is seeded so that real workers'
numbers are among the senders and check-ins really advance. The budget is fixed and the
examples derandomised, so a run is repeatable and takes well under a minute.

Properties: no answer is a 5xx; a gateway-shaped USSD step (every field present, a valid
number) is answered 200 text/plain `CON …` or `END …` of at most 182 characters, and any other
/ussd answer is a 4xx or that; gateway-shaped callbacks are acknowledged with 200.
"""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import InboundMessage, OutboundMessage, UssdEvent, db
from services.demo import seed_demo

BUDGET = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
USSD_LIMIT = 182
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
_sessions = itertools.count(1)
WORKERS = ["+22370000011", "+22370000012", "+22370000021", "+22370000022", "+22370000031"]
PHONES = [*WORKERS, "+22370000001", "+22379999999"]  # the supervisor, a valid stranger

# -- strategies ----------------------------------------------------------------------------------

controls = st.text(alphabet=st.characters(codec="utf-8", max_codepoint=0x9F), max_size=20)
specials = st.sampled_from(
    [
        "\x00",
        "1\x002",
        "\r\n",
        "\t",
        "*",
        "**",
        "*00*",
        "1*" * 50,
        "00",
        "0",
        "²",
        "\u0663",
        "\uff11",
        "-1",
        "9" * 30,
        "2147483648",
        "9223372036854775808",
        "%s%n{0}{facility}",
        "STOP",
        "S T O P",
        "Arrêt des CPN faute de vaccins",
        "QI 1 6 2 45 40 1 2 RAS",
        "QI 9 9 9 9",
    ]
)


def repeated(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(min_value=low, max_value=high).flatmap(
        lambda n: st.sampled_from(["1*" * (n // 2), "\x00" * n, "é" * n, "9" * n])
    )


long_text = repeated(2_000, 40_000)
"""Long, yet a body within the app's MAX_CONTENT_LENGTH (256 KiB) once form-encoded."""
huge = repeated(50_000, 150_000)
"""Past MAX_CONTENT_LENGTH: refused with 413 before the body is read."""
short_text = st.one_of(st.text(max_size=60), controls, specials)
hostile_text = st.one_of(short_text, long_text)
entries = st.one_of(st.sampled_from(["1", "2", "6", "40", "38", "0", "00", "", "ok"]), specials)
ussd_text = st.one_of(hostile_text, st.lists(entries, max_size=12).map("*".join))
any_text = st.one_of(hostile_text, huge)
hostile_phone = st.one_of(
    st.sampled_from(PHONES),
    st.from_regex(r"\+[0-9]{16,30}", fullmatch=True),
    st.sampled_from(
        [
            "+223\x0070000011",
            "+٢٢٣٧٠٠٠٠٠٠١١",
            "\uff0b\uff12\uff12\uff13\uff17\uff10\uff10\uff10\uff10\uff10\uff10\uff11\uff11",
            "ORANGE",
            "",
        ]
    ),
    st.text(max_size=40),
)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["²", "\u0663", "1e9", "-0", "+1", " 7", "2147483647", "2147483648"]),
    hostile_text,
)


def form(**fields: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, str]]:
    """A form where each field may also be missing, as a hand-made request would have it."""
    return st.fixed_dictionaries({}, optional=fields)


# -- fixtures and checks -------------------------------------------------------------------------


@pytest.fixture
def seeded(app):
    seed_demo()


def ussd_body(response) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert response.mimetype == "text/plain"
    assert body.startswith(("CON ", "END ")), body
    assert len(body) <= USSD_LIMIT, body
    return body


def not_5xx(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]


# -- POST /ussd ----------------------------------------------------------------------------------


@BUDGET
@given(
    session=st.sampled_from(["ATUid_1", "ATUid_2", "ATUid_3"]),
    phone=st.sampled_from(PHONES),
    text=ussd_text,
)
def test_a_gateway_shaped_ussd_step_is_always_a_screen(seeded, client, session, phone, text):
    step = {"sessionId": session, "serviceCode": "*384*123#", "phoneNumber": phone}
    response = client.post("/ussd", data={**step, "text": text, "networkCode": "61001"})

    ussd_body(response)


@BUDGET
@given(
    fields=form(
        sessionId=st.one_of(st.sampled_from(["ATUid_1", "ATUid_9"]), hostile_text),
        serviceCode=hostile_text,
        phoneNumber=hostile_phone,
        text=st.one_of(ussd_text, huge),
        networkCode=hostile_text,
    )
)
def test_any_ussd_request_is_a_screen_or_a_4xx(seeded, client, fields):
    response = client.post("/ussd", data=fields)

    if response.status_code != 200:
        assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:500]
    else:
        ussd_body(response)


@settings(BUDGET, max_examples=60)  # each example is up to 33 steps
@given(walks=st.lists(st.lists(entries, min_size=1, max_size=10), min_size=1, max_size=3))
def test_sessions_walked_step_by_step_with_hostile_entries_always_get_a_screen(
    seeded, client, walks
):
    """Real sessions: `text` grows by one entry per step, as the gateway sends it."""
    for number, walk in enumerate(walks):
        session = next(_sessions)
        for step in range(len(walk) + 1):
            fields = {
                "sessionId": f"ATUid_walk_{session}",
                "serviceCode": "*384*123#",
                "phoneNumber": WORKERS[number % len(WORKERS)],
                "text": "*".join(walk[:step]),
            }
            if ussd_body(client.post("/ussd", data=fields)).startswith("END "):
                break


# -- POST /ussd/events ---------------------------------------------------------------------------


@BUDGET
@given(
    fields=form(
        sessionId=st.one_of(st.sampled_from(["ATUid_1", "ATUid_e"]), hostile_text),
        phoneNumber=hostile_phone,
        status=st.one_of(st.sampled_from(["Success", "Incomplete", "Failed"]), hostile_text),
        input=st.one_of(ussd_text, huge),
        lastAppResponse=hostile_text,
        errorMessage=hostile_text,
        durationInMillis=numbers,
        cost=hostile_text,
        date=hostile_text,
    )
)
def test_any_end_of_session_notification_is_never_a_5xx(seeded, client, fields):
    not_5xx(client.post("/ussd/events", data=fields))


@pytest.mark.parametrize("duration", ["²", "\u0663", "2147483648", "9" * 19, "-1", "12.5"])
def test_an_end_of_session_notification_with_a_malformed_duration_is_stored_without_it(
    app, client, duration
):
    fields = {"sessionId": "ATUid_d", "phoneNumber": WORKERS[0], "status": "Success"}
    response = client.post("/ussd/events", data={**fields, "durationInMillis": duration})

    assert response.status_code == 200
    (event,) = db.session.scalars(sa.select(UssdEvent))
    assert event.duration_ms is None


# -- POST /sms/incoming --------------------------------------------------------------------------

sms_ids = st.integers(min_value=0, max_value=10**9).map(lambda n: f"ATXid_{n}")


@pytest.mark.parametrize("sender", ["+223700000110000000000", "+" + "9" * 25])
def test_an_sms_from_an_overlong_number_is_stored_and_never_answered(seeded, client, sender):
    fields = {"from": sender, "to": "12345", "text": "QI", "id": "ATXid_long"}

    assert client.post("/sms/incoming", data=fields).status_code == 200
    (stored,) = db.session.scalars(sa.select(InboundMessage))
    assert stored.phone == sender
    assert db.session.scalar(sa.select(sa.func.count(OutboundMessage.id))) == 0


@BUDGET
@given(sender=hostile_phone, text=hostile_text, gateway_id=sms_ids)
def test_a_gateway_shaped_inbound_sms_is_stored_and_acknowledged(
    seeded, client, sender, text, gateway_id
):
    fields = {"from": sender[:32], "to": "12345", "text": text[:5000], "id": gateway_id}
    fields |= {"date": "2026-11-27 10:00:00", "linkId": "", "networkCode": "61001"}

    response = client.post("/sms/incoming", data=fields)

    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    stored = db.session.scalar(
        sa.select(InboundMessage).where(InboundMessage.gateway_id == gateway_id)
    )
    assert stored is not None
    assert "\x00" not in stored.text and "\x00" not in stored.phone


@BUDGET
@given(
    fields=form(
        id=st.one_of(sms_ids, hostile_text),
        to=hostile_text,
        text=any_text,
        date=hostile_text,
        linkId=hostile_text,
        networkCode=hostile_text,
        **{"from": hostile_phone},
    )
)
def test_any_inbound_sms_request_is_never_a_5xx(seeded, client, fields):
    not_5xx(client.post("/sms/incoming", data=fields))


# -- POST /sms/delivery --------------------------------------------------------------------------

statuses = ["Sent", "Submitted", "Buffered", "Success", "Failed", "Rejected", "AbsentSubscriber"]


@BUDGET
@given(
    fields=form(
        id=st.one_of(sms_ids, hostile_text),
        status=st.one_of(st.sampled_from(statuses), hostile_text),
        phoneNumber=hostile_phone,
        networkCode=hostile_text,
        failureReason=any_text,
        retryCount=numbers,
    )
)
def test_any_delivery_report_is_never_a_5xx(seeded, client, fields):
    not_5xx(client.post("/sms/delivery", data=fields))


# -- GET /healthz and other shapes of request ----------------------------------------------------


@BUDGET
@given(query=st.dictionaries(short_text, short_text, max_size=3))
def test_healthz_answers_whatever_the_query(app, client, query):
    response = client.get("/healthz", query_string=query)

    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


@BUDGET
@given(
    path=st.sampled_from(["/ussd", "/ussd/events", "/sms/incoming", "/sms/delivery"]),
    body=st.binary(max_size=300),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=latin-1",
            "multipart/form-data; boundary=x",
            "application/json",
            "text/plain",
        ]
    ),
)
def test_any_body_of_any_type_is_never_a_5xx(seeded, client, path, body, content_type):
    not_5xx(client.post(path, data=body, content_type=content_type))
