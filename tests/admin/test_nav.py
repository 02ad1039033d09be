"""The menu: each area's entry for the roles that may open it, marked on every page of its area."""

from __future__ import annotations

import re

from admin.nav import MENU
from tests.admin.conftest import ADMIN, SUPERVISOR, page_text

CURRENT = re.compile(r'<a href="[^"]*" aria-current="page">([^<]+)</a>')


def test_every_entry_and_page_it_covers_exists(app):
    for entry in MENU:
        assert entry.endpoint in app.view_functions
        for page in entry.covers:
            assert f"admin.{page}" in app.view_functions, page


def test_a_page_marks_its_area_in_the_menu(signed_in, region):
    admin = signed_in(ADMIN)
    pages = {
        "/admin/flows/weekly_qi": "Questionnaires",
        f"/admin/results/facilities/{region['CSCOM-MLB']}": "Achèvement",
        f"/admin/districts/{region['CSREF-KATI']}": "Achèvement",
        f"/admin/facilities/{region['CSCOM-MLB']}": "Structures",
        "/admin/phone": "Téléphone d'essai",
    }
    for path, area in pages.items():
        html = admin.get(path).get_data(as_text=True)
        assert CURRENT.findall(html) == [area], path


def test_a_supervisor_is_not_shown_the_admins_areas(signed_in):
    html = page_text(signed_in(SUPERVISOR).get("/admin/"))
    assert "Structures" in html and "Personnel" in html
    for admins_only in ("Questionnaires", "Téléphone d'essai", "Journal"):
        assert admins_only not in html
