"""The outbox drives any gateway.base.Gateway: a second, fake provider end to end."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.africastalking import AfricasTalkingGateway
from gateway.base import Gateway, GatewayError
from models import OutboundMessage, db
from models.base import utcnow
from services.outbox import compose
from workers import outbox


def write(app, phones: list[str], text: str = "Rappel: suivi QI") -> None:
    settings, now = app.config["SETTINGS"], utcnow()
    for phone in phones:
        compose(settings, now, phone=phone, text=text, kind="reply")
    db.session.commit()


def rows() -> dict[str, OutboundMessage]:
    db.session.expire_all()
    return {m.phone: m for m in db.session.scalars(sa.select(OutboundMessage))}


def phones(n: int) -> list[str]:
    return [f"+2237300{i:04d}" for i in range(n)]


def test_both_adapters_are_gateways(fake_gateway):
    assert isinstance(fake_gateway, Gateway)
    assert isinstance(
        AfricasTalkingGateway("sandbox", "key", api_url="http://127.0.0.1:9"), Gateway
    )


def test_the_outbox_sends_through_a_second_provider(app, fake_gateway, redis, run_worker):
    write(app, phones(3))
    write(app, ["+22373009999"], text="Bonjour Awa")
    fake_gateway.refuse = {phones(3)[1]}
    outbox.nudge(redis)
    run_worker()
    assert sorted(fake_gateway.requests) == [
        ("Bonjour Awa", ["+22373009999"]),
        ("Rappel: suivi QI", phones(3)),
    ]
    found = rows()
    accepted = {number: message_id for message_id, number, _ in fake_gateway.accepted}
    assert {p: (m.status, m.gateway_id) for p, m in found.items() if m.status == "sent"} == {
        p: ("sent", accepted[p]) for p in accepted
    }
    refused = found[phones(3)[1]]
    assert (refused.status, refused.failure_reason) == ("failed", "Refused")


def test_a_worker_claims_only_the_requests_it_is_sending(app, fake_gateway, redis, run_worker):
    fake_gateway.concurrency = 2
    for i, phone in enumerate(phones(7)):
        write(app, [phone], text=f"Bonjour {i}")  # seven requests: waves of 2, 2, 2, 1
    outbox.dispatch(redis)
    run_worker()
    assert fake_gateway.claimed_per_call == [(2, 2), (2, 2), (2, 2), (1, 1)]
    assert {m.status for m in rows().values()} == {"sent"}


def test_a_request_that_never_left_is_simply_sent_again(app, fake_gateway, redis, run_worker):
    write(app, phones(2))
    fake_gateway.fail_next = [GatewayError("connection refused", may_have_reached=False)]
    outbox.dispatch(redis)
    run_worker()
    assert {(m.status, m.possible_duplicate) for m in rows().values()} == {("pending", False)}
    outbox.dispatch(redis, now=utcnow() + outbox.retry.backoff(1))
    run_worker()
    assert {(m.status, m.possible_duplicate) for m in rows().values()} == {("sent", False)}


def test_a_request_that_may_have_reached_the_gateway_is_resent_as_a_possible_duplicate(
    app, fake_gateway, redis, run_worker
):
    write(app, phones(2))
    fake_gateway.fail_next = [GatewayError("read timed out", may_have_reached=True)]
    outbox.dispatch(redis)
    run_worker()
    found = rows().values()
    assert {(m.status, m.failure_reason, m.possible_duplicate) for m in found} == {
        ("pending", "read timed out", True)
    }
    outbox.dispatch(redis, now=utcnow() + outbox.retry.backoff(1))
    run_worker()
    assert {(m.status, m.attempts, m.possible_duplicate) for m in rows().values()} == {
        ("sent", 2, True)
    }


def test_a_failed_job_is_run_again_and_sends_its_rows_still_queued(
    app, fake_gateway, redis, run_worker, monkeypatch
):
    monkeypatch.setattr(outbox.retry, "JOB_RETRY_INTERVALS", [0, 0, 0])  # no scheduler here
    fake_gateway.concurrency, fake_gateway.crash_on_call = 2, 2
    for i, phone in enumerate(phones(6)):
        write(app, [phone], text=f"Bonjour {i}")  # one job, three waves of two
    outbox.dispatch(redis)
    run_worker()
    found = rows()
    assert [found[p].status for p in phones(6)] == ["sent"] * 2 + ["sending"] * 2 + ["sent"] * 2
    # the crashed wave may have left: it waits for the sweeper, which marks it when resending
