"""`flask simulate`: a terminal phone against the real webhook, over HTTP."""

from __future__ import annotations

from dev.standin import serve_in_thread
from services.demo import seed_demo

WHOLE_CHECKIN = "1\n6\n2\n40\n38\n1\n2\n.\n1\n"


def test_a_worker_walks_the_checkin_by_ussd_in_the_terminal(app):
    seed_demo()
    with serve_in_thread(app) as server:
        result = app.test_cli_runner().invoke(
            args=["simulate", "--phone", "+22370000011", "--url", server.url],
            input=WHOLE_CHECKIN,
        )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("L'équipe QI s'est réunie cette semaine ?\n1 Oui\n2 Non\n>")
    assert result.output.rstrip().endswith("Merci, vos réponses sont enregistrées.")


def test_an_unreachable_service_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(
        args=["simulate", "--phone", "+22370000011", "--url", "http://127.0.0.1:9"]
    )
    assert result.exit_code != 0
    assert "cannot reach the service at http://127.0.0.1:9" in result.output


def test_the_sms_simulator_needs_the_gateway_standin(app):
    result = app.test_cli_runner().invoke(
        args=["simulate", "--phone", "+22370000011", "--channel", "sms"]
    )
    assert result.exit_code != 0
    assert "AT_API_URL must point at the gateway stand-in" in result.output
