"""The flow pages, as an admin uses them: the list of flows; a flow's text to edit or upload,
checked (nothing stored) or published (a new version, one audit row), each problem shown at its
line; the lint panel per language; the versions with a comparison and a rollback."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from models import AuditEntry, Checkin, Facility, FlowVersion, db
from services import flow_store
from tests.admin.conftest import ADMIN, csrf_token, page_text
from tests.admin.rules_flows import ATTENDEES, NEW_FLOW, REWORDED, WEEKLY

PAGE = "/admin/flows/weekly_qi"
MINUS = "\u2212"
"""The sign of a removed line (an added one's is +)."""
MARKED = re.compile(r'<tr id="L(\d+)" class="marked (\w+)">')


@pytest.fixture
def admin(signed_in):
    return signed_in(ADMIN)


def post(client, path: str = PAGE, **form: object):
    token = csrf_token(client, PAGE)  # one token per session, whichever form carries it
    return client.post(path, data={**form, "csrf_token": token})


def versions() -> list[tuple[int, str | None, str]]:
    db.session.commit()
    rows = db.session.execute(
        sa.select(FlowVersion.version, FlowVersion.published_by, FlowVersion.note)
        .join(FlowVersion.flow)
        .where(FlowVersion.flow.has(key="weekly_qi"))
        .order_by(FlowVersion.version)
    )
    return [tuple(row) for row in rows]


def audit_rows(action: str) -> list[AuditEntry]:
    db.session.commit()
    return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)).all()


def marked(response) -> dict[int, str]:
    """The listing's marked lines: line number -> error or warning."""
    return {int(n): level for n, level in MARKED.findall(response.get_data(as_text=True))}


def textarea(response) -> str:
    found = re.search(r"<textarea[^>]*>\r?\n(.*?)</textarea>", page_text(response), re.S)
    assert found, "no text area"
    return found.group(1)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


BROKEN = WEEKLY.replace(
    "    type: number\n    min: 0\n    max: 40\n", "    type: numbr\n    min: 0\n    max: 40\n"
)


# --- the list ------------------------------------------------------------------------------------


def test_the_list_shows_each_flow_its_version_publisher_and_check_ins_per_version(app, admin):
    version = flow_store.versions(flow_store.flow_by_key("weekly_qi"))[0].version
    facility = db.session.scalar(sa.select(Facility).where(Facility.code == "CSCOM-MLB"))
    db.session.add(
        Checkin(
            flow_id=version.flow_id,
            flow_version_id=version.id,
            facility_id=facility.id,
            period="S1",
        )
    )
    flow_store.publish(REWORDED, published_by="ana@example.org")

    page = page_text(admin.get("/admin/flows"))

    assert "Suivi QI de la semaine" in page and "weekly_qi" in page
    assert "version 2" in page and "ana@example.org" in page
    assert "v2 : 0" in page and "v1 : 1" in page
    assert 'href="/admin/flows/weekly_qi"' in page


# --- a flow's page: its text, checked and published ----------------------------------------------


def test_the_flow_page_holds_the_current_text_to_edit_and_its_lint_panel(admin):
    response = admin.get(PAGE)
    page = page_text(response)

    assert response.status_code == 200
    assert textarea(response) == WEEKLY
    assert "Version 1 en service" in page and "la ligne de commande" in page
    assert "Français (fr)" in page and "Bambara (bm)" in page
    # Bambara is transliterated (the tests' TRANSLITERATE=bm): the panel shows it as sent.
    assert "QI jèkulu ye nyògònye kè dògòkun in na wa?" in page
    assert "translittéré" in page
    assert "GSM-7" in page and "segment" in page
    assert "Vérifier" in page and "Publier" in page


def test_checking_a_text_with_an_error_shows_it_at_its_line_and_stores_nothing(admin):
    response = post(admin, source=BROKEN, action="check")
    page = page_text(response)
    line = line_of(BROKEN, "type: numbr")

    assert response.status_code == 200
    assert marked(response) == {line: "error"}
    assert f'href="#L{line}">ligne {line}</a>' in page
    assert "type must be choice, number or text" in page
    assert "ce texte ne peut pas être publié" in page
    assert textarea(response) == BROKEN  # nothing typed is lost
    assert versions() == [(1, None, "")]
    assert audit_rows("flow.publish") == []


