"""Facilities and people in the console (admin/directory_pages.py), on SQLite and PostgreSQL.

Everyone reads within their scope, admins change: add, edit, deactivate, reactivate, each
change one audit row, a refused form shown again with its reasons in French and the typed
values kept. A CSV upload is imported by a worker: its page shows a <progress> while it waits
or runs, then the counts and each refused line; a file too large, a file that is not text and
a queue that does not answer each get a clear message, never a 500.
"""

from __future__ import annotations

import io
import re
import string

import pytest
import sqlalchemy as sa

from admin import directory_pages
from models import AuditEntry, Facility, Worker, db
from services import directory
from services.directory import MESSAGES, Problem
from tests.admin.conftest import ADMIN, REGIONAL, SUPERVISOR, csrf_token, page_text
from tests.supervision.districts import DTC, FOCAL_POINT, KLB_FOCAL_POINT, SGU_FOCAL_POINT
from workers import imports
from workers.queues import connect

STAFF = (
    "name,phone,facility_code,role,language\n"
    "Awa Keita,70 00 00 99,CSCOM-MLB,nurse,fr\n"
    "Moussa Coulibaly,12,CSCOM-MLB,dtc,bm\n"
    "Fatoumata Diarra Traoré,+223 70 00 00 11,CSCOM-MLB,qi_focal_point,fr\n"
)
"""One new worker, one bad phone (line 3), one known worker (Fatoumata, by her phone)."""


def facility_id(code: str) -> int:
    return db.session.scalar(sa.select(Facility.id).where(Facility.code == code))


def worker_row(phone: str) -> Worker:
    db.session.expire_all()
    return db.session.scalar(sa.select(Worker).where(Worker.phone == phone))


def audit_rows(action: str | None = None) -> list[AuditEntry]:
    db.session.expire_all()
    query = sa.select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))


@pytest.fixture
def work(run_worker):
    """Run the queue as a worker would, once the test's own transaction is over (SQLite's
    write lock would hold the worker back otherwise)."""

    def run() -> None:
        db.session.commit()
        run_worker()

    return run


def listed(response) -> list[str]:
    """The names a list shows, one per table row (its header cell's link)."""
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', page_text(response))


def post(client, path: str, data: dict, page: str = "/admin/"):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def input_value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    assert match, f"no value for {name}"
    return match.group(1)


# -- lists and scope ------------------------------------------------------------------------------


def test_a_supervisor_lists_their_csref_and_its_cscoms_without_admin_buttons(signed_in):
    response = signed_in(SUPERVISOR).get("/admin/facilities")

    assert listed(response) == [
        "CSRef de Kati",
        "CSCom Kati Dar Salam",
        "CSCom Malibougou",
        "CSCom Sanankoroba",
    ]
    page = page_text(response)
    assert "4 structures" in page
    assert "Ajouter une structure" not in page and "Importer" not in page


def test_a_regional_viewer_lists_their_region_and_reads_its_people(signed_in):
    client = signed_in(REGIONAL)

    facilities = listed(client.get("/admin/facilities"))
    people = client.get("/admin/workers")

    assert "Région de Koulikoro" in facilities and "CSCom Koulikoro Gare" in facilities
    assert "CSCom Pelengana" not in facilities and len(facilities) == 7
    assert "Assitan Coulibaly" in listed(people) and "Fanta Camara" not in listed(people)
    assert "Ajouter une personne" not in page_text(people)


def test_an_admin_lists_every_facility_with_the_buttons_to_change_them(signed_in):
    page = page_text(signed_in(ADMIN).get("/admin/facilities?status=all"))

    assert "CSCom Pelengana" in page and "10 structures" in page
    assert "Ajouter une structure" in page and "Importer un fichier CSV" in page


def test_facilities_are_searched_by_code_or_name_and_filtered_by_state(signed_in):
    client = signed_in(ADMIN)
    db.session.execute(sa.update(Facility).where(Facility.code == "CSCOM-SGU").values(active=False))

    by_code = page_text(client.get("/admin/facilities?q=cscom-k"))
    by_name = page_text(client.get("/admin/facilities?q=Sanankoroba"))
    inactive = page_text(client.get("/admin/facilities?status=inactive"))

    assert "CSCom Koulikoro Gare" in by_code and "CSCom Kati Dar Salam" in by_code
    assert "CSCom Malibougou" not in by_code
    assert "1 structure" in by_name
    assert "CSCom Pelengana" in inactive and "désactivée" in inactive
    assert "CSCom Malibougou" not in inactive


