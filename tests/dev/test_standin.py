"""The stand-in speaks the gateway's SMS API exactly and obeys its control API."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from dev.standin import create_standin, serve_in_thread
from flows.smstext import sms_cost
from gateway.africastalking import AfricasTalkingGateway
from tests.gateway.conftest import Collector

A, B = "+22370000001", "+22370000002"
AUTH = {"apiKey": "any-key", "Accept": "application/json"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client() -> FlaskClient:
    return create_standin().test_client()


def send(client: FlaskClient, to: str, message: str = "Bonjour", **fields: str) -> Any:
    form = {"username": "sandbox", "to": to, "message": message, "bulkSMSMode": "1", **fields}
    return client.post("/version1/messaging", data=form, headers=AUTH)


def recorded(client: FlaskClient, to: str | None = None) -> list[dict[str, Any]]:
    query = {"to": to} if to else {}
    return client.get("/_standin/messages", query_string=query).get_json()["messages"]


def test_a_send_answers_the_gateway_json_shape_with_exact_content_type(client) -> None:
    answer = send(client, f"{A},{B}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"  # the SDK compares with ==
    data = answer.get_json()
    assert list(data) == ["SMSMessageData"]
    assert data["SMSMessageData"]["Message"] == "Sent to 2/2 Total Cost: XOF 50"
    recipients = data["SMSMessageData"]["Recipients"]
    assert [set(r) for r in recipients] == [
        {"statusCode", "number", "status", "cost", "messageId"}
    ] * 2
    assert [(r["statusCode"], r["number"], r["status"], r["cost"]) for r in recipients] == [
        (101, A, "Success", "XOF 25"),
        (101, B, "Success", "XOF 25"),
    ]
    assert all(re.fullmatch(r"ATXid_[0-9a-f]{32}", r["messageId"]) for r in recipients)


def test_every_accepted_message_is_recorded_with_id_number_text_sender_and_time(client) -> None:
    answer = send(client, A, "Rappel", **{"from": "CSCOM"}).get_json()
    [message] = recorded(client)
    assert message["id"] == answer["SMSMessageData"]["Recipients"][0]["messageId"]
    assert (message["number"], message["text"], message["sender"]) == (A, "Rappel", "CSCOM")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", message["time"])


def test_messages_can_be_filtered_by_number(client) -> None:
    send(client, f"{A},{B}")
    send(client, A, "encore")
    assert [m["text"] for m in recorded(client, to=A)] == ["Bonjour", "encore"]
    assert len(recorded(client)) == 3


def test_without_an_api_key_the_answer_is_a_401_json_error(client) -> None:
    form = {"username": "sandbox", "to": A, "message": "x"}
    answer = client.post("/version1/messaging", data=form)
    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/json"
    assert "error" in answer.get_json()
    assert recorded(client) == []


def test_a_configured_api_key_rejects_any_other() -> None:
    client = create_standin(api_key="right").test_client()
    form = {"username": "sandbox", "to": A, "message": "x"}
    wrong = client.post("/version1/messaging", data=form, headers={"apiKey": "wrong"})
    right = client.post("/version1/messaging", data=form, headers={"apiKey": "right"})
    assert (wrong.status_code, right.status_code) == (401, 200)


def test_a_missing_form_field_is_a_400(client) -> None:
    answer = client.post("/version1/messaging", data={"username": "sandbox", "to": A}, headers=AUTH)
    assert answer.status_code == 400
    assert b"message" in answer.data


def test_an_invalid_number_gets_403_for_that_recipient_only(client) -> None:
    answer = send(client, f"{A},0022370000002,+2237abc").get_json()["SMSMessageData"]
    assert [(r["statusCode"], r["status"]) for r in answer["Recipients"]] == [
        (101, "Success"),
        (403, "InvalidPhoneNumber"),
        (403, "InvalidPhoneNumber"),
    ]
    assert [(r["messageId"], r["cost"]) for r in answer["Recipients"][1:]] == [("None", "0")] * 2
    assert answer["Message"] == "Sent to 1/3 Total Cost: XOF 25"
    assert [m["number"] for m in recorded(client)] == [A]


@pytest.mark.parametrize(
    "path", ["/messaging", "/version2/messaging", "/version1/messaging/bulk", "/version1/user"]
)
def test_any_other_path_is_a_404(client, path: str) -> None:
    assert client.post(path, data={"to": A}, headers=AUTH).status_code == 404


def test_cost_counts_segments_in_gsm7_and_ucs2(client) -> None:
    def cost(text: str) -> str:
        return send(client, A, text).get_json()["SMSMessageData"]["Recipients"][0]["cost"]

    assert cost("é" * 160) == "XOF 25"  # é is GSM-7
    assert cost("a" * 161) == "XOF 50"
    assert cost("ɛ" * 70) == "XOF 25"  # Bambara ɛ makes it UCS-2
    assert cost("ɛ" * 71) == "XOF 50"


def test_cost_is_priced_by_the_one_codec(client) -> None:
    """The stand-in bills what flows.smstext bills, even where a naive count would differ."""
    straddling = "a" * 152 + "€" + "a" * 152  # 306 septets, but the escape pair cannot split
    for text in ("a" * 306, "a" * 307, "€" * 80, "€" * 81, "ç" * 70, "ç" + "a" * 70, straddling):
        answer = send(client, A, text).get_json()["SMSMessageData"]["Recipients"][0]
        assert answer["cost"] == f"XOF {25 * sms_cost(text).segments}"
    assert sms_cost(straddling).segments == 3


def test_a_reset_forgets_messages_requests_faults_and_rejections(client) -> None:
    send(client, A)
    client.post("/_standin/faults", json={"http_status": 500, "count": 3, "reject": {B: 406}})
    assert client.post("/_standin/reset").get_json() == {"ok": True}
    assert recorded(client) == []
    assert client.get("/_standin/requests").get_json()["count"] == 0
    assert client.get("/_standin/faults").get_json() == {"pending": [], "reject": {}}
    assert send(client, B).get_json()["SMSMessageData"]["Recipients"][0]["statusCode"] == 101


def test_an_http_fault_fails_exactly_count_requests_then_clears(client) -> None:
    client.post("/_standin/faults", json={"http_status": 503, "count": 2})
    statuses = [send(client, A).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert len(recorded(client)) == 1
    assert [r["http_status"] for r in client.get("/_standin/requests").get_json()["requests"]] == [
        503,
        503,
        200,
    ]


def test_a_delay_fault_slows_the_answer_but_still_sends(client) -> None:
    client.post("/_standin/faults", json={"delay_seconds": 0.3})
    started = time.monotonic()
    assert send(client, A).status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    send(client, A)
    assert time.monotonic() - started < 0.3
    assert len(recorded(client)) == 2


def test_faults_apply_in_the_order_they_were_added(client) -> None:
    client.post("/_standin/faults", json={"http_status": 500})
    client.post("/_standin/faults", json={"http_status": 502})
    assert [send(client, A).status_code for _ in range(3)] == [500, 502, 200]


def test_per_number_codes_stay_until_reset_and_1xx_codes_are_accepted(client) -> None:
    client.post("/_standin/faults", json={"reject": {A: 406, B: 102}})
    for _ in range(2):
        answer = send(client, f"{A},{B}").get_json()["SMSMessageData"]["Recipients"]
        assert [(r["statusCode"], r["status"]) for r in answer] == [
            (406, "UserInBlacklist"),
            (102, "Queued"),
        ]
    assert [m["number"] for m in recorded(client)] == [B, B]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"http_status": 200},
        {"http_status": "500"},
        {"count": 0, "http_status": 500},
        {"delay_seconds": -1},
        {"reject": {A: "406"}},
        {"reject": [A]},
        {"status": 500},
    ],
)
def test_a_malformed_fault_is_refused_with_400(client, body: dict[str, Any]) -> None:
    answer = client.post("/_standin/faults", json=body)
    assert answer.status_code == 400
    assert "error" in answer.get_json()
    assert client.get("/_standin/faults").get_json() == {"pending": [], "reject": {}}


def test_deliver_posts_one_report_per_recorded_message(receiver) -> None:
    url, collector = receiver
    client = create_standin(url).test_client()
    send(client, f"{A},{B}")
    answer = client.post("/_standin/deliver", json={"status": "Success"}).get_json()
    assert answer == {"posted": 2, "errors": []}
    ids = [m["id"] for m in recorded(client)]
    assert collector.posts == [
        {
            "id": ids[0],
            "status": "Success",
            "phoneNumber": A,
            "networkCode": "99999",
            "retryCount": "0",
        },
        {
            "id": ids[1],
            "status": "Success",
            "phoneNumber": B,
            "networkCode": "99999",
            "retryCount": "0",
        },
    ]
    assert [m["delivery_status"] for m in recorded(client)] == ["Success", "Success"]


def test_deliver_can_name_messages_and_a_failure_reason(receiver) -> None:
    url, collector = receiver
    client = create_standin(url).test_client()
    send(client, f"{A},{B}")
    second = recorded(client)[1]["id"]
    body = {"status": "Rejected", "failureReason": "UserInBlackList", "ids": [second, "ATXid_x"]}
    answer = client.post("/_standin/deliver", json=body).get_json()
    assert answer["posted"] == 1
    assert answer["errors"] == ["ATXid_x: unknown message id"]
    assert [(p["id"], p["status"], p["failureReason"]) for p in collector.posts] == [
        (second, "Rejected", "UserInBlackList")
    ]


def test_a_failed_report_without_reason_says_delivery_failure(receiver) -> None:
    url, collector = receiver
    client = create_standin(url).test_client()
    send(client, A)
    client.post("/_standin/deliver", json={"status": "Failed"})
    assert collector.posts[0]["failureReason"] == "DeliveryFailure"


def test_deliver_counts_only_reports_the_receiver_acknowledged() -> None:
    with serve_in_thread(Collector(status="500 INTERNAL SERVER ERROR")) as server:
        client = create_standin(server.url).test_client()
        send(client, A)
        answer = client.post("/_standin/deliver", json={}).get_json()
    assert answer["posted"] == 0
    assert answer["errors"][0].endswith("HTTP 500")


def test_deliver_needs_a_url_and_a_known_status(client, receiver) -> None:
    assert client.post("/_standin/deliver", json={}).status_code == 409
    bad = client.post("/_standin/deliver", json={"status": "Delivered", "url": receiver[0]})
    assert bad.status_code == 400


def test_auto_deliver_posts_success_for_each_accepted_message(receiver) -> None:
    url, collector = receiver
    client = create_standin(url, auto_deliver=True, auto_deliver_delay=0).test_client()
    send(client, f"{A},{B},+1")
    deadline = time.monotonic() + 5
    while len(collector.posts) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sorted((p["phoneNumber"], p["status"]) for p in collector.posts) == [
        (A, "Success"),
        (B, "Success"),
    ]


def test_auto_deliver_without_a_url_is_refused() -> None:
    with pytest.raises(ValueError):
        create_standin(auto_deliver=True)


def test_concurrent_sends_are_all_recorded_once() -> None:
    app = create_standin()

    def sender() -> None:
        client = app.test_client()
        for _ in range(25):
            send(client, f"{A},{B}")

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    messages = recorded(app.test_client())
    assert len(messages) == 8 * 25 * 2
    assert len({m["id"] for m in messages}) == len(messages)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.parametrize("server", ["granian", "werkzeug"])
def test_the_command_line_serves_the_sdk(server: str) -> None:
    port = free_port()
    command = [sys.executable, "-m", "dev.standin", "--port", str(port), "--server", server]
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                requests.get(base + "/_standin/messages", timeout=1)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "stand-in did not start"
                time.sleep(0.1)
        gateway = AfricasTalkingGateway("sandbox", "k", api_url=base)
        assert [r.outcome for r in gateway.send("Bonjour", [A, B])] == ["sent", "sent"]
        assert requests.get(base + "/_standin/messages", timeout=5).json()["count"] == 2
    finally:
        process.terminate()
        process.wait(timeout=10)