def test_publishing_a_text_with_an_error_is_refused_and_keeps_the_text(admin):
    response = post(admin, source=BROKEN, action="publish", note="essai")

    assert response.status_code == 422
    assert marked(response) == {line_of(BROKEN, "type: numbr"): "error"}
    assert textarea(response) == BROKEN
    assert versions() == [(1, None, "")]
    assert audit_rows("flow.publish") == []


def test_checking_a_clean_text_says_it_may_be_published_and_shows_what_changed(admin):
    response = post(admin, source=REWORDED, action="check")
    page = page_text(response)

    assert response.status_code == 200
    assert "Aucune erreur : ce texte peut être publié." in page
    assert f"1 ligne ajoutée (+), 1 ligne retirée ({MINUS})." in page
    assert versions() == [(1, None, "")]


def test_a_lint_warning_is_shown_at_the_line_of_its_text(admin):
    long = WEEKLY.replace(ATTENDEES, "Combien " + "x" * 170 + " ?")

    response = post(admin, source=long, action="check")

    line = line_of(long, "x" * 170)
    assert marked(response) == {line: "warning"}
    assert "USSD screen is" in page_text(response)


def test_publishing_stores_a_version_by_its_publisher_with_one_audit_row(admin):
    response = post(admin, source=REWORDED, action="publish", note="plus clair")

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/flows/weekly_qi/versions?a=1&b=2"
    assert versions() == [(1, None, ""), (2, ADMIN.email, "plus clair")]
    (entry,) = audit_rows("flow.publish")
    assert (entry.actor, entry.target) == (ADMIN.email, "flow:weekly_qi")
    assert (entry.before, entry.after) == ({"version": 1}, {"version": 2, "note": "plus clair"})
    page = page_text(admin.get(response.headers["Location"]))
    assert "Version 2 publiée." in page
    assert f"{MINUS} " not in page  # the sign has a cell of its own
    assert re.search(f'<tr class="removed">.*?{MINUS}.*?' + re.escape(ATTENDEES), page, re.S)
    assert re.search(r'<tr class="added">.*?\+.*?équipe étaient là', page, re.S)


def test_publishing_says_who_asks_the_new_version(app, admin):
    response = post(admin, source=REWORDED, action="publish")

    page = page_text(admin.get(response.headers["Location"]))
    assert "Toute session commencée à partir de maintenant la pose, même pour un suivi" in page
    assert "les sessions en cours finissent sur leur version" in page


def test_the_current_version_serves_new_check_ins_at_once_in_this_process(admin):
    post(admin, source=REWORDED, action="publish")

    (active,) = flow_store.active_flows()
    prompt = flow_store.definition(active.version_id).question("attendees").prompt["fr"]
    assert prompt == "Combien de membres de l'équipe étaient là ?"


def test_publishing_the_text_in_service_publishes_nothing_and_says_so(admin):
    response = post(admin, source=WEEKLY.replace("\n", "\r\n"), action="publish")

    assert response.status_code == 302
    assert "rien n'a été publié" in page_text(admin.get(response.headers["Location"]))
    assert versions() == [(1, None, "")]
    assert audit_rows("flow.publish") == []


def test_a_flow_page_refuses_a_text_whose_key_is_another_flows(admin):
    other = WEEKLY.replace("key: weekly_qi", "key: weekly_qi2")

    response = post(admin, source=other, action="publish")

    assert response.status_code == 422
    assert marked(response) == {line_of(other, "key: weekly_qi2"): "error"}
    assert "n'est pas celle de ce questionnaire" in page_text(response)
    assert flow_store.flow_by_key("weekly_qi2") is None


def test_a_note_longer_than_200_characters_is_refused_with_the_text_kept(admin):
    response = post(admin, source=REWORDED, action="publish", note="n" * 201)

    assert response.status_code == 422
    assert "200 caractères" in page_text(response)
    assert textarea(response) == REWORDED
    assert versions() == [(1, None, "")]


def test_a_flow_nobody_published_is_not_found(admin):
    assert admin.get("/admin/flows/nope").status_code == 404
    assert admin.get("/admin/flows/nope/versions").status_code == 404


# --- uploads -------------------------------------------------------------------------------------


def upload(client, content: bytes, name: str = "weekly_qi.yaml", **form: object):
    token = csrf_token(client, PAGE)
    data = {"source": "typed text", "upload": (io.BytesIO(content), name), **form}
    return client.post(PAGE, data={**data, "csrf_token": token}, content_type="multipart/form-data")


