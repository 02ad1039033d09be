"""The adapter, driven through the real SDK against the stand-in on a real loopback socket."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import pytest
import requests
from africastalking.SMS import SMSService

from dev.standin import create_standin, serve_in_thread
from gateway.africastalking import (
    OUTCOMES,
    AfricasTalkingGateway,
    GatewayError,
    RecipientResult,
    _point_at,
    outcome_for,
)
from tests.gateway.conftest import Collector

API_KEY = "test-key"
A, B, C = "+22370000001", "+22370000002", "+22370000003"


@pytest.fixture
def standin(receiver: tuple[str, Collector]) -> Iterator[str]:
    """The stand-in's base URL; it only accepts API_KEY and reports to `receiver`."""
    app = create_standin(receiver[0], api_key=API_KEY)
    with serve_in_thread(app) as server:
        yield server.url


@pytest.fixture
def gateway(standin: str) -> AfricasTalkingGateway:
    return AfricasTalkingGateway("sandbox", API_KEY, api_url=standin + "/version1", timeout=2.0)


def control(standin: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call the stand-in's control API: GET without a body, POST with one."""
    url = f"{standin}/_standin/{path}"
    answer = requests.post(url, json=body, timeout=5) if body is not None else requests.get(url)
    answer.raise_for_status()
    return answer.json()


def test_the_sdk_still_posts_through_the_helper_we_give_a_kept_alive_session() -> None:
    """If a new SDK renames its private POST helper, connections stop being reused: fail here."""
    assert hasattr(SMSService, "_Service__make_post_request")
    gateway = AfricasTalkingGateway("sandbox", API_KEY, api_url="http://127.0.0.1:9")
    seen = requests.ConnectionError("seen")
    with (
        patch.object(requests.Session, "post", side_effect=seen),
        pytest.raises(GatewayError, match="seen"),
    ):
        gateway.send("x", [A])


def test_send_all_answers_each_request_in_order_with_its_own_error(gateway, standin) -> None:
    control(standin, "faults", {"reject": {B: 406}})
    results = gateway.send_all([("un", [A]), ("deux", [B, C])])
    assert [r.outcome for r in results[0]] == ["sent"]
    assert [(r.number, r.outcome) for r in results[1]] == [(B, "final"), (C, "sent")]
    failing = AfricasTalkingGateway("sandbox", API_KEY, api_url="http://127.0.0.1:9", timeout=1)
    assert isinstance(failing.send_all([("x", [A])])[0], GatewayError)


def test_the_sdk_still_builds_urls_from_the_private_base_url_we_override() -> None:
    # Canary: if a new SDK renames _baseUrl, setting it would silently be ignored and dev
    # machines would send real SMS through the live gateway.
    sms = SMSService("sandbox", "key")
    assert sms._baseUrl == "https://api.sandbox.africastalking.com/version1"
    assert sms._contentUrl == "https://api.sandbox.africastalking.com/version1"
    sms._baseUrl = "http://127.0.0.1:1/version1"
    assert sms._make_url("/messaging") == "http://127.0.0.1:1/version1/messaging"


def test_a_send_through_the_sdk_really_reaches_the_standin(gateway, standin) -> None:
    [result] = gateway.send("Bonjour", [A])
    assert result.outcome == "sent"
    recorded = control(standin, "messages")["messages"]
    assert [(m["id"], m["number"], m["text"]) for m in recorded] == [
        (result.message_id, A, "Bonjour")
    ]


def test_without_api_url_the_gateway_talks_to_africastalking() -> None:
    assert AfricasTalkingGateway("sandbox", "k").api_url == (
        "https://api.sandbox.africastalking.com/version1"
    )
    assert AfricasTalkingGateway("cscom", "k").api_url == "https://api.africastalking.com/version1"


def test_api_url_may_be_given_with_or_without_the_version_path(standin) -> None:
    for url in (standin, standin + "/", standin + "/version1", standin + "/version1/"):
        gateway = AfricasTalkingGateway("sandbox", API_KEY, api_url=url)
        assert gateway.api_url == standin + "/version1"
        assert gateway.send("x", [A])[0].outcome == "sent"


def test_a_batch_to_three_numbers_is_one_request_with_three_recipients(gateway, standin) -> None:
    results = gateway.send("Rappel: vaccination demain", [A, B, C])
    assert [r.number for r in results] == [A, B, C]
    assert [r.outcome for r in results] == ["sent"] * 3
    assert [r.status_code for r in results] == [101] * 3
    assert all(r.message_id and r.message_id.startswith("ATXid_") for r in results)
    assert len({r.message_id for r in results}) == 3
    assert all(r.cost == "XOF 25" for r in results)
    [made] = control(standin, "requests")["requests"]
    assert made["to"] == f"{A},{B},{C}"
    assert made["bulkSMSMode"] == "1"
    assert control(standin, "messages")["count"] == 3


def test_batches_are_enqueued_and_single_messages_are_not(gateway, standin) -> None:
    gateway.send("batch", [A, B])
    gateway.send("single", [A])
    assert [r["enqueue"] for r in control(standin, "requests")["requests"]] == ["1", None]


def test_the_sender_id_is_passed_when_set(standin) -> None:
    gateway = AfricasTalkingGateway("sandbox", API_KEY, sender_id="CSCOM", api_url=standin)
    gateway.send("Bonjour", [A])
    assert control(standin, "requests")["requests"][0]["from"] == "CSCOM"
    assert control(standin, "messages")["messages"][0]["sender"] == "CSCOM"


def test_no_sender_id_means_no_from_field(gateway, standin) -> None:
    gateway.send("Bonjour", [A])
    assert control(standin, "requests")["requests"][0]["from"] is None


def test_a_wrong_api_key_fails_the_whole_request(standin) -> None:
    gateway = AfricasTalkingGateway("sandbox", "wrong-key", api_url=standin)
    with pytest.raises(GatewayError, match="authentication"):
        gateway.send("Bonjour", [A, B])
    assert control(standin, "messages")["count"] == 0


def test_a_gateway_500_fails_the_whole_request_and_the_next_one_passes(gateway, standin) -> None:
    control(standin, "faults", {"http_status": 500, "count": 1})
    with pytest.raises(GatewayError) as refused:
        gateway.send("Bonjour", [A, B])
    assert refused.value.may_have_reached is False  # the gateway answered: it did not send
    assert [r.outcome for r in gateway.send("Bonjour", [A, B])] == ["sent", "sent"]


def test_a_refused_connection_is_a_gateway_error() -> None:
    with serve_in_thread(create_standin()) as server:
        url = server.url  # a port that was free a moment ago and now is closed again
    gateway = AfricasTalkingGateway("sandbox", API_KEY, api_url=url, timeout=2.0)
    with pytest.raises(GatewayError, match="failed") as refused:
        gateway.send("Bonjour", [A])
    assert refused.value.may_have_reached is False  # no connection: the request never left


def test_an_answer_slower_than_the_timeout_may_have_reached_the_gateway(standin) -> None:
    control(standin, "faults", {"delay_seconds": 1.5, "count": 1})
    gateway = AfricasTalkingGateway("sandbox", API_KEY, api_url=standin, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(GatewayError) as timed_out:
        gateway.send("Bonjour", [A])
    assert time.monotonic() - started < 1.2
    assert timed_out.value.may_have_reached is True  # the request was out: it may be sent


def test_a_blacklisted_number_is_final_and_the_others_are_sent(gateway, standin) -> None:
    control(standin, "faults", {"reject": {B: 406}})
    results = gateway.send("Bonjour", [A, B, C])
    assert [r.outcome for r in results] == ["sent", "final", "sent"]
    refused = results[1]
    assert (refused.status_code, refused.status, refused.message_id) == (
        406,
        "UserInBlacklist",
        None,
    )
    assert [m["number"] for m in control(standin, "messages")["messages"]] == [A, C]


@pytest.mark.parametrize("code", [500, 501, 502])
def test_a_per_number_5xx_is_retried_later(gateway, standin, code: int) -> None:
    control(standin, "faults", {"reject": {A: code}})
    results = gateway.send("Bonjour", [A, B])
    assert [(r.status_code, r.outcome) for r in results] == [(code, "retry"), (101, "sent")]
    assert results[0].may_have_reached is False  # the gateway said it failed


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (100, "sent"),
        (102, "sent"),
        (401, "retry"),
        (402, "final"),
        (403, "final"),
        (404, "final"),
        (405, "retry"),
        (407, "final"),
        (409, "final"),
    ],
)
def test_each_documented_status_code_maps_to_its_outcome(gateway, standin, code, outcome) -> None:
    control(standin, "faults", {"reject": {A: code}})
    [result] = gateway.send("Bonjour", [A])
    assert (result.status_code, result.outcome) == (code, outcome)