def test_lists_are_paged_and_each_page_keeps_the_search(signed_in, monkeypatch):
    monkeypatch.setattr(directory, "PAGE_SIZE", 2)
    client = signed_in(ADMIN)

    first = client.get("/admin/workers?q=Dr")
    second = client.get("/admin/workers?q=Dr&page=2")

    assert "Page 1 sur 2" in page_text(first) and "3 personnes" in page_text(first)
    assert 'href="/admin/workers?page=2&amp;q=Dr&amp;status=active"' in first.get_data(as_text=True)
    assert len(listed(first)) == 2 and len(listed(second)) == 1
    assert set(listed(first)) | set(listed(second)) == {
        "Dr Awa Traoré",
        "Dr Seydou Diallo",
        "Dr Mamadou Touré",
    }


def test_workers_are_found_by_phone_however_it_is_typed(signed_in):
    client = signed_in(SUPERVISOR)

    assert "Moussa Coulibaly" in page_text(client.get("/admin/workers?q=70+00+00+12"))
    assert "Moussa Coulibaly" in page_text(client.get("/admin/workers?q=0022370000012"))
    outside = page_text(client.get("/admin/workers?q=70000041"))
    assert "Assitan" not in outside and "0 personne" in outside


def test_a_supervisor_may_not_open_a_worker_or_facility_outside_their_district(signed_in, region):
    client = signed_in(SUPERVISOR)

    assert client.get(f"/admin/workers/{worker_row(FOCAL_POINT).id}").status_code == 200
    assert client.get(f"/admin/workers/{worker_row(KLB_FOCAL_POINT).id}").status_code == 403
    assert client.get(f"/admin/workers/{worker_row(SGU_FOCAL_POINT).id}").status_code == 403
    assert client.get("/admin/workers/999999").status_code == 404
    assert client.get(f"/admin/workers?facility={region['CSCOM-KLB']}").status_code == 403
    assert client.get("/admin/facilities/999999").status_code == 404


def test_a_regional_viewer_may_not_open_a_worker_of_another_region(signed_in):
    client = signed_in(REGIONAL)

    assert client.get(f"/admin/workers/{worker_row(KLB_FOCAL_POINT).id}").status_code == 200
    assert client.get(f"/admin/workers/{worker_row(SGU_FOCAL_POINT).id}").status_code == 403


def test_a_viewer_reads_a_facility_with_its_people_but_no_form(signed_in, region):
    page = page_text(signed_in(SUPERVISOR).get(f"/admin/facilities/{region['CSCOM-MLB']}"))

    assert "Fatoumata Diarra" in page and "+22370000012" in page
    assert "<form" not in page.split("</header>")[1]
    assert 'href="/admin/facilities/' in page  # its CSRef, within reach, is a link
    assert "Désactiver" not in page


def test_a_supervisors_csref_names_its_region_without_a_link_they_could_not_open(signed_in, region):
    page = signed_in(SUPERVISOR).get(f"/admin/facilities/{region['CSREF-KATI']}")

    assert "Région de Koulikoro" in page_text(page)
    assert f'href="/admin/facilities/{region["REG-KKR"]}"' not in page.get_data(as_text=True)


def test_a_facility_filter_lists_its_people_only(signed_in, region):
    page = page_text(signed_in(ADMIN).get(f"/admin/workers?facility={region['CSCOM-KTD']}"))

    assert "Aminata Sangaré" in page and "Oumar Dembélé" in page
    assert "Fatoumata Diarra" not in page and "CSCom Kati Dar Salam" in page


# -- adding and editing ---------------------------------------------------------------------------


def test_an_admin_adds_a_facility_and_the_audit_log_has_it(signed_in, region):
    client = signed_in(ADMIN)

    response = post(
        client,
        "/admin/facilities/new",
        {
            "code": "CSCOM-BGN",
            "name": "CSCom Bagineda",
            "kind": "cscom",
            "parent_code": " CSREF-KATI ",
        },
    )

    new_id = facility_id("CSCOM-BGN")
    assert response.status_code == 302 and response.location == f"/admin/facilities/{new_id}"
    [entry] = audit_rows("facility.create")
    assert (entry.actor, entry.target) == (ADMIN.email, f"facility:{new_id}")
    assert entry.after == {
        "code": "CSCOM-BGN",
        "name": "CSCom Bagineda",
        "kind": "cscom",
        "parent_code": "CSREF-KATI",
        "active": True,
    }


