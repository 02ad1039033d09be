"""A local stand-in for Africa's Talking's SMS API.

It speaks the gateway's `POST /version1/messaging` exactly as the official SDK expects it (form
fields in, `application/json` out), so development, tests and benchmarks run the real SDK code
path against it: only the base URL differs (see `gateway.africastalking`). State lives in memory,
which is why it must run as a single process.

Besides the API it offers a JSON control API under `/_standin/` so tests and the demo can read
what was "sent", inject faults and trigger delivery reports:

- `GET  /_standin/messages[?to=+223...]`  every accepted message
- `GET  /_standin/requests`               every messaging request with the HTTP status answered
                                          and the fault applied to it, if any
- `GET  /_standin/duplicates`             each (number, text) accepted more than once
- `POST /_standin/reset`                  forget messages, requests, faults and rejections
- `GET|POST /_standin/faults`             `{"http_status": 500, "count": 2}`,
  `{"delay_seconds": 3, "count": 1}`, `{"reject": {"+22370000001": 406}}`; with `"seconds": 30`
  instead of a count, every request of the next 30 seconds gets the fault (an outage)
- `POST /_standin/deliver`                `{"status": "Failed", "failureReason": "...",
  "ids": [...]}` posts delivery reports to the delivery URL and says how many were posted

Run it with `python -m dev.standin --port 8765 [--delivery-url URL] [--auto-deliver]`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import re
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from flask import Flask, Response, request
from werkzeug.serving import make_server

from flows.smstext import sms_cost

# What the gateway calls each per-recipient status code (protocol notes). 101 is "Success" in
# real answers even though the documentation's table names it "Sent".
STATUS_NAMES: dict[int, str] = {
    100: "Processed",
    101: "Success",
    102: "Queued",
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    409: "DoNotDisturbRejection",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}
ACCEPTED_CODES = frozenset({100, 101, 102})
DELIVERY_STATUSES = frozenset(
    {
        "Sent",
        "Submitted",
        "Buffered",
        "Rejected",
        "Success",
        "Failed",
        "AbsentSubscriber",
        "Expired",
    }
)
CURRENCY = "XOF"
PRICE_PER_SEGMENT = 25
SANDBOX_NETWORK_CODE = "99999"

# E.164: a plus and 4 to 15 digits, no leading zero. Stricter than the SDK's own check on
# purpose, so that an app which forgets to normalise numbers finds out in development.
_VALID_NUMBER = re.compile(r"\+[1-9]\d{3,14}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class RecordedMessage:
    """One accepted message to one number, as the gateway would have queued it."""

    id: str
    number: str
    text: str
    sender: str | None
    time: str
    status_code: int
    cost: str
    delivery_status: str | None = None


@dataclass
class _Fault:
    """A whole-request fault: for the next `remaining` messaging requests or, when `until` is
    set, for every request until that moment (`time.monotonic()`), however many come.

    Windows are what an outage looks like to a sender: a count fault lets a fast client run
    through it in a blink, while a 30-second outage fails everything sent in those 30 seconds.
    """

    http_status: int | None
    delay_seconds: float
    remaining: int
    until: float | None = None

    def expired(self, now: float) -> bool:
        return self.until is not None and self.until <= now

    def describe(self, now: float) -> dict[str, Any]:
        """What `GET /_standin/faults` shows: a count fault's uses left, a window's seconds."""
        shown: dict[str, Any] = {
            "http_status": self.http_status,
            "delay_seconds": self.delay_seconds,
        }
        if self.until is None:
            shown["remaining"] = self.remaining
        else:
            shown["seconds_left"] = round(self.until - now, 3)
        return shown

    def label(self) -> str:
        """How a request's record names the fault it got."""
        if self.http_status is not None:
            return f"HTTP {self.http_status}"
        return f"delayed {self.delay_seconds:g} s"