def test_an_uploaded_file_takes_the_place_of_the_typed_text(admin):
    response = upload(admin, REWORDED.replace("\n", "\r\n").encode("utf-8-sig"), action="publish")

    assert response.status_code == 302
    assert versions()[-1][0] == 2
    db.session.commit()
    assert flow_store.latest_version(flow_store.flow_by_key("weekly_qi")).source == REWORDED


def test_an_uploaded_file_is_checked_like_typed_text_and_named(admin):
    response = upload(admin, BROKEN.encode(), name="mine.yaml", action="check")

    assert marked(response) == {line_of(BROKEN, "type: numbr"): "error"}
    assert "Texte lu depuis le fichier « mine.yaml »." in page_text(response)
    assert textarea(response) == BROKEN


def test_a_file_not_in_utf8_is_refused_and_the_typed_text_stays(admin):
    response = upload(
        admin, WEEKLY.split("languages")[0].encode("latin-1", "replace"), action="publish"
    )

    assert response.status_code == 422
    assert "n'est pas en UTF-8" in page_text(response)
    assert textarea(response) == "typed text"
    assert versions() == [(1, None, "")]


def test_a_file_over_200_kb_is_refused_unread(admin):
    response = upload(admin, b"# " + b"x" * 210_000 + b"\n", action="publish")

    assert response.status_code == 422
    assert "dépasse 200 Ko" in page_text(response)
    assert textarea(response) == "typed text"


def test_a_request_too_large_to_read_says_so_plainly(admin):
    response = upload(admin, b"x" * 400_000, action="publish")

    assert response.status_code == 413
    assert "Fichier trop grand" in page_text(response)


# --- a new flow ----------------------------------------------------------------------------------


def test_a_new_flow_is_published_from_the_list(admin):
    response = post(admin, "/admin/flows", source=NEW_FLOW, action="publish")

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/flows/stock"
    (entry,) = audit_rows("flow.publish")
    assert (entry.target, entry.before, entry.after) == (
        "flow:stock",
        None,
        {"version": 1, "note": ""},
    )
    assert "Ruptures de stock" in page_text(admin.get("/admin/flows"))


def test_the_new_flow_form_refuses_a_key_that_exists(admin):
    response = post(admin, "/admin/flows", source=REWORDED, action="publish")

    assert response.status_code == 422
    assert marked(response) == {line_of(REWORDED, "key: weekly_qi"): "error"}
    assert "a déjà la clé « weekly_qi »" in page_text(response)
    assert versions() == [(1, None, "")]


# --- versions, comparison, rollback --------------------------------------------------------------


def test_the_versions_page_lists_each_version_and_compares_any_two(admin):
    flow_store.publish(REWORDED, published_by="ana@example.org", note="plus clair")
    flow_store.publish(WEEKLY)

    page = page_text(admin.get(f"{PAGE}/versions"))
    assert "ana@example.org" in page and "plus clair" in page
    assert "Revenir à la version 1" in page and "Revenir à la version 2" in page
    assert "Revenir à la version 3" not in page  # the version in service

    same = page_text(admin.get(f"{PAGE}/versions?a=1&b=3"))
    assert "Aucune différence" in same
    assert admin.get(f"{PAGE}/versions?a=1&b=9").status_code == 404


def test_a_rollback_publishes_the_old_text_as_a_new_version(admin):
    flow_store.publish(REWORDED)

    response = post(admin, f"{PAGE}/rollback", version="1")

    assert response.status_code == 302
    assert versions()[-1] == (3, ADMIN.email, "retour à la version 1")
    (entry,) = audit_rows("flow.rollback")
    assert (entry.before, entry.after) == ({"version": 2}, {"version": 3, "from": 1})
    page = page_text(admin.get(response.headers["Location"]))
    assert "Version 3 publiée." in page
    assert re.search(r'<tr class="added">.*?' + re.escape(ATTENDEES), page, re.S)


def test_a_rollback_to_the_text_in_service_publishes_nothing(admin):
    flow_store.publish(REWORDED)
    flow_store.publish(WEEKLY)

    response = post(admin, f"{PAGE}/rollback", version="1")

    assert "rien de nouveau" in page_text(admin.get(response.headers["Location"]))
    assert [v[0] for v in versions()] == [1, 2, 3]
    assert audit_rows("flow.rollback") == []


def test_a_rollback_to_a_version_that_does_not_exist_is_not_found(admin):
    assert post(admin, f"{PAGE}/rollback", version="7").status_code == 404
