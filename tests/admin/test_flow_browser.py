"""The flow pages in a real browser (tests/admin/test_browser.py's Playwright set-up): an admin
uploads a flow file with a mistake, sees the error at its line, fixes the text in the page and
publishes it, then reads the new version and what changed; on a desktop screen and on a
360-pixel-wide phone, where the page itself never scrolls sideways."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.admin.conftest import ADMIN
from tests.admin.rules_flows import ATTENDEES, REWORDED, WEEKLY
from tests.admin.test_browser import (  # noqa: F401  (fixtures)
    VIEWPORTS,
    browser,
    console,
    open_page,
    shoot,
    sign_in,
)

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("app", ["sqlite"], indirect=True)]

BROKEN = WEEKLY.replace(
    "    type: number\n    min: 0\n    max: 40\n", "    type: numbr\n    min: 0\n    max: 40\n"
)
BROKEN_LINE = next(n for n, line in enumerate(BROKEN.splitlines(), 1) if "numbr" in line)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_an_admin_uploads_a_flow_with_an_error_fixes_it_and_publishes(
    browser,  # noqa: F811
    console,  # noqa: F811
    viewport,
    tmp_path,
):
    page, complaints = open_page(browser, viewport)
    sign_in(page, console, ADMIN.email)
    page.get_by_role("link", name="Questionnaires").click()
    expect(page.get_by_role("heading", name="Questionnaires")).to_be_visible()
    shoot(page, f"flows-{viewport}")
    page.get_by_role("link", name="Suivi QI de la semaine").click()
    shoot(page, f"flow-{viewport}")

    broken = tmp_path / "weekly_qi.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    page.get_by_label("Ou un fichier YAML à envoyer").set_input_files(broken)
    page.get_by_role("button", name="Publier").click()

    expect(page.get_by_role("alert")).to_contain_text("ce texte ne peut pas être publié")
    problem = page.get_by_role("link", name=f"ligne {BROKEN_LINE}").first
    expect(problem).to_be_visible()
    problem.click()
    expect(page).to_have_url(re.compile(f"#L{BROKEN_LINE}$"))
    row = page.locator(f"#L{BROKEN_LINE}")
    expect(row).to_contain_text("type: numbr")
    expect(row).to_contain_text("type must be choice, number or text")
    shoot(page, f"flow-error-{viewport}")
    assert _page_width(page) <= VIEWPORTS[viewport]["width"]

    text = page.get_by_label("Texte du questionnaire (YAML)")
    expect(text).to_have_value(BROKEN)  # the file's text, kept to be fixed
    text.fill(REWORDED)
    page.get_by_role("button", name="Vérifier").click()
    expect(page.get_by_role("status")).to_contain_text("Aucune erreur")
    page.get_by_label("Note sur cette version (facultative)").fill("question plus claire")
    page.get_by_role("button", name="Publier").click()

    expect(page).to_have_url(re.compile(r"/admin/flows/weekly_qi/versions\?a=1&b=2$"))
    expect(page.get_by_text("Version 2 publiée.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("question plus claire"))).to_be_visible()
    removed = page.locator("table.diff tr.removed")
    expect(removed).to_contain_text(ATTENDEES)
    expect(removed.locator("td.sign")).to_contain_text("−")  # noqa: RUF001
    expect(page.locator("table.diff tr.added")).to_contain_text("équipe étaient là")
    shoot(page, f"flow-versions-{viewport}")
    assert _page_width(page) <= VIEWPORTS[viewport]["width"]
    assert [c for c in complaints if "Content Security Policy" in c] == []


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")