class StandinState:
    """Everything the stand-in remembers; every method takes the lock, so it is thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[RecordedMessage] = []
        self._requests: list[dict[str, Any]] = []
        self._faults: deque[_Fault] = deque()
        self._reject: dict[str, int] = {}

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._requests.clear()
            self._faults.clear()
            self._reject.clear()

    def record_message(self, message: RecordedMessage) -> None:
        with self._lock:
            self._messages.append(message)

    def record_request(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(entry)

    def messages(self, to: str | None = None) -> list[RecordedMessage]:
        with self._lock:
            return [m for m in self._messages if to is None or m.number == to]

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._requests)

    def find(self, ids: list[str]) -> tuple[list[RecordedMessage], list[str]]:
        """The messages with these ids, and the ids nobody recorded."""
        with self._lock:
            by_id = {m.id: m for m in self._messages}
        return [by_id[i] for i in ids if i in by_id], [i for i in ids if i not in by_id]

    def set_delivery_status(self, message: RecordedMessage, status: str) -> None:
        with self._lock:
            message.delivery_status = status

    def add_fault(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take_fault(self) -> _Fault | None:
        """The fault for the request arriving now: the oldest pending one, in the order they
        were added. A count fault loses one use; a window stays until it expires."""
        with self._lock:
            self._drop_expired(time.monotonic())
            if not self._faults:
                return None
            fault = self._faults[0]
            if fault.until is None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.popleft()
            return fault

    def _drop_expired(self, now: float) -> None:
        """Forget windows that have ended (the caller holds the lock)."""
        self._faults = deque(f for f in self._faults if not f.expired(now))

    def reject(self, codes: dict[str, int]) -> None:
        with self._lock:
            self._reject.update(codes)

    def status_for(self, number: str) -> int:
        with self._lock:
            forced = self._reject.get(number)
        if forced is not None:
            return forced
        return 101 if _VALID_NUMBER.fullmatch(number) else 403

    def faults(self) -> dict[str, Any]:
        with self._lock:
            now = time.monotonic()
            self._drop_expired(now)
            return {
                "pending": [f.describe(now) for f in self._faults],
                "reject": dict(self._reject),
            }

    def duplicates(self) -> list[dict[str, Any]]:
        """Each (number, text) accepted more than once, with its message ids in order.

        What a phone would show as the same SMS twice: fault benchmarks compare it with the
        rows the sender marked as possible duplicates.
        """
        by_pair: dict[tuple[str, str], list[str]] = {}
        with self._lock:
            for m in self._messages:
                by_pair.setdefault((m.number, m.text), []).append(m.id)
        return [
            {"number": number, "text": text, "times": len(ids), "ids": ids}
            for (number, text), ids in by_pair.items()
            if len(ids) > 1
        ]


def _json(body: Any, status: int = 200) -> Response:
    """A JSON answer whose Content-Type is exactly `application/json`.

    The SDK compares the header with `==`: a `; charset=utf-8` suffix would make it hand the
    caller a string instead of parsed JSON.
    """
    response = Response(json.dumps(body), status=status)
    response.headers["Content-Type"] = "application/json"
    return response


def _text(body: str, status: int) -> Response:
    return Response(body, status=status, content_type="text/plain")


def _recipient(
    state: StandinState, number: str, text: str, sender: str | None
) -> tuple[dict[str, Any], RecordedMessage | None]:
    """Decide one recipient's fate; answer its gateway entry and, when accepted, its record."""
    code = state.status_for(number)
    entry: dict[str, Any] = {
        "statusCode": code,
        "number": number,
        "status": STATUS_NAMES.get(code, "Unknown"),
        "cost": "0",
        "messageId": "None",  # what the gateway puts for a recipient it did not accept
    }
    if code not in ACCEPTED_CODES:
        return entry, None
    entry["cost"] = f"{CURRENCY} {PRICE_PER_SEGMENT * sms_cost(text).segments}"
    entry["messageId"] = f"ATXid_{uuid.uuid4().hex}"
    message = RecordedMessage(
        id=entry["messageId"],
        number=number,
        text=text,
        sender=sender,
        time=_now(),
        status_code=code,
        cost=entry["cost"],
    )
    state.record_message(message)
    return entry, message


def _sms_data(recipients: list[dict[str, Any]]) -> dict[str, Any]:
    accepted = [r for r in recipients if r["statusCode"] in ACCEPTED_CODES]
    total = sum(int(r["cost"].split()[1]) for r in accepted)
    summary = f"Sent to {len(accepted)}/{len(recipients)} Total Cost: {CURRENCY} {total}"
    return {"SMSMessageData": {"Message": summary, "Recipients": recipients}}


