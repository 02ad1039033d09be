"""The one adapter between this service and Africa's Talking's official SDK (2.0.3).

Everything that knows about the SDK lives here: how to point it at a stand-in (a private
attribute, there is no public setting), which exceptions it lets through, and what its
per-recipient status codes mean for our retry logic. It implements `gateway.base.Gateway`:
callers see `RecipientResult`s and `GatewayError`, never SDK types, so another provider's
adapter can stand beside it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from africastalking.Service import AfricasTalkingException, validate_phone
from africastalking.SMS import SMSService
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from gateway.base import Batch, GatewayError, Outcome, RecipientResult

log = logging.getLogger(__name__)

# What each per-recipient statusCode means for the caller (the outcomes of gateway.base).
#
# | code | name                  | outcome | why                                                    |
# |------|-----------------------|---------|--------------------------------------------------------|
# | 100  | Processed             | sent    |                                                        |
# | 101  | Sent (status Success) | sent    |                                                        |
# | 102  | Queued                | sent    | typical with enqueue=1                                 |
# | 401  | RiskHold              | retry   | an account-level fraud hold the gateway's staff lift;  |
# |      |                       |         | the number is fine and the message still wanted        |
# | 402  | InvalidSenderId       | final   | configuration, not transient: every retry fails alike  |
# |      |                       |         | until the sender id is approved; needs an operator     |
# | 403  | InvalidPhoneNumber    | final   |                                                        |
# | 404  | UnsupportedNumberType | final   |                                                        |
# | 405  | InsufficientBalance   | retry   | account-wide; a top-up fixes it and reminders must not |
# |      |                       |         | be lost meanwhile (alert: every number will get it)    |
# | 406  | UserInBlacklist       | final   | the person opted out; retrying ignores their choice    |
# | 407  | CouldNotRoute         | final   | no route to that number's network; in Mali that is     |
# |      |                       |         | coverage (operators absent from the gateway's lists),  |
# |      |                       |         | not a blip: retrying only burns attempts               |
# | 409  | DoNotDisturbRejection | final   | the subscriber's DND setting; respect it               |
# | 5xx  | Internal/Gateway/...  | retry   | the gateway's or operator's failure, worth retrying    |
#
# A code not in the table: 1xx is taken as sent, 5xx as retry, anything else as final (a
# retry loop on an unknown refusal could run forever, or send twice if it was an acceptance).
OUTCOMES: dict[int, Outcome] = {
    100: "sent",
    101: "sent",
    102: "sent",
    401: "retry",
    402: "final",
    403: "final",
    404: "final",
    405: "retry",
    406: "final",
    407: "final",
    409: "final",
    500: "retry",
    501: "retry",
    502: "retry",
}


def outcome_for(status_code: int) -> Outcome:
    """The caller's next step for one recipient's statusCode (see the table above)."""
    known = OUTCOMES.get(status_code)
    if known is not None:
        return known
    log.warning("unknown Africa's Talking recipient statusCode %s", status_code)
    if 100 <= status_code < 200:
        return "sent"
    return "retry" if 500 <= status_code < 600 else "final"


def _api_base(api_url: str) -> str:
    """`http://host:port` or `http://host:port/version1` both mean the API root."""
    base = api_url.rstrip("/")
    return base if base.endswith("/version1") else base + "/version1"


def _point_at(sms: SMSService, api_url: str) -> None:
    """Make the SDK service send to `api_url` instead of the gateway.

    The SDK has no public setting, so this sets its private `_baseUrl`/`_contentUrl`. Setting
    an attribute a new SDK version no longer reads would silently send real SMS through the
    live gateway from a development machine, so check the SDK really builds URLs from it.
    """
    base = _api_base(api_url)
    if not hasattr(sms, "_baseUrl") or not hasattr(sms, "_contentUrl"):
        raise RuntimeError("africastalking SDK no longer has _baseUrl/_contentUrl: update adapter")
    sms._baseUrl = base
    sms._contentUrl = base
    if sms._make_url("/messaging") != base + "/messaging":
        raise RuntimeError("africastalking SDK ignores _baseUrl: update gateway/africastalking.py")


class _KeepAliveSMSService(SMSService):
    """The SDK's SMS service, with one kept-alive HTTP session per thread.

    The SDK posts with the module-level `requests.post`: a new connection (and TLS handshake,
    against the real gateway) for every message, which halves a worker's throughput on
    personalised texts. Its private POST helper is the narrowest place to change that; the
    SDK still builds the request and reads the answer. A canary test fails if it is renamed.
    """

    _local = threading.local()

    def _Service__make_post_request(self, url, headers, data, params, timeout, callback=None):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session.post(url=url, headers=headers, params=params, data=data, timeout=timeout)


class AfricasTalkingGateway:
    """Sends one text to many numbers in one request through the official SDK."""

    def __init__(
        self,
        username: str,
        api_key: str,
        sender_id: str | None = None,
        api_url: str | None = None,
        timeout: float = 10.0,
        concurrency: int = 32,
    ) -> None:
        # A service instance of our own, not the SDK's `initialize`, which rebinds module
        # globals shared by everything in the process.
        self._sms = _KeepAliveSMSService(username, api_key)
        if api_url:
            _point_at(self._sms, api_url)
        self._sender_id = sender_id or None
        self._timeout = timeout
        self._concurrency = concurrency
        self._pool: ThreadPoolExecutor | None = None

    @property
    def concurrency(self) -> int:
        """Requests in flight at once: the size of the thread pool."""
        return self._concurrency

    @property
    def api_url(self) -> str:
        """Where requests go (for logs and health pages)."""
        return self._sms._baseUrl

    def send_all(self, batches: Sequence[Batch]) -> list[list[RecipientResult] | GatewayError]:
        """Send several (text, numbers) requests at once; each answers results or its error.

        Requests wait on the network, not the CPU, so they overlap on a pool of threads that
        lives as long as the gateway (starting threads per batch costs more than the sends).
        """
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="gateway")
        return list(self._pool.map(lambda batch: self._send_or_error(*batch), batches))

    def _send_or_error(
        self, text: str, numbers: Sequence[str]
    ) -> list[RecipientResult] | GatewayError:
        try:
            return self.send(text, numbers)
        except GatewayError as exc:
            return exc

    def send(self, text: str, numbers: Sequence[str]) -> list[RecipientResult]:
        """Send `text` to `numbers` in one request; one result per number, in order.

        A number the SDK would refuse locally (not `+` and digits) is answered "final" here
        instead of failing the whole batch. A number the gateway's answer leaves out is
        "retry". Raises GatewayError when the request as a whole failed.
        """
        valid = [n for n in numbers if validate_phone(n)]
        answered = self._request(text, valid) if valid else []
        by_number: dict[str, list[dict[str, Any]]] = {}
        for entry in answered:
            by_number.setdefault(str(entry.get("number")), []).append(entry)
        results = []
        for number in numbers:
            if not validate_phone(number):
                results.append(_local_refusal(number))
            elif by_number.get(number):
                results.append(_result(number, by_number[number].pop(0)))
            else:
                log.warning("Africa's Talking answer left out a number of the request; will retry")
                results.append(_missing(number))
        return results

    def _request(self, text: str, numbers: list[str]) -> list[dict[str, Any]]:
        """One SDK call; the answer's Recipients, or GatewayError.

        `enqueue=1` for more than one number: the gateway then queues the batch and answers
        at once instead of after handing every message to the operators, so a large batch
        does not run into our timeout (and get sent twice by the retry). A single number
        goes without it, to get the operator's immediate verdict.
        """
        options: dict[str, Any] = {"enqueue": len(numbers) > 1, "timeout": self._timeout}
        if self._sender_id is not None:
            options["sender_id"] = self._sender_id
        try:
            answer = self._sms.send(text, numbers, **options)
        except AfricasTalkingException as exc:  # non-2xx; the SDK keeps only the body text
            raise GatewayError(
                f"gateway refused the request: {str(exc)[:300]}", may_have_reached=False
            ) from exc
        except requests.RequestException as exc:  # timeout, refused, bad JSON in a JSON answer
            raise GatewayError(
                f"request to gateway failed: {exc}", may_have_reached=not _never_left(exc)
            ) from exc
        return _recipients(answer)


def _never_left(exc: requests.RequestException) -> bool:
    """True when the request provably never reached the gateway: no connection was made.

    Anything else (a read timeout, a connection reset while waiting for the answer) leaves
    the gateway free to have taken it.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if isinstance(exc, requests.ConnectionError) and exc.args else None
    return isinstance(cause, MaxRetryError) and isinstance(cause.reason, ConnectTimeoutError)


