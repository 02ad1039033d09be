"""Defects found by reviewing the console (issue 11), each shown by a test before its fix.

Hostile or odd input must get an answer that says what was wrong (400, 404, the first page),
never a 500: a number no table can hold, a NUL character, a cursor that cannot be read.
Every case runs on SQLite and PostgreSQL (the `app` fixture), where these fail differently.
"""

from __future__ import annotations

import pytest

from tests.admin.conftest import ADMIN, csrf_token

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
