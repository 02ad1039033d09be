"""The stand-in's outage windows and duplicate count, which the fault benchmark relies on."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from dev.standin import create_standin

A, B = "+22370000001", "+22370000002"
AUTH = {"apiKey": "any-key", "Accept": "application/json"}


@pytest.fixture
def client() -> FlaskClient:
    return create_standin().test_client()


def send(client: FlaskClient, to: str, message: str = "Bonjour") -> Any:
    form = {"username": "sandbox", "to": to, "message": message}
    return client.post("/version1/messaging", data=form, headers=AUTH)


def faults_in_requests(client: FlaskClient) -> list[tuple[int, str | None]]:
    made = client.get("/_standin/requests").get_json()["requests"]
    return [(r["http_status"], r["fault"]) for r in made]


def test_an_http_window_fails_every_request_until_it_ends(client) -> None:
    client.post("/_standin/faults", json={"http_status": 503, "seconds": 0.4})
    assert [send(client, A).status_code for _ in range(5)] == [503] * 5
    time.sleep(0.45)
    assert send(client, A).status_code == 200
    assert faults_in_requests(client) == [(503, "HTTP 503")] * 5 + [(200, None)]
    assert client.get("/_standin/faults").get_json() == {"pending": [], "reject": {}}


def test_a_delay_window_slows_every_request_and_still_accepts_them(client) -> None:
    client.post("/_standin/faults", json={"delay_seconds": 0.2, "seconds": 0.5})
    started = time.monotonic()
    assert [send(client, A, f"t{i}").status_code for i in range(2)] == [200, 200]
    assert time.monotonic() - started >= 0.4
    time.sleep(0.2)
    started = time.monotonic()
    send(client, A, "after")
    assert time.monotonic() - started < 0.2
    assert faults_in_requests(client) == [(200, "delayed 0.2 s")] * 2 + [(200, None)]
    assert [m["text"] for m in client.get("/_standin/messages").get_json()["messages"]] == [
        "t0",
        "t1",
        "after",
    ]


def test_a_pending_window_shows_the_seconds_left(client) -> None:
    client.post("/_standin/faults", json={"http_status": 500, "seconds": 30})
    (pending,) = client.get("/_standin/faults").get_json()["pending"]
    assert pending["http_status"] == 500 and pending["delay_seconds"] == 0
    assert 29 < pending["seconds_left"] <= 30
    assert "remaining" not in pending


def test_a_window_holds_back_count_faults_added_after_it(client) -> None:
    client.post("/_standin/faults", json={"http_status": 500, "seconds": 0.3})
    client.post("/_standin/faults", json={"http_status": 502, "count": 1})
    assert [send(client, A).status_code for _ in range(2)] == [500, 500]
    time.sleep(0.35)
    assert [send(client, A).status_code for _ in range(2)] == [502, 200]


@pytest.mark.parametrize(
    "body",
    [
        {"http_status": 500, "seconds": 0},
        {"http_status": 500, "seconds": "30"},
        {"http_status": 500, "seconds": True},
        {"http_status": 500, "seconds": 30, "count": 2},
        {"seconds": 30},
    ],
)
def test_a_malformed_window_is_refused_with_400(client, body: dict[str, Any]) -> None:
    answer = client.post("/_standin/faults", json=body)
    assert answer.status_code == 400
    assert "error" in answer.get_json()
    assert client.get("/_standin/faults").get_json() == {"pending": [], "reject": {}}


def test_duplicates_lists_each_number_and_text_accepted_more_than_once(client) -> None:
    send(client, f"{A},{B}", "Rappel")
    send(client, A, "Rappel")
    send(client, A, "Rappel")
    send(client, B, "Autre texte")
    ids = [
        m["id"]
        for m in client.get("/_standin/messages", query_string={"to": A}).get_json()["messages"]
        if m["text"] == "Rappel"
    ]
    found = client.get("/_standin/duplicates").get_json()
    assert found == {
        "count": 1,
        "extra_messages": 2,
        "duplicates": [{"number": A, "text": "Rappel", "times": 3, "ids": ids}],
    }