def _post_report(url: str, message: RecordedMessage, status: str, reason: str | None) -> str | None:
    """POST one delivery report form; returns an error description, or None when acknowledged."""
    form = {
        "id": message.id,
        "status": status,
        "phoneNumber": message.number,
        "networkCode": SANDBOX_NETWORK_CODE,
        "retryCount": "0",
    }
    if reason is None and status in ("Failed", "Rejected"):
        reason = "DeliveryFailure"
    if reason:
        form["failureReason"] = reason
    try:
        answer = requests.post(url, data=form, timeout=5)
    except requests.RequestException as exc:
        return f"{message.id}: {exc.__class__.__name__}: {exc}"
    if not 200 <= answer.status_code < 300:
        return f"{message.id}: HTTP {answer.status_code}"
    return None


class _AutoDeliverer:
    """Posts a `Success` report for each accepted message, a little later, from one thread.

    For the demo: the app sees its messages "reach the handset" without anybody clicking.
    Reports go out one at a time in acceptance order; a failed post is dropped, not retried.
    """

    def __init__(self, state: StandinState, url: str, delay: float) -> None:
        self._state = state
        self._url = url
        self._delay = delay
        self._queue: queue.Queue[tuple[float, RecordedMessage]] = queue.Queue()
        threading.Thread(target=self._run, name="standin-auto-deliver", daemon=True).start()

    def enqueue(self, message: RecordedMessage) -> None:
        self._queue.put((time.monotonic() + self._delay, message))

    def _run(self) -> None:
        while True:
            due, message = self._queue.get()
            time.sleep(max(0.0, due - time.monotonic()))
            if _post_report(self._url, message, "Success", None) is None:
                self._state.set_delivery_status(message, "Success")


def create_standin(
    callback_url: str | None = None,
    *,
    api_key: str | None = None,
    auto_deliver: bool = False,
    auto_deliver_delay: float = 1.0,
) -> Flask:
    """Build the stand-in WSGI app.

    `callback_url` is where delivery reports go. `api_key`, when given, is the only key
    accepted (to test a wrong key); otherwise any non-empty `apiKey` header passes.
    `auto_deliver` posts a `Success` report `auto_deliver_delay` seconds after each accepted
    message, from a background thread started here (so, under a pre-forking server, call this
    in the worker process).
    """
    if auto_deliver and not callback_url:
        raise ValueError("auto_deliver needs a callback_url to post the reports to")
    app = Flask(__name__)
    state = StandinState()
    app.extensions["standin"] = state
    deliverer = (
        _AutoDeliverer(state, callback_url, auto_deliver_delay)
        if auto_deliver and callback_url
        else None
    )
    _add_messaging_route(app, state, api_key, deliverer)
    _add_control_routes(app, state, callback_url)
    return app


def _add_messaging_route(
    app: Flask, state: StandinState, api_key: str | None, deliverer: _AutoDeliverer | None
) -> None:
    @app.post("/version1/messaging")
    def messaging() -> Response:
        response, accepted, fault = _answer_messaging(state, api_key)
        state.record_request(
            {
                "time": _now(),
                "http_status": response.status_code,
                "fault": fault.label() if fault is not None else None,
                "username": request.form.get("username"),
                "to": request.form.get("to", ""),
                "from": request.form.get("from"),
                "enqueue": request.form.get("enqueue"),
                "bulkSMSMode": request.form.get("bulkSMSMode"),
            }
        )
        if deliverer is not None:
            for message in accepted:
                deliverer.enqueue(message)
        return response


def _answer_messaging(
    state: StandinState, api_key: str | None
) -> tuple[Response, list[RecordedMessage], _Fault | None]:
    """The gateway's answer to one send request, after any injected fault; what it accepted;
    and the fault it applied.

    A delay fault sleeps before the message is recorded: like the real gateway, a client that
    gave up waiting cannot know whether its message went out.
    """
    fault = state.take_fault()
    if fault is not None:
        time.sleep(fault.delay_seconds)
        if fault.http_status is not None:
            status = fault.http_status
            return _text(f"Injected fault: HTTP {status}", status), [], fault
    response, accepted = _accept(state, api_key)
    return response, accepted, fault


