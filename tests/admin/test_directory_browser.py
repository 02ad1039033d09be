"""Facilities and people in a real browser (Playwright, Debian's chromium), on a desktop screen
and on a 360-pixel-wide phone: an admin imports a staff file with one bad line, watches the
import wait for a worker, sees its counts and the bad line's reason once a worker has run it,
imports the corrected file again (an update, no duplicate), then edits one of the people it
created, a phone number already taken first. Screenshots land in tests/admin/screenshots/.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from models import Worker, db
from tests.admin.conftest import ADMIN
from tests.admin.test_browser import VIEWPORTS, browser, console, open_page, shoot, sign_in

__all__ = ["browser", "console"]  # fixtures, shared with the console's other browser test

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("app", ["sqlite"], indirect=True)]

HEADER = "name,phone,facility_code,role,language\n"
FIRST = (
    HEADER
    + "Awa Keita,70 00 00 99,CSCOM-MLB,nurse,fr\n"
    + "Bakary Traoré,12,CSCOM-MLB,dtc,bm\n"
    + "Fatoumata Diarra,+22370000011,CSCOM-MLB,qi_focal_point,fr\n"
)
"""Line 3 has a phone nobody could have; line 4 is a worker the demo already has."""
CORRECTED = FIRST.replace("Bakary Traoré,12,", "Bakary Traoré,70 00 00 98,")
REFRESHED = 15_000
"""Milliseconds to wait for the page's own refresh (every 2 s) to show the outcome."""


def upload(page: Page, text: str, name: str) -> None:
    page.get_by_label("Personnel", exact=True).check()
    page.get_by_label("Fichier CSV").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")}]
    )
    page.get_by_role("button", name="Importer").click()


def run_worker_now(run_worker) -> None:
    db.session.commit()  # the test's transaction must not hold SQLite's write lock
    run_worker()


def summary(page: Page, label: str):
    return page.locator("dl.summary div").filter(has_text=label).locator("dd")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_an_admin_imports_a_staff_file_twice_then_edits_a_worker(
    browser, console, run_worker, viewport
):
    page, complaints = open_page(browser, viewport)
    sign_in(page, console, ADMIN.email)

    page.get_by_role("link", name="Personnel").first.click()
    expect(page.get_by_role("heading", name="Personnel")).to_be_visible()
    shoot(page, f"workers-{viewport}")
    page.get_by_role("link", name="Importer un fichier CSV").click()
    shoot(page, f"import-form-{viewport}")
    _fits(page, viewport)
    upload(page, FIRST, "personnel.csv")

    # No worker has run yet: the page waits, with its progress bar, and says why.
    expect(page.get_by_text("En attente d'un worker…")).to_be_visible()
    expect(page.locator("progress")).to_be_visible()
    expect(page.get_by_text("Aucun worker ne tourne")).to_be_visible()
    shoot(page, f"import-waiting-{viewport}")

    run_worker_now(run_worker)
    expect(page.get_by_text("Import terminé.")).to_be_visible(timeout=REFRESHED)
    expect(page.locator("progress")).to_have_count(0)
    expect(summary(page, "Lignes lues")).to_have_text("3")
    expect(summary(page, "Créées")).to_have_text("1")
    expect(summary(page, "Mises à jour")).to_have_text("1")
    expect(summary(page, "Refusées")).to_have_text("1")
    bad = page.get_by_role("row", name=re.compile(r"^3 "))
    expect(bad).to_contain_text("« 12 » n'est pas un numéro de téléphone valide")
    shoot(page, f"import-refused-line-{viewport}")
    _fits(page, viewport)

    page.get_by_role("link", name="Importer un autre fichier").click()
    upload(page, CORRECTED, "personnel-corrige.csv")
    run_worker_now(run_worker)
    expect(page.get_by_text("Import terminé.")).to_be_visible(timeout=REFRESHED)
    expect(summary(page, "Créées")).to_have_text("1")
    expect(summary(page, "Mises à jour")).to_have_text("2")
    expect(summary(page, "Refusées")).to_have_text("0")
    expect(page.get_by_role("heading", name="Lignes refusées")).to_have_count(0)
    shoot(page, f"import-again-{viewport}")
    assert _workers_named("Awa Keita") == 1  # updated, not duplicated

    page.get_by_role("link", name="Voir le personnel").click()
    page.get_by_label("Rechercher").fill("Bakary")
    page.get_by_role("button", name="Chercher").click()
    page.get_by_role("link", name="Bakary Traoré").click()
    expect(page.get_by_role("heading", name=re.compile("Bakary Traoré"))).to_be_visible()

    page.get_by_label("Nom", exact=True).fill("Bakary Traoré Diallo")
    page.get_by_label("Téléphone").fill("70 00 00 11")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Rien n'a été enregistré")).to_be_visible()
    expect(
        page.get_by_text("le numéro +22370000011 est déjà celui de Fatoumata Diarra (CSCOM-MLB)")
    ).to_be_visible()
    expect(page.get_by_label("Nom", exact=True)).to_have_value("Bakary Traoré Diallo")
    shoot(page, f"worker-refused-{viewport}")
    _fits(page, viewport)

    page.get_by_label("Téléphone").fill("+223 70-00-00-97")
    page.get_by_label("Rôle").select_option(label="Point focal QI")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Modifications enregistrées.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Bakary Traoré Diallo"))).to_be_visible()
    expect(page.locator("dd.phone")).to_have_text("+22370000097")
    shoot(page, f"worker-saved-{viewport}")

    page.get_by_role("link", name="CSCom Malibougou").click()
    expect(
        page.get_by_text("Les 5 personnes actives qui y travaillent seront désactivées")
    ).to_be_visible()
    shoot(page, f"facility-admin-{viewport}")
    _fits(page, viewport)

    assert [c for c in complaints if "Content Security Policy" in c] == []


def test_a_supervisor_reads_their_district_without_a_button_to_change_it(browser, console):
    page, _ = open_page(browser, "phone")
    sign_in(page, console, "awa@example.org")

    page.get_by_role("link", name="Structures").click()
    expect(page.get_by_role("link", name="CSCom Malibougou")).to_be_visible()
    expect(page.get_by_role("link", name="CSCom Koulikoro Gare")).to_have_count(0)
    expect(page.get_by_role("link", name="Ajouter une structure")).to_have_count(0)
    page.get_by_role("link", name="CSCom Malibougou").click()
    expect(page.get_by_role("link", name="Fatoumata Diarra")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Désactiver|Enregistrer"))).to_have_count(0)
    shoot(page, "facility-supervisor-phone")
    _fits(page, "phone")


def _fits(page: Page, viewport: str) -> None:
    """The page itself never scrolls sideways: only a table does, within its frame."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORTS[viewport]["width"]


def _workers_named(name: str) -> int:
    """Read as another process would, and end the transaction at once: on SQLite it holds
    the write lock the served pages need."""
    db.session.rollback()
    try:
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(Worker).where(Worker.name == name)
        )
    finally:
        db.session.rollback()
