"""A second gateway adapter, fake and in memory: what the outbox needs from any provider.

Its fixture is shared through tests/workers/conftest.py and the delivery-report tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from flask import Flask

from gateway.base import Batch, GatewayError, RecipientResult
from models import OutboundMessage, db


@dataclass
class FakeGateway:
    """Implements gateway.base.Gateway the way a second provider would, without a network.

    Numbers in `refuse` are answered "final"; `fail_next` requests fail as a whole with the
    given error; call number `crash_on_call` raises, failing the RQ job. Before each call it notes how many outbox rows are `sending`, which is what
    the outbox claimed for that call.
    """

    concurrency: int = 4
    refuse: set[str] = field(default_factory=set)
    fail_next: list[GatewayError] = field(default_factory=list)
    requests: list[tuple[str, list[str]]] = field(default_factory=list)
    accepted: list[tuple[str, str, str]] = field(default_factory=list)  # (id, number, text)
    claimed_per_call: list[tuple[int, int]] = field(default_factory=list)  # (sending, in batches)
    crash_on_call: int | None = None  # this call (1, 2...) raises, as a lost database would
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def send_all(self, batches: Sequence[Batch]) -> list[list[RecipientResult] | GatewayError]:
        sending = db.session.scalar(
            sa.select(sa.func.count()).where(OutboundMessage.status == "sending")
        )
        self.claimed_per_call.append((sending, sum(len(numbers) for _, numbers in batches)))
        db.session.rollback()
        if len(self.claimed_per_call) == self.crash_on_call:
            raise RuntimeError("the job died here")
        return [self._send(text, list(numbers)) for text, numbers in batches]

    def _send(self, text: str, numbers: list[str]) -> list[RecipientResult] | GatewayError:
        self.requests.append((text, numbers))
        if self.fail_next:
            return self.fail_next.pop(0)
        return [self._one(text, number) for number in numbers]

    def _one(self, text: str, number: str) -> RecipientResult:
        if number in self.refuse:
            return RecipientResult(number, 9, "Refused", None, None, "final")
        message_id = f"FAKE-{next(self._ids)}"
        self.accepted.append((message_id, number, text))
        return RecipientResult(number, 0, "Accepted", message_id, "XOF 10", "sent")


@pytest.fixture
def fake_gateway(app: Flask) -> Iterator[FakeGateway]:
    """The fake provider in place of Africa's Talking for the test's duration."""
    real = app.extensions["gateway"]
    app.extensions["gateway"] = fake = FakeGateway()
    try:
        yield fake
    finally:
        app.extensions["gateway"] = real
