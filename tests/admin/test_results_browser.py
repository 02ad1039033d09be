"""The results pages in a real browser (Playwright driving Debian's chromium, as
tests/admin/test_browser.py does), on a desktop screen and a 360-pixel-wide phone: a supervisor
opens a CSCom from their district's grid and reads its run chart and answers, then the alerts
and the message log, and downloads the messages as CSV. Screenshots land in SCREENSHOTS."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from dev.standin import serve_in_thread
from services.exports import MESSAGE_COLUMNS
from tests.admin.conftest import SUPERVISOR
from tests.admin.test_browser import VIEWPORTS, open_page, shoot, sign_in

# Fixtures of other modules, made this module's too (the redundant alias re-exports them).
from tests.admin.test_browser import browser as browser
from tests.admin.test_results_pages import traffic as traffic

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("app", ["sqlite"], indirect=True)]


@pytest.fixture
def results_console(app, traffic) -> Iterator[str]:
    """The app on a loopback port, with the results pages' traffic and Malibougou's history."""
    with serve_in_thread(app) as server:
        yield server.url


def fits(page, viewport: str) -> bool:
    """The page itself never scrolls sideways: only tables and charts do, in their frames."""
    return page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[viewport]["width"]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_supervisor_reads_a_cscoms_chart_the_alerts_and_the_messages(
    browser, results_console, viewport, tmp_path
):
    page, complaints = open_page(browser, viewport)
    sign_in(page, results_console, SUPERVISOR.email)
    page.get_by_role("link", name="CSRef de Kati").click()
    page.get_by_role("link", name="CSCom Malibougou").click()
    expect(page.get_by_role("heading", name=re.compile("CSCom Malibougou"))).to_be_visible()
    chart = page.get_by_role("img", name=re.compile("Bonne pratique"))
    expect(chart).to_be_visible()
    expect(page.locator("figcaption")).to_contain_text("Signal : hausse durable")
    expect(page.get_by_role("row", name=re.compile("L'équipe QI s'est réunie"))).to_contain_text(
        "Non"
    )
    assert fits(page, viewport)
    shoot(page, f"facility-{viewport}")

    page.get_by_role("link", name="Alertes", exact=True).click()
    expect(page.get_by_role("heading", name="Alertes")).to_be_visible()
    expect(page.get_by_text("alerte urgente")).to_be_visible()
    assert fits(page, viewport)
    shoot(page, f"alerts-{viewport}")

    page.get_by_role("link", name="Messages", exact=True).click()
    expect(page.get_by_role("heading", name="Messages")).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile("CSCOM-KTD CSCOM-SNB"))).to_be_visible()
    assert fits(page, viewport)
    shoot(page, f"messages-{viewport}")

    with page.expect_download() as started:
        page.get_by_role("link", name="Télécharger les messages (CSV)").click()
    download = started.value
    assert re.fullmatch(r"messages-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with saved.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    assert tuple(rows[0]) == MESSAGE_COLUMNS
    assert {row[1] for row in rows[1:]} == {"+22370000011", "+22370000001"}
    assert [c for c in complaints if "Content Security Policy" in c] == []
