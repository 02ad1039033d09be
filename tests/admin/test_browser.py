"""The console in a real browser: Playwright driving Debian's chromium (never a browser of its
own: `.ci/run` installs the package when it is missing), against the app served on a loopback
port. A person signs in with an account made by create-admin and reads the roll-up, on a
desktop screen and on a 360-pixel-wide phone; screenshots land in SCREENSHOTS for a person to
look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from dev.standin import serve_in_thread
from tests.admin.conftest import PASSWORD, SUPERVISOR
from tests.admin.test_rollup import complete, periods_now

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("app", ["sqlite"], indirect=True)]


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: `apt-get install -y chromium` (.ci/run does it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console(app, region) -> Iterator[str]:
    """The app on a free loopback port, with Malibougou's report of the open period."""
    complete("CSCOM-MLB", periods_now()[0])
    with serve_in_thread(app) as server:
        yield server.url


def open_page(browser: Browser, viewport: str) -> tuple[Page, list[str]]:
    """A page in a fresh context; the list collects what the console reports (CSP refusals)."""
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="fr-FR")
    page = context.new_page()
    complaints: list[str] = []
    page.on("console", lambda message: complaints.append(message.text))
    return page, complaints


def sign_in(page: Page, console: str, email: str) -> None:
    page.goto(f"{console}/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login"))
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Achèvement des rapports")).to_be_visible()


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_supervisor_signs_in_and_reads_the_roll_up(browser, console, viewport):
    page, complaints = open_page(browser, viewport)
    page.goto(f"{console}/admin/")
    shoot(page, f"login-{viewport}")
    sign_in(page, console, SUPERVISOR.email)
    kati = page.get_by_role("row", name=re.compile("CSRef de Kati"))
    expect(kati.get_by_role("cell").first).to_have_text("1/3")
    expect(page.get_by_role("row", name=re.compile("CSRef de Koulikoro"))).to_have_count(0)
    shoot(page, f"rollup-{viewport}")
    # The page itself never scrolls sideways: only the table does, within its frame.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORTS[viewport]["width"]

    page.get_by_role("link", name="CSRef de Kati").click()
    malibougou = page.get_by_role("row", name=re.compile("CSCom Malibougou"))
    expect(malibougou.get_by_role("cell").first).to_have_text("oui")
    shoot(page, f"district-{viewport}")

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    assert [c for c in complaints if "Content Security Policy" in c] == []


def test_an_admin_sees_every_district_and_reads_the_audit_log(browser, console):
    page, _ = open_page(browser, "desktop")
    sign_in(page, console, "admin@example.org")
    for district in ("CSRef de Kati", "CSRef de Koulikoro", "CSRef de Ségou"):
        expect(page.get_by_role("link", name=district)).to_be_visible()
    shoot(page, "rollup-admin-desktop")
    page.get_by_role("link", name="Journal").click()
    expect(page.get_by_role("cell", name="account.create").first).to_be_visible()
    shoot(page, "audit-desktop")
