"""The outbox: every outbound SMS is a row (services/outbox.py writes it); this sends it.

- `dispatch`: due `pending` rows -> `queued`, their ids into RQ send jobs.
- `send`: the send job, which claims each wave of rows just before it goes.
- `retry`: what is retried, when, how often, and when a retry is a possible duplicate.
- `sweep`: what a lost queue or a dead worker left behind goes back to be sent.
- `reports`: delivery reports, applied even when they arrive before the gateway id.

The delivery rule (DESIGN.md, "Delivery semantics"): at least once. A row whose request may
have reached the gateway (a worker killed while it was out, a timeout once it had left) is
sent again and marked `possible_duplicate`; a row claimed whose request never left is
simply sent. Webhooks and the clock call `nudge(redis)` after their commit; nothing drains
the outbox inside a request.
"""

from workers.outbox.dispatch import dispatch, nudge
from workers.outbox.sweep import sweep

__all__ = ["dispatch", "nudge", "sweep"]