def test_a_refused_facility_keeps_what_was_typed_and_says_why_in_french(signed_in, region):
    client = signed_in(ADMIN)
    before = len(audit_rows())

    response = post(
        client,
        "/admin/facilities/new",
        {
            "code": "CSCOM-MLB",
            "name": "Mon nouveau CSCom",
            "kind": "cscom",
            "parent_code": "REG-KKR",
        },
    )

    page = page_text(response)
    assert response.status_code == 422
    assert "Rien n'a été enregistré" in page and "Corrigez les champs signalés" in page
    assert "le code « CSCOM-MLB » est déjà celui de « CSCom Malibougou »" in page
    assert "le parent d'une structure de niveau CSCom doit être de niveau CSRef" in page
    assert input_value(page, "name") == "Mon nouveau CSCom"
    assert input_value(page, "parent_code") == "REG-KKR"
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert len(audit_rows()) == before


def edit_moussa(client, **changes: str):
    """Post Moussa Coulibaly's edit form (the DTC of Malibougou) with `changes`."""
    form = {"name": "Moussa Coulibaly", "phone": DTC, "facility_code": "CSCOM-MLB", "role": "dtc"}
    return post(
        client, f"/admin/workers/{worker_row(DTC).id}", {**form, "language": "bm", **changes}
    )


def test_an_admin_edits_a_worker_with_a_phone_typed_any_way(signed_in):
    client = signed_in(ADMIN)

    response = edit_moussa(client, phone="66 12 34 57", facility_code="CSCOM-KTD")

    assert response.status_code == 302
    assert worker_row("+22366123457").facility.code == "CSCOM-KTD"
    [entry] = audit_rows("worker.update")
    assert entry.before["phone"] == DTC and entry.after["phone"] == "+22366123457"
    assert "Modifications enregistrées." in page_text(client.get(response.location))


def test_a_phone_already_used_is_refused_with_who_has_it(signed_in):
    response = edit_moussa(signed_in(ADMIN), name="Moussa C.", phone="0022370000011")

    page = page_text(response)
    assert response.status_code == 422
    assert "le numéro +22370000011 est déjà celui de Fatoumata Diarra (CSCOM-MLB)" in page
    assert (
        input_value(page, "name") == "Moussa C." and input_value(page, "phone") == "0022370000011"
    )
    assert worker_row(DTC).name == "Moussa Coulibaly"
    assert audit_rows("worker.update") == []


def test_every_bad_field_of_a_new_worker_is_named_beside_it(signed_in):
    response = post(
        signed_in(ADMIN),
        "/admin/workers/new",
        {"name": "", "phone": "12", "facility_code": "CSCOM-X", "role": "chef", "language": "fr"},
    )

    page = page_text(response)
    assert response.status_code == 422
    assert "Obligatoire." in page
    assert "« 12 » n'est pas un numéro de téléphone valide" in page
    assert "aucune structure n'a le code « CSCOM-X »" in page
    assert "rôle « chef » inconnu" in page


def test_saving_a_form_unchanged_writes_no_audit_row(signed_in, region):
    client = signed_in(ADMIN)

    response = post(
        client,
        f"/admin/facilities/{region['CSCOM-MLB']}",
        {
            "code": "CSCOM-MLB",
            "name": "CSCom Malibougou",
            "kind": "cscom",
            "parent_code": "CSREF-KATI",
        },
    )

    assert response.status_code == 302
    assert audit_rows("facility.update") == []
    assert "Aucune modification." in page_text(client.get(response.location))


def test_a_worker_is_added_at_a_facility_from_its_page(signed_in, region):
    client = signed_in(ADMIN)
    page = page_text(client.get(f"/admin/facilities/{region['CSCOM-SNB']}"))
    assert "/admin/workers/new?facility=CSCOM-SNB" in page

    form = page_text(client.get("/admin/workers/new?facility=CSCOM-SNB"))

    assert input_value(form, "facility_code") == "CSCOM-SNB"


# -- deactivating -------------------------------------------------------------------------------