def _recipients(answer: Any) -> list[dict[str, Any]]:
    """The Recipients list of a send answer, which the SDK leaves as text unless the
    Content-Type is exactly `application/json` (a `; charset=` suffix is enough)."""
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except ValueError as exc:
            raise GatewayError(
                f"gateway answer is not JSON: {answer[:200]!r}", may_have_reached=True
            ) from exc
    try:
        recipients = answer["SMSMessageData"]["Recipients"]
    except (KeyError, TypeError) as exc:
        raise GatewayError(
            f"gateway answer has no Recipients: {str(answer)[:200]}", may_have_reached=True
        ) from exc
    if not isinstance(recipients, list):
        raise GatewayError(
            f"gateway Recipients is not a list: {recipients!r:.200}", may_have_reached=True
        )
    return [r for r in recipients if isinstance(r, dict)]


def _result(number: str, entry: dict[str, Any]) -> RecipientResult:
    """One recipient entry of the answer, tolerant of string codes and the "None" id."""
    try:
        code: int | None = int(entry.get("statusCode"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        code = None
    message_id = entry.get("messageId")
    cost = entry.get("cost")
    return RecipientResult(
        number=number,
        status_code=code,
        status=str(entry.get("status", "")),
        # The gateway writes the string "None" for a recipient it did not accept.
        message_id=str(message_id) if message_id not in (None, "", "None") else None,
        cost=str(cost) if cost is not None else None,
        outcome=outcome_for(code) if code is not None else "retry",
    )


def _local_refusal(number: str) -> RecipientResult:
    return RecipientResult(number, None, "InvalidPhoneNumber", None, None, "final")


def _missing(number: str) -> RecipientResult:
    """The answer left the number out: sent or not, we cannot tell."""
    return RecipientResult(
        number, None, "MissingFromAnswer", None, None, "retry", may_have_reached=True
    )