def _accept(state: StandinState, api_key: str | None) -> tuple[Response, list[RecordedMessage]]:
    """The answer to a send request that no fault stopped, and the messages it accepted."""
    given_key = request.headers.get("apiKey", "")
    if not given_key or (api_key is not None and given_key != api_key):
        return _json({"error": "The supplied authentication is invalid"}, 401), []
    form = request.form
    for field in ("username", "to", "message"):
        if not form.get(field):
            return _text(f"Request is missing required form field '{field}'", 400), []
    numbers = [n.strip() for n in form["to"].split(",") if n.strip()]
    sender = form.get("from") or None
    answered = [_recipient(state, n, form["message"], sender) for n in numbers]
    recipients = [entry for entry, _ in answered]
    return _json(_sms_data(recipients)), [m for _, m in answered if m is not None]


def _add_control_routes(app: Flask, state: StandinState, callback_url: str | None) -> None:
    @app.get("/_standin/messages")
    def messages() -> Response:
        found = state.messages(request.args.get("to"))
        return _json({"count": len(found), "messages": [asdict(m) for m in found]})

    @app.get("/_standin/requests")
    def requests_made() -> Response:
        made = state.requests()
        return _json({"count": len(made), "requests": made})

    @app.get("/_standin/duplicates")
    def duplicates() -> Response:
        found = state.duplicates()
        extra = sum(d["times"] - 1 for d in found)
        return _json({"count": len(found), "extra_messages": extra, "duplicates": found})

    @app.post("/_standin/reset")
    def reset() -> Response:
        state.reset()
        return _json({"ok": True})

    @app.get("/_standin/faults")
    def show_faults() -> Response:
        return _json(state.faults())

    @app.post("/_standin/faults")
    def add_faults() -> Response:
        try:
            _apply_faults(state, request.get_json(force=True, silent=True))
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)
        return _json(state.faults())

    @app.post("/_standin/deliver")
    def deliver() -> Response:
        return _deliver(state, request.get_json(force=True, silent=True) or {}, callback_url)


def _apply_faults(state: StandinState, body: Any) -> None:
    """Validate a faults request and register it; raises ValueError with a readable reason."""
    if not isinstance(body, dict) or not body:
        raise ValueError('expected a JSON object such as {"http_status": 500, "count": 2}')
    unknown = set(body) - {"http_status", "delay_seconds", "count", "seconds", "reject"}
    if unknown:
        raise ValueError(f"unknown keys: {sorted(unknown)}")
    reject = body.get("reject", {})
    if not isinstance(reject, dict) or not all(
        isinstance(code, int) and not isinstance(code, bool) for code in reject.values()
    ):
        raise ValueError("reject maps numbers to integer status codes")
    http_status = body.get("http_status")
    if http_status is not None and (
        not isinstance(http_status, int) or not 400 <= http_status < 600
    ):
        raise ValueError("http_status must be an integer from 400 to 599")
    delay = body.get("delay_seconds", 0)
    if not isinstance(delay, int | float) or delay < 0:
        raise ValueError("delay_seconds must be a non-negative number")
    count = body.get("count", 1)
    if not isinstance(count, int) or count < 1:
        raise ValueError("count must be a positive integer")
    seconds = body.get("seconds")
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0
    ):
        raise ValueError("seconds must be a positive number")
    if seconds is not None and "count" in body:
        raise ValueError("give count (requests) or seconds (a window), not both")
    if seconds is not None and http_status is None and not delay:
        raise ValueError("seconds needs an http_status or a delay_seconds to apply")
    state.reject(reject)
    if http_status is not None or delay:
        until = None if seconds is None else time.monotonic() + seconds
        state.add_fault(_Fault(http_status, float(delay), count, until))