def test_deactivating_a_facility_deactivates_its_people_in_one_audit_row(signed_in, region):
    client = signed_in(ADMIN)
    page = page_text(client.get(f"/admin/facilities/{region['CSCOM-MLB']}"))
    assert "Les 3 personnes actives qui y travaillent seront désactivées aussi." in page

    response = post(client, f"/admin/facilities/{region['CSCOM-MLB']}/active", {"active": "0"})

    assert response.status_code == 302
    assert not worker_row(FOCAL_POINT).active and not worker_row(DTC).active
    [entry] = audit_rows("facility.deactivate")
    assert entry.after["active"] is False and len(entry.after["workers_deactivated"]) == 3
    after = page_text(client.get(response.location))
    assert "Structure désactivée, avec les 3 personnes qui y travaillaient." in after
    assert "Cette structure est désactivée" in after


def test_reactivating_a_facility_leaves_its_people_to_reactivate_one_by_one(signed_in, region):
    client = signed_in(ADMIN)
    path = f"/admin/facilities/{region['CSCOM-MLB']}/active"
    post(client, path, {"active": "0"})

    response = post(client, path, {"active": "1"})

    assert response.status_code == 302
    assert not worker_row(FOCAL_POINT).active
    assert "Son personnel reste désactivé" in page_text(client.get(response.location))
    assert [e.action for e in audit_rows()][-2:] == ["facility.deactivate", "facility.reactivate"]


def test_a_csref_with_active_cscoms_is_not_deactivated(signed_in, region):
    client = signed_in(ADMIN)
    page = page_text(client.get(f"/admin/facilities/{region['CSREF-KATI']}"))
    assert "3 structures actives y sont rattachées : désactivez-les d'abord." in page

    response = post(client, f"/admin/facilities/{region['CSREF-KATI']}/active", {"active": "0"})

    assert "« CSREF-KATI » a 3 structures actives rattachées" in page_text(
        client.get(response.location)
    )
    assert audit_rows("facility.deactivate") == []


def test_a_worker_is_deactivated_and_reactivated_with_one_audit_row_each(signed_in):
    client = signed_in(ADMIN)
    path = f"/admin/workers/{worker_row(DTC).id}/active"

    post(client, path, {"active": "0"})
    assert not worker_row(DTC).active
    post(client, path, {"active": "1"})
    assert worker_row(DTC).active

    assert [e.action for e in audit_rows()][-2:] == ["worker.deactivate", "worker.reactivate"]


def test_a_worker_of_an_inactive_facility_cannot_be_reactivated(signed_in, region):
    client = signed_in(ADMIN)
    post(client, f"/admin/facilities/{region['CSCOM-MLB']}/active", {"active": "0"})
    path = f"/admin/workers/{worker_row(DTC).id}"
    assert "Sa structure est désactivée" in page_text(client.get(path))

    response = post(client, f"{path}/active", {"active": "1"})

    assert "la structure « CSCOM-MLB » est désactivée" in page_text(client.get(response.location))
    assert not worker_row(DTC).active


def test_asking_for_the_state_a_record_already_has_changes_nothing(signed_in):
    client = signed_in(ADMIN)

    response = post(client, f"/admin/workers/{worker_row(DTC).id}/active", {"active": "1"})

    assert response.status_code == 302 and audit_rows("worker.reactivate") == []


# -- the import page ------------------------------------------------------------------------------


