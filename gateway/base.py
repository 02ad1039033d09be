"""What the outbox needs from an SMS gateway, in terms no provider owns.

Africa's Talking is the first provider (gateway/africastalking.py); Orange's SMS API, which
reaches Mali's networks directly, could be the second. A provider adapter turns its API into
`RecipientResult`s and `GatewayError`s; the outbox never sees a provider's types or codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Outcome = Literal["sent", "retry", "final"]
"""What the outbox does next with one number of a request.

sent  : the provider took the message; delivery reports tell the rest.
retry : nothing is wrong with the number; the same message may go through later.
final : this number will not get this message however often we try; stop and record why.
"""

Batch = tuple[str, Sequence[str]]
"""One request: a text and the numbers that get it."""


@dataclass(frozen=True)
class RecipientResult:
    """What happened to one number of a request."""

    number: str
    status_code: int | None
    """The provider's own code for this number, kept for the logs (None: no code given)."""
    status: str
    """The provider's name for the status; the outbox records it as the failure reason."""
    message_id: str | None
    """The provider's id of the accepted message, which its delivery reports quote."""
    cost: str | None
    outcome: Outcome
    may_have_reached: bool = False
    """For a "retry": the provider may have taken this number's message without saying so
    (its answer left the number out), so the next send is a possible duplicate."""


class GatewayError(Exception):
    """The whole request failed: no per-number answer to act on; the outbox tries again.

    `may_have_reached` says whether the provider may have taken the request without our
    learning it (a timeout once the request was out, a connection cut before the answer, an
    unreadable answer). The outbox then marks the second send a possible duplicate. False
    means the request provably did not go through: the connection was never made, or the
    provider answered with an error.
    """

    def __init__(self, message: str, *, may_have_reached: bool) -> None:
        super().__init__(message)
        self.may_have_reached = may_have_reached


@runtime_checkable
class Gateway(Protocol):
    """An SMS provider as the outbox drives it."""

    @property
    def concurrency(self) -> int:
        """How many requests `send_all` has in flight at once.

        The outbox claims exactly that many requests' rows before each call, so every row it
        marks as being sent is really on its way (a killed worker leaves no row claimed whose
        request never left).
        """
        ...

    def send_all(self, batches: Sequence[Batch]) -> list[list[RecipientResult] | GatewayError]:
        """Send each (text, numbers) request; answer, in order, one result per number (in
        the order given) or the request's error. Must not raise for a failed request."""
        ...