def _deliver(state: StandinState, body: dict[str, Any], callback_url: str | None) -> Response:
    """Post one delivery report per chosen message; answer how many the receiver acknowledged."""
    url = body.get("url") or callback_url
    if not url:
        return _json({"error": "no delivery URL: start with --delivery-url or pass url"}, 409)
    status = body.get("status", "Success")
    if status not in DELIVERY_STATUSES:
        return _json({"error": f"status must be one of {sorted(DELIVERY_STATUSES)}"}, 400)
    ids = body.get("ids")
    if ids is None:
        chosen, unknown = state.messages(), []
    else:
        chosen, unknown = state.find(list(ids))
    errors = [f"{i}: unknown message id" for i in unknown]
    posted = 0
    for message in chosen:
        error = _post_report(url, message, status, body.get("failureReason"))
        if error is None:
            posted += 1
            state.set_delivery_status(message, status)
        else:
            errors.append(error)
    return _json({"posted": posted, "errors": errors})


@dataclass(frozen=True)
class RunningServer:
    """A WSGI app served on loopback by a background thread."""

    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningServer]:
    """Serve `app` with werkzeug's threaded server on a free port for the `with` block.

    For tests and in-process demos: a real socket, so the SDK's real HTTP code path runs.
    """
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},  # shutdown waits one poll: keep test teardown quick
        name="standin-server",
        daemon=True,
    )
    thread.start()
    try:
        yield RunningServer(host, server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# Configuration handed to the granian worker process through its environment: granian imports
# the app by name in a child process, so arguments cannot be passed as Python values.
_ENV_PREFIX = "GATEWAY_STANDIN_"


def app_from_env() -> Flask:
    """App factory for granian: reads the options `main` put in the environment."""
    env = os.environ
    return create_standin(
        env.get(_ENV_PREFIX + "DELIVERY_URL") or None,
        api_key=env.get(_ENV_PREFIX + "API_KEY") or None,
        auto_deliver=env.get(_ENV_PREFIX + "AUTO_DELIVER") == "1",
        auto_deliver_delay=float(env.get(_ENV_PREFIX + "AUTO_DELIVER_DELAY", "1.0")),
    )


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m dev.standin", description="Local stand-in for Africa's Talking SMS."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--delivery-url", help="where delivery reports are POSTed")
    parser.add_argument("--api-key", help="accept only this apiKey (default: any non-empty)")
    parser.add_argument(
        "--auto-deliver", action="store_true", help="post a Success report for every message"
    )
    parser.add_argument("--auto-deliver-delay", type=float, default=1.0, metavar="SECONDS")
    parser.add_argument(
        "--server",
        choices=("granian", "werkzeug"),
        default="granian",
        help="granian (default, fast) or werkzeug's threaded dev server",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=8,
        help="granian blocking threads: they mostly wait (delay faults), so granian's warning "
        "about more threads than 2 x CPUs + 1 is harmless here",
    )
    args = parser.parse_args(argv)
    if args.auto_deliver and not args.delivery_url:
        parser.error("--auto-deliver needs --delivery-url")
    return args


def _serve_granian(args: argparse.Namespace) -> None:
    """One granian worker process (state is in memory) with a few blocking threads."""
    from granian import Granian
    from granian.constants import Interfaces

    os.environ.update(
        {
            _ENV_PREFIX + "DELIVERY_URL": args.delivery_url or "",
            _ENV_PREFIX + "API_KEY": args.api_key or "",
            _ENV_PREFIX + "AUTO_DELIVER": "1" if args.auto_deliver else "0",
            _ENV_PREFIX + "AUTO_DELIVER_DELAY": str(args.auto_deliver_delay),
        }
    )
    Granian(
        "dev.standin:app_from_env",
        address=args.host,
        port=args.port,
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=args.threads,
        factory=True,
        log_access=False,
    ).serve()


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    print(f"Africa's Talking stand-in on http://{args.host}:{args.port}/version1", file=sys.stderr)
    if args.server == "granian":
        _serve_granian(args)
        return
    app = create_standin(
        args.delivery_url,
        api_key=args.api_key,
        auto_deliver=args.auto_deliver,
        auto_deliver_delay=args.auto_deliver_delay,
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per request
    make_server(args.host, args.port, app, threaded=True).serve_forever()


if __name__ == "__main__":
    main()
