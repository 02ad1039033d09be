"""The issue's whole journey in a real browser, as an admin new to the service would walk it:
sign in, change a question's wording and publish it, try it in the page's phone and read the
trial's result and run chart; then a real report arrives by USSD and shows in the district's
grid, the facility page and the CSV download, while the trial shows nowhere. On a desktop screen
and on a 360-pixel-wide phone; screenshots in tests/admin/screenshots/."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from dev.standin import serve_in_thread
from models import Answer, Checkin, db
from services.ussd_steps import UssdSteps
from tests.admin.conftest import ADMIN
from tests.admin.test_browser import (  # noqa: F401  (fixtures)
    VIEWPORTS,
    browser,
    open_page,
    shoot,
    sign_in,
)
from tests.services.test_trial import WEEKLY_INPUTS
from tests.supervision.districts import FOCAL_POINT

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("app", ["sqlite"], indirect=True)]

OLD = "L'équipe QI s'est réunie cette semaine ?"
NEW = "Réunion de l'équipe QI tenue cette semaine ?"
TRIAL_INPUTS = ["1", "7", "2", "30", "29", "1", "2", "essai", "1"]
"""The trial's numbers differ from the real report's (WEEKLY_INPUTS: 38 of 40)."""


@pytest.fixture
def console(app, region) -> Iterator[str]:
    """The app on a free loopback port: the demo region, nobody has reported this week yet."""
    db.session.commit()  # the fixtures' reads end here: SQLite's lock is the server's now
    with serve_in_thread(app) as server:
        yield server.url


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_an_admin_rewords_a_question_tries_it_and_reads_the_results(
    app,
    browser,  # noqa: F811
    console,
    viewport,
):
    page, complaints = open_page(browser, viewport)
    sign_in(page, console, ADMIN.email)

    reword(page)
    try_in_the_phone(page, viewport)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Checkin)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0

    report_by_ussd(app)
    read_the_results(page, viewport)
    assert [c for c in complaints if "Content Security Policy" in c] == []


def reword(page: Page) -> None:
    page.get_by_role("link", name="Questionnaires").click()
    page.get_by_role("link", name="Suivi QI de la semaine").click()
    text = page.get_by_label("Texte du questionnaire (YAML)")
    text.fill(text.input_value().replace(OLD, NEW))
    page.get_by_role("button", name="Publier").click()
    expect(page.get_by_text("Version 2 publiée.")).to_be_visible()


def try_in_the_phone(page: Page, viewport: str) -> None:
    page.get_by_role("link", name="Essayer dans le téléphone d'essai").click()  # after publishing
    page.get_by_label("Chercher une personne (nom, téléphone, structure)").fill("Fatoumata")
    page.get_by_role("button", name="Chercher").click()
    page.get_by_role("button", name="USSD en tant que Fatoumata Diarra").click()
    screens = page.locator(".screen")
    expect(screens.last).to_contain_text(NEW)  # the version just published
    expect(screens.last).to_contain_text("/ 182 caractères")
    shoot(page, f"phone-start-{viewport}")
    for entry in TRIAL_INPUTS:
        page.get_by_label("Réponse").fill(entry)
        page.get_by_role("button", name="Envoyer").click()
    expect(screens.last).to_contain_text("Merci")
    result = page.get_by_role("region", name="Résultat de l'essai")
    expect(result.get_by_role("cell", name="29", exact=True)).to_be_visible()
    expect(result.locator("svg").first).to_be_visible()  # the run chart, with the trial's point
    expect(result).to_contain_text("essai")
    shoot(page, f"phone-result-{viewport}")
    assert page_width(page) <= VIEWPORTS[viewport]["width"]


def report_by_ussd(app) -> None:
    """Fatoumata reports for real, through the step service the /ussd webhook calls."""
    steps = UssdSteps(app.config["SETTINGS"])
    for count in range(len(WEEKLY_INPUTS) + 1):
        steps.step("real-report", FOCAL_POINT, "*".join(WEEKLY_INPUTS[:count]))
    db.session.commit()


def read_the_results(page: Page, viewport: str) -> None:
    page.get_by_role("link", name="Achèvement").click()
    page.get_by_role("link", name="CSRef de Kati").first.click()
    malibougou = page.get_by_role("row", name=re.compile("CSCom Malibougou")).first
    expect(malibougou.get_by_role("cell").first).to_have_text("oui")
    malibougou.get_by_role("link", name="CSCom Malibougou").click()
    expect(page.get_by_role("heading", name=re.compile("CSCom Malibougou"))).to_be_visible()
    expect(page.get_by_role("cell", name="38", exact=True).first).to_be_visible()
    expect(page.get_by_role("cell", name="29", exact=True)).to_have_count(0)  # not the trial's
    expect(page.locator("svg").first).to_be_visible()
    shoot(page, f"facility-{viewport}")
    assert page_width(page) <= VIEWPORTS[viewport]["width"]
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger toutes ses réponses (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text("utf-8-sig"))))
    numerators = [row["value"] for row in rows if row["question_key"] == "numerator"]
    assert numerators == ["38"]
    assert {row["flow_version"] for row in rows} == {"2"}


def page_width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")
