"""No query string, however odd, gets a 5xx from a console page: every GET route of the URL map,
signed in as an admin and as a supervisor, with random values for every query parameter the
console's code reads (found in its source, so a new parameter is fuzzed without an edit here).
A page may refuse (400, 403, 404) or ignore a value; it never fails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import url_for
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.admin.conftest import ADMIN, SUPERVISOR
from tests.admin.rules import SCOPED, all_rules
from tests.webhooks.test_hostile_input import BUDGET as WEBHOOKS_BUDGET

ADMIN_CODE = Path(__file__).resolve().parents[2] / "admin"
PARAMETERS = sorted(
    {
        name
        for path in ADMIN_CODE.glob("*.py")
        for name in re.findall(r'request\.args\.get(?:list)?\("([a-z_]+)"', path.read_text())
    }
)
BUDGET = settings(WEBHOOKS_BUDGET, max_examples=25)
"""The webhooks' hostile-input settings, fewer examples: each one opens every page."""
RULES = all_rules()

odd = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "-1",
            "0",
            "9" * 30,
            "2147483648",
            "1e9",
            "nan",
            "2026-02-30",
            "2026-W99",
            "0001-01-01",
            "9999-12-31",
            "all",
            "\x00",
            "%",
            "_",
            "' OR 1=1 --",
            "<script>",
            "1|2026-12-02T10:00:00|out",
            "https://example.org/",
            "//example.org",
        ]
    ),
)
queries = st.dictionaries(st.sampled_from(PARAMETERS), odd, max_size=4)


def test_the_parameters_were_found():
    assert {"q", "page", "before", "since", "facility_id"} <= set(PARAMETERS)


@pytest.mark.parametrize("person", [ADMIN, SUPERVISOR], ids=lambda p: p.role)
def test_no_query_string_gets_a_server_error(app, signed_in, region, person):
    client = signed_in(person)
    paths = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or "GET" not in rule.methods:
            continue
        spec = RULES[rule.endpoint]
        values = spec.url_values(region) if callable(spec.url_values) else dict(spec.url_values)
        for argument in rule.arguments & SCOPED.keys():
            values[argument] = region[SCOPED[argument][0][person.role]]
        with app.test_request_context():
            paths.append(url_for(rule.endpoint, **values))

    @BUDGET
    @given(query=queries)
    def every_page(query: dict[str, str]) -> None:
        for path in paths:
            response = client.get(path, query_string=query)
            response.get_data()  # a streamed download reads its rows now
            assert response.status_code < 500, (path, query, response.status_code)

    every_page()
