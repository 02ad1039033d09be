"""Defects found by reviewing the console (issue 11), each shown by a test before its fix.

Hostile or odd input must get an answer that says what was wrong (400, 404, the first page),
never a 500: a number no table can hold, a NUL character, a cursor that cannot be read.
Every case runs on SQLite and PostgreSQL (the `app` fixture), where these fail differently.
"""

from __future__ import annotations

import pytest

from tests.admin.conftest import ADMIN, csrf_token
from tests.supervision.districts import DTC, worker

HUGE = "99999999999999999999"
"""Larger than any integer column (SQLite: OverflowError; PostgreSQL: out of range)."""
BEYOND_INT4 = "3000000000"
"""Fits SQLite's 64-bit integers but not PostgreSQL's INTEGER ids."""


@pytest.mark.parametrize("number", [HUGE, BEYOND_INT4])
@pytest.mark.parametrize(
    "path", ["districts/{}", "facilities/{}", "workers/{}", "results/facilities/{}"]
)
def test_an_id_no_table_can_hold_names_nothing(signed_in, path, number):
    response = signed_in(ADMIN).get("/admin/" + path.format(number))
    assert response.status_code == 404


@pytest.mark.parametrize("number", [HUGE, BEYOND_INT4])
@pytest.mark.parametrize(
    "path",
    [
        "audit?before={}",
        "facilities?page={}",
        "workers?page={}",
        "workers?facility={}",
        "results/answers.csv?facility_id={}",
        "flows/weekly_qi/versions?a={}",
    ],
)
def test_a_query_number_no_table_can_hold_is_read_as_absent(signed_in, path, number):
    """As a value that is not a number is: the page without it (or its own 404), not a 500."""
    response = signed_in(ADMIN).get("/admin/" + path.format(number))
    assert response.status_code in (200, 404)
    response.close()


@pytest.mark.parametrize("number", [HUGE, BEYOND_INT4])
def test_a_trial_of_a_worker_id_no_table_can_hold_is_refused_in_words(signed_in, number):
    admin = signed_in(ADMIN)
    form = {"worker_id": number, "channel": "ussd", "csrf_token": csrf_token(admin, "/admin/phone")}
    response = admin.post("/admin/phone", data=form)
    assert response.status_code == 302 and response.location.endswith("/admin/phone")


@pytest.mark.parametrize("number", [HUGE, BEYOND_INT4])
def test_a_rollback_to_a_version_no_table_can_hold_is_refused(signed_in, number):
    admin = signed_in(ADMIN)
    token = csrf_token(admin, "/admin/flows/weekly_qi/versions")
    response = admin.post(
        "/admin/flows/weekly_qi/rollback", data={"version": number, "csrf_token": token}
    )
    assert response.status_code in (400, 404)


@pytest.mark.parametrize("page", ["alerts", "messages"])
@pytest.mark.parametrize(
    "cursor",
    [
        "2024-01-01T00:00:00+00:00~in~²",  # a digit to str.isdigit, not to int()
        f"2024-01-01T00:00:00+00:00~out~{HUGE}",
        f"2024-01-01T00:00:00+00:00~in~{BEYOND_INT4}",
        "0001-01-01T00:00:00+05:00~in~5",  # before year 1 in UTC
    ],
)
def test_a_log_cursor_that_cannot_be_read_is_the_first_page(signed_in, page, cursor):
    response = signed_in(ADMIN).get(f"/admin/{page}", query_string={"before": cursor})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/admin/phone?q=%00",
        "/admin/workers?q=awa%00",
        "/admin/facilities?q=%00",
        "/admin/results/answers.csv?flow=weekly_qi%00",
        "/admin/flows/weekly_qi%00",
        "/admin/flows/%00/versions",
    ],
)
def test_a_nul_character_in_a_url_is_a_bad_request(signed_in, path):
    """PostgreSQL's text cannot hold NUL: a query with one raised there (a 500)."""
    assert signed_in(ADMIN).get(path).status_code == 400


def test_a_nul_character_in_a_login_is_a_bad_request(client):
    form = {"email": "a\x00@example.org", "password": "x", "csrf_token": csrf_token(client)}
    assert client.post("/admin/login", data=form).status_code == 400


@pytest.mark.parametrize("sent,entry", [([], "1\x00"), (["\x00"], "1")])
def test_a_nul_character_in_a_trial_step_is_a_bad_request(signed_in, sent, entry):
    """The USSD webhook cleans what the gateway sends; the phone in the page passed a typed (or
    tampered hidden) NUL to the step services, whose session row PostgreSQL refused."""
    admin = signed_in(ADMIN)
    token = csrf_token(admin, "/admin/phone")
    admin.post(
        "/admin/phone", data={"worker_id": worker(DTC).id, "channel": "ussd", "csrf_token": token}
    )
    form = {"sent": sent, "entry": entry, "csrf_token": token}
    assert admin.post("/admin/phone/try", data=form).status_code == 400