def upload(client, text: str | bytes, kind: str = "workers", name: str = "personnel.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    token = csrf_token(client, "/admin/imports")
    return client.post(
        "/admin/imports",
        data={"kind": kind, "file": (io.BytesIO(data), name), "csrf_token": token},
        content_type="multipart/form-data",
    )


def test_an_upload_waits_with_a_progress_bar_then_shows_counts_and_refused_lines(signed_in, work):
    client = signed_in(ADMIN)

    response = upload(client, STAFF)

    assert response.status_code == 302
    waiting = client.get(response.location).get_data(as_text=True)
    assert "<progress" in waiting and 'http-equiv="refresh"' in waiting
    assert "Aucun worker ne tourne" in page_text(client.get(response.location))

    work()

    done = page_text(client.get(response.location))
    assert "Import terminé." in done and 'http-equiv="refresh"' not in done
    assert re.search(r"Lignes lues\s*</dt><dd>3", done)
    assert re.search(r"Créées\s*</dt><dd>1", done) and re.search(r"Mises à jour\s*</dt><dd>1", done)
    assert re.search(r"<th scope=\"row\">3</th><td>« 12 » n'est pas un numéro", done)
    assert worker_row("+22370000099").name == "Awa Keita"
    assert worker_row(FOCAL_POINT).name == "Fatoumata Diarra Traoré"


def test_a_running_import_shows_rows_done_out_of_the_total(signed_in, redis):
    client = signed_in(ADMIN)
    location = upload(client, STAFF).location
    import_id = location.rsplit("/", 1)[1]
    redis.hset(
        f"directory:import:{import_id}", mapping={"status": "running", "done": 2, "total": 3}
    )

    page = client.get(location).get_data(as_text=True)

    assert '<progress id="progress" max="3" value="2">' in page
    assert "2 lignes sur 3" in page_text(client.get(location))


def test_an_upload_writes_one_audit_row_which_the_job_completes_with_counts(signed_in, work):
    client = signed_in(ADMIN)
    upload(client, STAFF)
    [entry] = audit_rows("import.workers")
    assert entry.actor == ADMIN.email and entry.after["file"] == "personnel.csv"

    work()

    [entry] = audit_rows("import.workers")
    assert {k: entry.after[k] for k in ("rows", "created", "updated", "refused")} == {
        "rows": 3,
        "created": 1,
        "updated": 1,
        "refused": 1,
    }
    assert "70 00 00 99" not in str(entry.after) and "Awa" not in str(entry.after)


def test_importing_the_same_file_again_updates_and_the_page_lists_both(signed_in, work):
    client = signed_in(ADMIN)
    upload(client, STAFF)
    work()

    again = upload(client, STAFF)
    work()

    assert re.search(r"Créées\s*</dt><dd>0", page_text(client.get(again.location)))
    assert re.search(r"Mises à jour\s*</dt><dd>2", page_text(client.get(again.location)))
    recent = page_text(client.get("/admin/imports"))
    assert recent.count("3 lues · 0 créées · 2 mises à jour · 1 refusées") == 1
    assert recent.count("3 lues · 1 créées · 1 mises à jour · 1 refusées") == 1


def test_an_import_from_the_command_line_is_listed_with_its_counts(signed_in, app, tmp_path):
    path = tmp_path / "equipe.csv"
    path.write_text(STAFF, encoding="utf-8")
    client = signed_in(ADMIN)

    result = app.test_cli_runner().invoke(args=["import", "workers", str(path)])

    assert result.exit_code == 1  # one line refused
    [entry] = audit_rows("import.workers")
    assert (entry.actor, entry.target) == ("cli", "file:equipe.csv")
    assert entry.after == {
        "file": "equipe.csv",
        "rows": 3,
        "created": 1,
        "updated": 1,
        "refused": 1,
    }
    page = client.get("/admin/imports").get_data(as_text=True)
    assert "equipe.csv" in page and "/admin/imports/equipe" not in page


def test_a_file_over_2_mb_is_refused_with_a_message_and_nothing_stored(signed_in, redis):
    client = signed_in(ADMIN)
    big = STAFF.encode() + b"x" * (directory_pages.MAX_UPLOAD - len(STAFF) + 1)

    response = upload(client, big)

    assert response.status_code == 413
    assert "Le fichier dépasse 2 Mo" in page_text(response)
    assert redis.keys("directory:import:*") == [] and audit_rows("import.workers") == []


def test_a_request_far_over_the_limit_gets_the_same_message(signed_in):
    response = upload(signed_in(ADMIN), b"x" * (3 * 1024 * 1024))

    assert response.status_code == 413
    assert "Le fichier dépasse 2 Mo" in page_text(response)


def test_other_pages_keep_the_apps_smaller_limit(signed_in, region):
    client = signed_in(ADMIN)
    token = csrf_token(client, "/admin/")

    response = client.post("/admin/workers/new", data={"name": "x" * 300_000, "csrf_token": token})

    assert response.status_code == 413
    assert "Le fichier dépasse" not in page_text(response)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x81\x8d\x8f\x90\x9d", "le fichier n'est pas du texte"),
        (b"   \n", "Le fichier est vide."),
    ],
)
def test_a_file_that_is_not_a_csv_is_refused_at_once(signed_in, content, message):
    response = upload(signed_in(ADMIN), content)

    assert response.status_code == 422 and message in page_text(response)
    assert audit_rows("import.workers") == []