def test_every_documented_status_code_has_a_deliberate_outcome() -> None:
    documented = {100, 101, 102, 401, 402, 403, 404, 405, 406, 407, 409, 500, 501, 502}
    assert set(OUTCOMES) == documented


def test_unknown_codes_are_sent_if_1xx_retried_if_5xx_and_final_otherwise() -> None:
    assert [outcome_for(c) for c in (103, 503, 408, 302)] == ["sent", "retry", "final", "final"]


def test_a_number_the_sdk_would_refuse_is_final_without_sinking_the_batch(gateway, standin) -> None:
    results = gateway.send("Bonjour", [A, "70000002", B])
    assert [r.outcome for r in results] == ["sent", "final", "sent"]
    assert results[1] == RecipientResult(
        "70000002", None, "InvalidPhoneNumber", None, None, "final"
    )
    assert control(standin, "requests")["requests"][0]["to"] == f"{A},{B}"


def test_an_empty_list_sends_nothing(gateway, standin) -> None:
    assert gateway.send("Bonjour", []) == []
    assert gateway.send("Bonjour", ["bad"])[0].outcome == "final"
    assert control(standin, "requests")["count"] == 0


def test_the_same_number_twice_gets_two_results(gateway, standin) -> None:
    results = gateway.send("Bonjour", [A, A])
    assert [r.outcome for r in results] == ["sent", "sent"]
    assert results[0].message_id != results[1].message_id