def test_an_upload_without_a_file_says_so(signed_in):
    client = signed_in(ADMIN)
    token = csrf_token(client, "/admin/imports")

    response = client.post("/admin/imports", data={"kind": "workers", "csrf_token": token})

    assert response.status_code == 422 and "Choisissez un fichier CSV." in page_text(response)


def test_a_file_with_the_wrong_columns_is_refused_on_its_line_1(signed_in, work):
    client = signed_in(ADMIN)
    location = upload(client, "code,name,kind,parent_code\nX,Y,cscom,Z\n").location

    work()

    page = page_text(client.get(location))
    assert re.search(r'<th scope="row">1</th><td>colonnes manquantes : phone, facility_code', page)


@pytest.fixture
def redis_down(app, monkeypatch):
    """Call to replace the app's Redis by one nothing answers (once signed in: the login's
    throttle needs Redis)."""
    return lambda: monkeypatch.setitem(app.extensions, "redis", connect("redis://127.0.0.1:9/0"))


def test_with_redis_down_the_upload_page_says_imports_are_impossible(signed_in, redis_down):
    client = signed_in(ADMIN)
    token = csrf_token(client, "/admin/imports")
    redis_down()

    page = client.get("/admin/imports")
    response = client.post(
        "/admin/imports",
        data={
            "kind": "workers",
            "file": (io.BytesIO(STAFF.encode()), "a.csv"),
            "csrf_token": token,
        },
    )

    assert page.status_code == 200 and "ne répond pas" in page_text(page)
    assert response.status_code == 503
    assert "aucun import n'est possible pour le moment" in page_text(response)
    assert audit_rows("import.workers") == []


def test_with_redis_down_an_imports_page_says_so(signed_in, redis_down):
    client = signed_in(ADMIN)
    redis_down()

    response = client.get(f"/admin/imports/{'0' * 32}")

    assert response.status_code == 503 and "ne répond pas" in page_text(response)


def test_an_upload_that_cannot_be_queued_keeps_its_one_audit_row_as_failed(signed_in, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def down(redis, import_id):
        raise RedisConnectionError("gone")

    monkeypatch.setattr(imports, "enqueue", down)

    response = upload(signed_in(ADMIN), STAFF)

    assert response.status_code == 503
    [entry] = audit_rows("import.workers")
    assert entry.after["failure"] == "unqueued"


def test_an_expired_import_says_its_result_is_gone(signed_in):
    response = signed_in(ADMIN).get(f"/admin/imports/{'0' * 32}")

    assert response.status_code == 404
    assert "son résultat est gardé un jour" in page_text(response)


def test_a_failed_import_says_what_to_do(signed_in, redis):
    client = signed_in(ADMIN)
    location = upload(client, STAFF).location
    redis.hset(
        f"directory:import:{location.rsplit('/', 1)[1]}",
        mapping={"status": "failed", "failure": "conflict"},
    )

    page = page_text(client.get(location))

    assert "rien n'a été importé. Envoyez le fichier à nouveau." in page


# -- the French of every reason -------------------------------------------------------------------


def test_every_reason_the_service_gives_has_its_french_text():
    assert set(directory_pages.PROBLEM_TEXTS) == set(MESSAGES)


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_each_french_reason_needs_only_values_the_service_gives(app, key):
    given = {name for _, name, _, _ in string.Formatter().parse(MESSAGES[key]) if name}
    params = {name: 7 if name in ("limit", "count", "width", "line", "children") else "x"
              for name in given}  # fmt: skip
    params.update({"expected": ("a", "b", "c")} if "expected" in given else {})
    params.pop("column", None)

    with app.test_request_context():
        text = directory_pages.problem_text(Problem(key, "code", params))

    assert "%(" not in text and text


def test_levels_and_choices_are_worded_in_french(app):
    problem = Problem("unknown_kind", "kind", {"value": "x", "expected": ("region", "csref")})
    wrong = Problem(
        "wrong_parent",
        "parent_code",
        {"kind": "cscom", "wanted": "csref", "parent": "REG-KKR", "parent_kind": "region"},
    )

    with app.test_request_context():
        assert directory_pages.problem_text(problem).endswith("(attendu : region ou csref)")
        assert "de niveau Région" in directory_pages.problem_text(wrong)