class Scripted:
    """A WSGI app answering every request with one fixed status, Content-Type and body."""

    def __init__(self, status: str, content_type: str, body: str) -> None:
        self.answer = (status, content_type, body.encode())

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        status, content_type, body = self.answer
        start_response(status, [("Content-Type", content_type)])
        return [body]


def send_against(app: Scripted, numbers: list[str]) -> list[RecipientResult]:
    with serve_in_thread(app) as server:
        return AfricasTalkingGateway("sandbox", "k", api_url=server.url).send("x", numbers)


def test_a_json_answer_with_a_charset_is_still_understood() -> None:
    # The SDK returns text unless Content-Type is exactly application/json.
    body = (
        '{"SMSMessageData": {"Message": "Sent to 1/1", "Recipients": [{"statusCode": "101",'
        f' "number": "{A}", "status": "Success", "cost": "XOF 25", "messageId": "ATXid_1"}}]}}}}'
    )
    [result] = send_against(Scripted("200 OK", "application/json; charset=utf-8", body), [A])
    assert result == RecipientResult(A, 101, "Success", "ATXid_1", "XOF 25", "sent")


def test_a_number_missing_from_the_answer_is_retried_as_a_possible_duplicate() -> None:
    body = (
        '{"SMSMessageData": {"Message": "Sent to 1/2", "Recipients": [{"statusCode": 101,'
        f' "number": "{A}", "status": "Success", "cost": "XOF 25", "messageId": "ATXid_1"}}]}}}}'
    )
    results = send_against(Scripted("200 OK", "application/json", body), [A, B])
    assert [(r.number, r.outcome, r.status_code) for r in results] == [
        (A, "sent", 101),
        (B, "retry", None),
    ]
    assert results[1].may_have_reached is True  # sent or not, the answer does not say


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html", "<html>maintenance</html>"),
        ("application/json", "{not json"),
        ("application/json", '{"error": "something else"}'),
        ("application/json", '{"SMSMessageData": {"Recipients": "none"}}'),
    ],
)
def test_an_unreadable_answer_is_a_gateway_error(content_type: str, body: str) -> None:
    with pytest.raises(GatewayError) as unreadable:
        send_against(Scripted("200 OK", content_type, body), [A])
    assert unreadable.value.may_have_reached is True  # a 200 the gateway may have acted on


def test_delivery_reports_reach_the_callback(gateway, standin, receiver) -> None:
    _, collector = receiver
    sent = gateway.send("Bonjour", [A, B])
    answer = control(
        standin,
        "deliver",
        {"status": "Failed", "failureReason": "UserIsInactive", "ids": [sent[1].message_id]},
    )
    assert answer == {"posted": 1, "errors": []}
    assert collector.posts == [
        {
            "id": sent[1].message_id,
            "status": "Failed",
            "phoneNumber": B,
            "networkCode": "99999",
            "failureReason": "UserIsInactive",
            "retryCount": "0",
        }
    ]


def test_the_adapter_refuses_an_sdk_that_ignores_base_url() -> None:
    class RenamedSDK(SMSService):
        def _make_url(self, path: str, content: Any = None) -> str:
            return "https://api.africastalking.com/version1" + path

    with pytest.raises(RuntimeError, match="_baseUrl"):
        _point_at(RenamedSDK("cscom", "k"), "http://127.0.0.1:1")
