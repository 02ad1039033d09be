"""The directory (services.directory), on SQLite and PostgreSQL: CSV imports, one-record edits,
(de)activation, and the lists the console searches.

Rows are checked one by one: the valid ones are kept, each bad one is reported by its line in
the file (the header is line 1) with the reason, and importing again updates instead of
duplicating. A form's values go through the same checks. Nothing active stays in, or is put
in, an inactive facility.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from models import Facility, Worker, db
from models.directory import FACILITY_KINDS, ROLES
from services import directory
from services.demo import seed_demo
from services.directory import (
    CsvFormatError,
    ImportReport,
    Problem,
    decode_csv,
    import_facilities,
    import_workers,
    list_facilities,
    list_workers,
    save_facility,
    save_worker,
    set_facility_active,
    set_worker_active,
)
from services.scope import facilities_in_scope

DISTRICT = """\
code,name,kind,parent_code
REG-KKR,Région de Koulikoro,region,
CSREF-KATI,CSRef de Kati,csref,REG-KKR
CSCOM-MLB,CSCom Malibougou,cscom,CSREF-KATI
CSCOM-SNB,CSCom Sanankoroba,cscom,CSREF-KATI
"""

STAFF = """\
name,phone,facility_code,role,language
Fatoumata Diarra,76 12 34 56,CSCOM-MLB,qi_focal_point,fr
Moussa Coulibaly,+223 66-12-34-57,CSCOM-MLB,dtc,bm
Dr Awa Traoré,0022370000001,CSREF-KATI,supervisor,fr
"""


def facilities() -> dict[str, tuple[str, str, str | None]]:
    """code -> (name, kind, parent code), as stored."""
    db.session.expire_all()
    return {
        f.code: (f.name, f.kind, f.parent.code if f.parent else None)
        for f in db.session.scalars(sa.select(Facility))
    }


def workers() -> dict[str, tuple[str, str, str, str]]:
    """phone -> (name, facility code, role, language), as stored."""
    db.session.expire_all()
    return {
        w.phone: (w.name, w.facility.code, w.role, w.language)
        for w in db.session.scalars(sa.select(Worker))
    }


@pytest.fixture
def district(app) -> None:
    report = import_facilities(DISTRICT)
    assert report.ok, report.errors
    db.session.commit()


# -- facilities -----------------------------------------------------------------------------------


def test_a_valid_file_creates_the_hierarchy(app):
    report = import_facilities(DISTRICT)

    assert report == ImportReport(created=4, updated=0, errors=[])
    assert facilities() == {
        "REG-KKR": ("Région de Koulikoro", "region", None),
        "CSREF-KATI": ("CSRef de Kati", "csref", "REG-KKR"),
        "CSCOM-MLB": ("CSCom Malibougou", "cscom", "CSREF-KATI"),
        "CSCOM-SNB": ("CSCom Sanankoroba", "cscom", "CSREF-KATI"),
    }


def test_a_parent_may_come_later_in_the_file(app):
    report = import_facilities(
        "code,name,kind,parent_code\n"
        "CSCOM-MLB,CSCom Malibougou,cscom,CSREF-KATI\n"
        "CSREF-KATI,CSRef de Kati,csref,REG-KKR\n"
        "REG-KKR,Région de Koulikoro,region,\n"
    )

    assert report.ok and report.created == 3
    assert facilities()["CSCOM-MLB"][2] == "CSREF-KATI"
    assert facilities()["CSREF-KATI"][2] == "REG-KKR"


def test_a_parent_may_be_a_facility_already_stored(district):
    report = import_facilities(
        "code,name,kind,parent_code\nCSCOM-KTD,CSCom Kati Dar Salam,cscom,CSREF-KATI\n"
    )

    assert report == ImportReport(created=1, updated=0, errors=[])
    assert facilities()["CSCOM-KTD"] == ("CSCom Kati Dar Salam", "cscom", "CSREF-KATI")


def ids() -> dict[str, int]:
    return dict(db.session.execute(sa.select(Facility.code, Facility.id)).all())


def test_importing_again_updates_by_code_instead_of_duplicating(district):
    before = ids()

    report = import_facilities(
        DISTRICT.replace("CSCom Malibougou", "CSCom de Malibougou")
        + "CSREF-KOULIKORO,CSRef de Koulikoro,csref,REG-KKR\n"
        + "CSCOM-KOU,CSCom Koulikoro Centre,cscom,CSREF-KOULIKORO\n"
    )

    assert report == ImportReport(created=2, updated=4, errors=[])
    assert facilities()["CSCOM-MLB"] == ("CSCom de Malibougou", "cscom", "CSREF-KATI")
    assert len(facilities()) == 6
    after = ids()
    assert {code: after[code] for code in before} == before  # the same rows, updated


def test_a_reimport_can_move_a_cscom_to_another_csref(district):
    import_facilities("code,name,kind,parent_code\nCSREF-FANA,CSRef de Fana,csref,REG-KKR\n")

    report = import_facilities(
        "code,name,kind,parent_code\nCSCOM-SNB,Sanankoroba,cscom,CSREF-FANA\n"
    )

    assert report == ImportReport(created=0, updated=1, errors=[])
    assert facilities()["CSCOM-SNB"] == ("Sanankoroba", "cscom", "CSREF-FANA")


def test_a_bad_row_among_good_ones_is_reported_and_the_good_ones_are_kept(app):
    report = import_facilities(
        "code,name,kind,parent_code\n"
        "REG-KKR,Région de Koulikoro,region,\n"
        "CSREF-KATI,CSRef de Kati,hospital,REG-KKR\n"
        "CSREF-FANA,CSRef de Fana,csref,REG-KKR\n"
    )

    assert report.created == 2
    assert report.errors == [
        (3, "unknown kind 'hospital' (expected region, csref or cscom)"),
    ]
    assert set(facilities()) == {"REG-KKR", "CSREF-FANA"}


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("CSCOM-X,CSCom X,dispensaire,CSREF-KATI", "unknown kind 'dispensaire'"),
        ("CSCOM-X,CSCom X,cscom,CSREF-NOWHERE", "unknown parent code 'CSREF-NOWHERE'"),
        (
            "CSCOM-X,CSCom X,cscom,REG-KKR",
            "the parent of a cscom must be a csref, but 'REG-KKR' is a region",
        ),
        (
            "CSCOM-X,CSCom X,cscom,CSCOM-MLB",
            "the parent of a cscom must be a csref, but 'CSCOM-MLB' is a cscom",
        ),
        (
            "CSREF-X,CSRef X,csref,CSREF-KATI",
            "the parent of a csref must be a region, but 'CSREF-KATI' is a csref",
        ),
        ("REG-X,Région X,region,REG-KKR", "a region has no parent (parent_code is 'REG-KKR')"),
        ("CSCOM-X,CSCom X,cscom,", "a cscom needs a parent_code (the code of its csref)"),
        ("CSREF-X,CSRef X,csref,", "a csref needs a parent_code (the code of its region)"),
        (",CSCom X,cscom,CSREF-KATI", "code is empty"),
        ("CSCOM-X,,cscom,CSREF-KATI", "name is empty"),
        ("CSCOM-X,CSCom X,,CSREF-KATI", "kind is empty"),
        ("CSCOM-X,CSCom X,cscom", "a cscom needs a parent_code"),
        ("CSCOM-X,CSCom Kati, Dar Salam,cscom,CSREF-KATI", "5 values for 4 columns"),
        ("CSCOM-MLB,CSCom Malibougou bis,cscom,CSREF-KATI", "duplicate code 'CSCOM-MLB'"),
        ("C" * 33 + ",CSCom X,cscom,CSREF-KATI", "code is longer than 32 characters"),
        ("CSCOM-X," + "n" * 121 + ",cscom,CSREF-KATI", "name is longer than 120 characters"),
    ],
    ids=[
        "unknown kind",
        "unknown parent",
        "cscom under a region",
        "cscom under a cscom",
        "csref under a csref",
        "region with a parent",
        "cscom without parent",
        "csref without parent",
        "no code",
        "no name",
        "no kind",
        "short row",
        "unquoted separator",
        "duplicate code",
        "long code",
        "long name",
    ],
)
def test_each_kind_of_row_error_is_reported_with_its_line_and_reason(district, row, reason):
    report = import_facilities(DISTRICT + row + "\n")

    assert report.created == 0 and report.updated == 4
    [(line, message)] = report.errors
    assert line == 6
    assert reason in message
    assert len(facilities()) == 4


def test_a_duplicate_code_names_the_line_that_came_first(app):
    report = import_facilities(DISTRICT + "CSCOM-MLB,Autre,cscom,CSREF-KATI\n")

    assert report.errors == [(6, "duplicate code 'CSCOM-MLB' (already on line 4)")]
    assert facilities()["CSCOM-MLB"][0] == "CSCom Malibougou"


def test_every_problem_of_a_row_is_reported_at_once(app):
    report = import_facilities("code,name,kind,parent_code\n,,clinic,\n")

    assert report.errors == [
        (2, "code is empty; name is empty; unknown kind 'clinic' (expected region, csref or cscom)")
    ]


def test_a_row_under_a_bad_row_is_refused_and_points_at_it(app):
    report = import_facilities(
        "code,name,kind,parent_code\n"
        "CSREF-KATI,CSRef de Kati,csref,REG-NOWHERE\n"
        "CSCOM-MLB,CSCom Malibougou,cscom,CSREF-KATI\n"
    )

    assert report.errors == [
        (2, "unknown parent code 'REG-NOWHERE'"),
        (3, "parent 'CSREF-KATI' is not imported: line 2 has errors"),
    ]
    assert facilities() == {}


def test_a_facility_with_others_under_it_cannot_change_level(district):
    report = import_facilities("code,name,kind,parent_code\nCSREF-KATI,Kati,region,\n")

    assert report.errors == [
        (2, "'CSREF-KATI' is a csref with 2 facilities under it, so it cannot become a region")
    ]
    assert facilities()["CSREF-KATI"] == ("CSRef de Kati", "csref", "REG-KKR")


def test_a_missing_column_refuses_the_whole_file_on_line_1(app):
    report = import_facilities("code,name,kind\nREG-KKR,Région de Koulikoro,region\n")

    assert report.created == 0
    assert report.errors == [
        (
            1,
            "missing column parent_code "
            "(the first line must be code,name,kind,parent_code; found code, name, kind)",
        )
    ]
    assert facilities() == {}


def test_a_workers_file_given_as_facilities_is_refused(app):
    report = import_facilities(STAFF)

    [(line, message)] = report.errors
    assert line == 1
    assert message.startswith("missing columns code, kind, parent_code")


def test_an_empty_file_is_refused(app):
    assert import_facilities("").errors == [
        (1, "the file is empty: the first line must be code,name,kind,parent_code")
    ]


def test_the_header_must_be_the_first_line(app):
    report = import_facilities("\n" + DISTRICT)

    assert report.errors == [
        (
            1,
            "missing columns code, name, kind, parent_code "
            "(the first line must be code,name,kind,parent_code; found nothing)",
        )
    ]


def test_excel_files_with_a_bom_and_semicolons_are_read(app):
    text = "\ufeffcode;name;kind;parent_code\r\n" + (
        "REG-KKR;Région de Koulikoro;region;\r\n"
        'CSREF-KATI;"CSRef de Kati; cercle de Kati";csref;REG-KKR\r\n'
    )

    report = import_facilities(text)

    assert report == ImportReport(created=2, updated=0, errors=[])
    assert facilities()["CSREF-KATI"] == ("CSRef de Kati; cercle de Kati", "csref", "REG-KKR")


def test_headers_and_kinds_ignore_case_and_spaces_and_columns_may_be_reordered(app):
    report = import_facilities(
        " Parent_Code , Code , Name , Kind , Notes\n"
        ",REG-KKR,  Région de Koulikoro ,Region,chef-lieu Koulikoro\n"
    )

    assert report.ok
    assert facilities() == {"REG-KKR": ("Région de Koulikoro", "region", None)}


def test_line_numbers_count_blank_lines_and_values_on_several_lines(app):
    report = import_facilities(
        "code,name,kind,parent_code\n"
        "\n"
        'REG-KKR,"Région de\nKoulikoro",region,\n'
        "CSREF-KATI,CSRef de Kati,csref,REG-NOWHERE\n"
        ",,,\n"
        "CSCOM-MLB,CSCom Malibougou,cscom,CSREF-NOWHERE\n"
    )

    assert [line for line, _ in report.errors] == [3, 5, 7]
    assert "a value runs over several lines" in report.errors[0][1]


def test_the_lines_of_an_open_file_are_accepted_as_well_as_its_text(app, tmp_path):
    path = tmp_path / "facilities.csv"
    path.write_text(DISTRICT, encoding="utf-8")

    with path.open(encoding="utf-8", newline="") as lines:
        report = import_facilities(lines)

    assert report.created == 4
    assert import_facilities(DISTRICT.splitlines()).updated == 4


def test_decode_csv_reads_utf8_with_a_bom_and_windows_1252_from_excel():
    text = "code;name\nCSREF-KATI;Sébénikoro\n"

    assert decode_csv(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode_csv(text.encode("cp1252")) == text
    with pytest.raises(CsvFormatError):
        decode_csv(b"\x81\x8d\x8f\x90\x9d")


def test_the_report_summary_is_what_the_command_prints():
    report = ImportReport(created=3, updated=2, errors=[(4, "x")])

    assert report.summary() == "3 created, 2 updated, 1 errors"
    assert not report.ok


# -- workers --------------------------------------------------------------------------------------


def test_a_valid_file_creates_workers_with_e164_phones(district):
    report = import_workers(STAFF)

    assert report == ImportReport(created=3, updated=0, errors=[])
    assert workers() == {
        "+22376123456": ("Fatoumata Diarra", "CSCOM-MLB", "qi_focal_point", "fr"),
        "+22366123457": ("Moussa Coulibaly", "CSCOM-MLB", "dtc", "bm"),
        "+22370000001": ("Dr Awa Traoré", "CSREF-KATI", "supervisor", "fr"),
    }


def test_new_workers_are_active_and_not_opted_out(district):
    import_workers(STAFF)

    assert all(w.active and not w.opted_out for w in db.session.scalars(sa.select(Worker)))


def test_importing_again_updates_by_phone_however_it_is_written(district):
    import_workers(STAFF)
    db.session.commit()

    report = import_workers(
        "name,phone,facility_code,role,language\n"
        "Fatoumata Diarra Traoré,+22376123456,CSCOM-SNB,dtc,bm\n"
        "Moussa Coulibaly,66123457,CSCOM-MLB,dtc,bm\n"
    )

    assert report == ImportReport(created=0, updated=2, errors=[])
    assert len(workers()) == 3
    assert workers()["+22376123456"] == ("Fatoumata Diarra Traoré", "CSCOM-SNB", "dtc", "bm")


def test_an_import_never_reactivates_a_worker_or_undoes_an_opt_out(district):
    import_workers(STAFF)
    worker = db.session.scalar(sa.select(Worker).where(Worker.phone == "+22376123456"))
    worker.active, worker.opted_out = False, True
    db.session.commit()

    assert import_workers(STAFF).updated == 3

    db.session.refresh(worker)
    assert (worker.active, worker.opted_out) == (False, True)


def test_an_empty_language_is_french_for_a_new_worker_and_unchanged_for_a_known_one(district):
    import_workers(STAFF)

    report = import_workers(
        "name,phone,facility_code,role,language\n"
        "Moussa Coulibaly,+22366123457,CSCOM-MLB,dtc,\n"
        "Kadiatou Keita,70000013,CSCOM-MLB,midwife,\n"
    )

    assert report == ImportReport(created=1, updated=1, errors=[])
    assert workers()["+22366123457"][3] == "bm"
    assert workers()["+22370000013"][3] == "fr"


def test_a_bad_worker_row_among_good_ones_is_reported_and_the_good_ones_are_kept(district):
    report = import_workers(
        "name,phone,facility_code,role,language\n"
        "Fatoumata Diarra,76 12 34 56,CSCOM-MLB,qi_focal_point,fr\n"
        "Moussa Coulibaly,12,CSCOM-MLB,dtc,bm\n"
        "Kadiatou Keita,70000013,CSCOM-MLB,midwife,bm\n"
    )

    assert report.created == 2
    assert report.errors == [(3, "invalid phone: '12' is not a valid phone number")]
    assert set(workers()) == {"+22376123456", "+22370000013"}


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("Oumar Dembélé,not a phone,CSCOM-MLB,dtc,fr", "invalid phone: 'not a phone'"),
        ("Oumar Dembélé,7612345,CSCOM-MLB,dtc,fr", "invalid phone: '7612345' is not a valid"),
        ("Oumar Dembélé,,CSCOM-MLB,dtc,fr", "phone is empty"),
        ("Oumar Dembélé,70000022,CSCOM-NOWHERE,dtc,fr", "unknown facility code 'CSCOM-NOWHERE'"),
        ("Oumar Dembélé,70000022,,dtc,fr", "facility_code is empty"),
        (
            "Oumar Dembélé,70000022,CSCOM-MLB,doctor,fr",
            "unknown role 'doctor' (expected qi_focal_point, dtc, midwife, nurse, supervisor, "
            "regional or other)",
        ),
        ("Oumar Dembélé,70000022,CSCOM-MLB,,fr", "role is empty"),
        ("Oumar Dembélé,70000022,CSCOM-MLB,dtc,en", "unknown language 'en' (expected fr or bm)"),
        (",70000022,CSCOM-MLB,dtc,fr", "name is empty"),
        ("Oumar Dembélé,70000022,CSCOM-MLB,dtc,fr,extra", "6 values for 5 columns"),
        ("Fatoumata D.,+223 76 12 34 56,CSCOM-MLB,dtc,fr", "duplicate phone +22376123456"),
    ],
    ids=[
        "not a phone",
        "too short a phone",
        "no phone",
        "unknown facility",
        "no facility",
        "unknown role",
        "no role",
        "unknown language",
        "no name",
        "unquoted separator",
        "duplicate phone",
    ],
)
def test_each_kind_of_worker_row_error_is_reported_with_its_line_and_reason(district, row, reason):
    report = import_workers(STAFF + row + "\n")

    assert report.created == 3
    [(line, message)] = report.errors
    assert line == 5
    assert reason in message
    assert len(workers()) == 3


def test_a_duplicate_phone_names_the_line_that_came_first(district):
    report = import_workers(STAFF + "Someone Else,76-12-34-56,CSCOM-SNB,nurse,fr\n")

    assert report.errors == [(5, "duplicate phone +22376123456 (already on line 2)")]
    assert workers()["+22376123456"][0] == "Fatoumata Diarra"


def test_roles_and_languages_ignore_case(district):
    report = import_workers(
        "name,phone,facility_code,role,language\nAwa,70000099,CSCOM-MLB,QI_Focal_Point,FR\n"
    )

    assert report.ok
    assert workers()["+22370000099"][2:] == ("qi_focal_point", "fr")


def test_a_missing_worker_column_refuses_the_whole_file(district):
    report = import_workers("name,phone,facility_code,role\nAwa,70000099,CSCOM-MLB,dtc\n")

    assert report.errors == [
        (
            1,
            "missing column language (the first line must be "
            "name,phone,facility_code,role,language; found name, phone, facility_code, role)",
        )
    ]
    assert workers() == {}


def test_workers_from_excel_with_a_bom_and_semicolons(district):
    text = "\ufeffname;phone;facility_code;role;language\r\n" + (
        "Awa Traoré;76 12 34 56;CSCOM-MLB;dtc;bm\r\n"
    )

    report = import_workers(text)

    assert report == ImportReport(created=1, updated=0, errors=[])
    assert workers() == {"+22376123456": ("Awa Traoré", "CSCOM-MLB", "dtc", "bm")}


def test_control_characters_in_a_spreadsheet_cell_are_dropped_not_fatal(app):
    seed_demo()
    report = import_workers(
        "name,phone,facility_code,role,language\nAwa\x00 Keita,70000099,CSCOM-MLB,nurse,fr\n"
    )
    assert report.errors == []
    names = db.session.scalars(sa.select(Worker.name).where(Worker.phone == "+22370000099"))
    assert list(names) == ["Awa Keita"]


# -- reasons as data, for the console ---------------------------------------------------------------


def test_each_refused_line_carries_its_problems_as_keys_and_values(district):
    report = import_workers(STAFF + "Oumar,12,CSCOM-NOWHERE,doctor,fr\n")

    [(line, problems)] = report.details
    assert line == 5
    assert [(p.key, p.column) for p in problems] == [
        ("invalid_phone", "phone"),
        ("unknown_facility", "facility_code"),
        ("unknown_role", "role"),
    ]
    assert problems[2].params == {"value": "doctor", "expected": ROLES}
    assert report.errors == [(5, "; ".join(str(p) for p in problems))]


def test_a_file_level_problem_is_line_1_with_its_key(app):
    report = import_facilities("code,name\n")

    [(line, (problem,))] = report.details
    assert (line, problem.key) == (1, "missing_columns")
    assert problem.params["missing"] == "kind, parent_code"


def test_a_problem_survives_a_trip_through_json(app):
    problem = Problem("unknown_kind", "kind", {"value": "x", "expected": FACILITY_KINDS})

    assert Problem.from_json(json.loads(json.dumps(problem.to_json()))) == problem
    assert str(problem) == "unknown kind 'x' (expected region, csref or cscom)"


# -- progress -------------------------------------------------------------------------------------


def test_an_import_reports_its_progress_in_rows_until_every_row_is_done(district, monkeypatch):
    monkeypatch.setattr(directory, "PROGRESS_EVERY", 2)
    calls: list[tuple[int, int]] = []
    rows = "".join(f"Agent {n},7600{n:04d},CSCOM-MLB,nurse,fr\n" for n in range(5))

    report = import_workers(STAFF + rows + "Bad,12,CSCOM-MLB,nurse,fr\n", progress=_append(calls))

    assert report.rows == 9 and report.created == 8 and report.refused == 1
    assert calls[0] == (1, 9)  # the refused row is done once the rows are checked
    assert calls[-1] == (9, 9)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert len(calls) >= 4


def test_a_facilities_import_reports_progress_too(app):
    calls: list[tuple[int, int]] = []

    import_facilities(DISTRICT, progress=_append(calls))

    assert calls[0] == (0, 4) and calls[-1] == (4, 4)


def test_a_file_that_cannot_be_read_reports_no_progress(app):
    calls: list[tuple[int, int]] = []

    import_facilities("", progress=_append(calls))

    assert calls == []


def _append(calls: list[tuple[int, int]]):
    return lambda done, total: calls.append((done, total))


# -- inactive facilities --------------------------------------------------------------------------


def deactivate(code: str) -> None:
    db.session.execute(sa.update(Facility).where(Facility.code == code).values(active=False))
    db.session.commit()


def test_an_import_refuses_an_active_worker_in_an_inactive_facility(district):
    deactivate("CSCOM-SNB")

    report = import_workers(
        "name,phone,facility_code,role,language\nAwa,70000099,CSCOM-SNB,nurse,fr\n"
    )

    assert report.errors == [(2, "facility 'CSCOM-SNB' is deactivated")]


def test_an_inactive_worker_may_be_moved_to_an_inactive_facility(district):
    import_workers(STAFF)
    db.session.execute(sa.update(Worker).where(Worker.phone == "+22376123456").values(active=False))
    deactivate("CSCOM-SNB")

    report = import_workers(
        "name,phone,facility_code,role,language\nFatoumata,76123456,CSCOM-SNB,nurse,fr\n"
    )

    assert report == ImportReport(created=0, updated=1, errors=[])


def test_an_import_refuses_a_new_facility_under_an_inactive_one(district):
    deactivate("CSCOM-MLB")
    deactivate("CSCOM-SNB")
    deactivate("CSREF-KATI")

    report = import_facilities(
        "code,name,kind,parent_code\n"
        "CSCOM-KTD,CSCom Kati Dar Salam,cscom,CSREF-KATI\n"
        "CSCOM-MLB,CSCom de Malibougou,cscom,CSREF-KATI\n"
    )

    assert report.errors == [(2, "parent 'CSREF-KATI' is deactivated")]
    assert report.updated == 1  # an inactive CSCom may stay under its inactive CSRef
    assert facilities()["CSCOM-MLB"][0] == "CSCom de Malibougou"


# -- one facility at a time ---------------------------------------------------------------------


def facility(code: str) -> Facility:
    return db.session.scalar(sa.select(Facility).where(Facility.code == code))


def test_save_facility_creates_one_with_the_import_rules(district):
    saved, problems = save_facility(
        {"code": " CSCOM-KTD ", "name": "CSCom Kati\x00 Dar Salam", "kind": "CSCOM",
         "parent_code": "CSREF-KATI"}
    )  # fmt: skip

    assert problems == []
    assert (saved.code, saved.name, saved.kind, saved.parent.code, saved.active) == (
        "CSCOM-KTD",
        "CSCom Kati Dar Salam",
        "cscom",
        "CSREF-KATI",
        True,
    )


def test_save_facility_reports_every_problem_of_the_form_at_once(district):
    saved, problems = save_facility(
        {"code": "CSCOM-MLB", "name": "", "kind": "cscom", "parent_code": "REG-KKR"}
    )

    assert saved is None
    assert [(p.key, p.column) for p in problems] == [
        ("empty", "name"),
        ("code_taken", "code"),
        ("wrong_parent", "parent_code"),
    ]
    assert str(problems[1]) == "code 'CSCOM-MLB' is already CSCom Malibougou's"


def test_save_facility_updates_one_and_may_change_its_code(district):
    malibougou = facility("CSCOM-MLB")

    saved, problems = save_facility(
        {"code": "CSCOM-MALI", "name": "Malibougou", "kind": "cscom", "parent_code": "CSREF-KATI"},
        malibougou,
    )

    assert problems == [] and saved is malibougou
    assert facilities()["CSCOM-MALI"] == ("Malibougou", "cscom", "CSREF-KATI")
    assert "CSCOM-MLB" not in facilities()


def test_save_facility_keeps_its_own_code_and_checks_a_change_of_level(district):
    kati = facility("CSREF-KATI")

    saved, problems = save_facility(
        {"code": "CSREF-KATI", "name": "Kati", "kind": "region", "parent_code": ""}, kati
    )

    assert saved is None
    assert [p.key for p in problems] == ["kind_change"]


def test_an_active_facility_cannot_be_put_under_an_inactive_one(district):
    import_facilities("code,name,kind,parent_code\nCSREF-FANA,CSRef de Fana,csref,REG-KKR\n")
    deactivate("CSREF-FANA")

    _, problems = save_facility(
        {"code": "CSCOM-SNB", "name": "S", "kind": "cscom", "parent_code": "CSREF-FANA"},
        facility("CSCOM-SNB"),
    )

    assert [str(p) for p in problems] == ["parent 'CSREF-FANA' is deactivated"]


def test_deactivating_a_facility_deactivates_its_active_workers(district):
    import_workers(STAFF)
    snb = facility("CSCOM-MLB")

    workers_off, problems = set_facility_active(snb, False)

    assert problems == []
    assert sorted(w.phone for w in workers_off) == ["+22366123457", "+22376123456"]
    assert not snb.active
    assert not any(w.active for w in db.session.scalars(sa.select(Worker).where(
        Worker.facility_id == snb.id)))  # fmt: skip


def test_reactivating_a_facility_leaves_its_workers_inactive(district):
    import_workers(STAFF)
    mlb = facility("CSCOM-MLB")
    set_facility_active(mlb, False)

    assert set_facility_active(mlb, True) == ([], [])

    assert mlb.active
    assert [w.active for w in db.session.scalars(sa.select(Worker).where(
        Worker.facility_id == mlb.id))] == [False, False]  # fmt: skip


def test_a_facility_with_active_ones_under_it_cannot_be_deactivated(district):
    kati = facility("CSREF-KATI")

    _, problems = set_facility_active(kati, False)

    assert [str(p) for p in problems] == [
        "'CSREF-KATI' has 2 active facilities under it: deactivate them first"
    ]
    assert kati.active


def test_a_facility_under_an_inactive_one_cannot_be_reactivated(district):
    for code in ("CSCOM-MLB", "CSCOM-SNB", "CSREF-KATI"):
        assert set_facility_active(facility(code), False)[1] == []

    _, problems = set_facility_active(facility("CSCOM-MLB"), True)

    assert [str(p) for p in problems] == ["parent 'CSREF-KATI' is deactivated"]


def test_setting_the_state_a_facility_already_has_changes_nothing(district):
    assert set_facility_active(facility("CSCOM-MLB"), True) == ([], [])


# -- one worker at a time -------------------------------------------------------------------------


WORKER_FORM = {
    "name": "Oumar Dembélé",
    "phone": "70 00 00 22",
    "facility_code": "CSCOM-MLB",
    "role": "dtc",
    "language": "bm",
}


def test_save_worker_creates_one_with_a_normalised_phone(district):
    saved, problems = save_worker(WORKER_FORM)

    assert problems == []
    assert workers()["+22370000022"] == ("Oumar Dembélé", "CSCOM-MLB", "dtc", "bm")
    assert saved.active and not saved.opted_out


def test_save_worker_refuses_another_workers_phone_and_names_them(district):
    import_workers(STAFF)

    saved, problems = save_worker({**WORKER_FORM, "phone": "0022376123456"})

    assert saved is None
    assert [str(p) for p in problems] == [
        "phone +22376123456 is already Fatoumata Diarra's (CSCOM-MLB)"
    ]


def test_save_worker_updates_one_and_keeps_its_language_when_none_is_given(district):
    import_workers(STAFF)
    moussa = db.session.scalar(sa.select(Worker).where(Worker.phone == "+22366123457"))

    saved, problems = save_worker(
        {**WORKER_FORM, "name": "Moussa C.", "phone": "66 12 34 57", "language": ""}, moussa
    )

    assert problems == [] and saved is moussa
    assert workers()["+22366123457"] == ("Moussa C.", "CSCOM-MLB", "dtc", "bm")


def test_save_worker_reports_each_field_it_refuses(district):
    deactivate("CSCOM-SNB")

    _, problems = save_worker(
        {"name": "", "phone": "12", "facility_code": "CSCOM-SNB", "role": "chef", "language": "en"}
    )

    assert [(p.key, p.column) for p in problems] == [
        ("empty", "name"),
        ("invalid_phone", "phone"),
        ("inactive_facility", "facility_code"),
        ("unknown_role", "role"),
        ("unknown_language", "language"),
    ]


def test_a_worker_is_not_reactivated_in_an_inactive_facility(district):
    saved, _ = save_worker(WORKER_FORM)
    set_facility_active(saved.facility, False)

    assert [str(p) for p in set_worker_active(saved, True)] == [
        "facility 'CSCOM-MLB' is deactivated"
    ]
    assert not saved.active
    set_facility_active(saved.facility, True)
    assert set_worker_active(saved, True) == [] and saved.active


# -- lists and search ---------------------------------------------------------------------------


@pytest.fixture
def seeded(app) -> dict[str, int]:
    from tests.supervision.districts import seed_districts

    seed_districts()
    return ids()


def codes(page) -> list[str]:
    return [line.facility.code for line in page.items]


def test_a_supervisor_sees_their_csref_and_its_cscoms(seeded):
    visible = facilities_in_scope("supervisor", seeded["CSREF-KATI"])

    assert codes(list_facilities(visible)) == ["CSREF-KATI", "CSCOM-KTD", "CSCOM-MLB", "CSCOM-SNB"]


def test_a_regional_viewer_sees_their_region_down_to_the_cscoms(seeded):
    visible = facilities_in_scope("regional", seeded["REG-KKR"])

    assert codes(list_facilities(visible)) == [
        "REG-KKR", "CSREF-KATI", "CSREF-KLK", "CSCOM-KLB", "CSCOM-KTD", "CSCOM-MLB", "CSCOM-SNB",
    ]  # fmt: skip


def test_an_admin_sees_every_facility_and_a_viewer_without_one_none(seeded):
    assert list_facilities(facilities_in_scope("admin", None)).total == len(seeded)
    assert list_facilities(facilities_in_scope("supervisor", None)).total == 0


def test_facilities_are_found_by_code_or_name_and_counted_with_their_active_workers(seeded):
    everyone = facilities_in_scope("admin", None)

    found = list_facilities(everyone, "malibou")
    assert codes(found) == ["CSCOM-MLB"] and found.items[0].workers == 3
    assert codes(list_facilities(everyone, "csref-k")) == ["CSREF-KATI", "CSREF-KLK"]
    assert codes(list_facilities(everyone, "%")) == []  # no wildcard


def test_the_status_filter_shows_active_inactive_or_all(seeded):
    everyone = facilities_in_scope("admin", None)
    deactivate("CSCOM-SGU")

    assert "CSCOM-SGU" not in codes(list_facilities(everyone))
    assert codes(list_facilities(everyone, status="inactive")) == ["CSCOM-SGU"]
    assert "CSCOM-SGU" in codes(list_facilities(everyone, status="all"))


def test_lists_are_paged(seeded, monkeypatch):
    monkeypatch.setattr(directory, "PAGE_SIZE", 4)
    everyone = facilities_in_scope("admin", None)

    first, last = list_facilities(everyone), list_facilities(everyone, page=3)

    assert (first.total, first.pages, first.previous, first.next) == (10, 3, None, 2)
    assert len(last.items) == 2 and (last.previous, last.next) == (2, None)
    assert list_facilities(everyone, page=9).items == []


def names(page) -> list[str]:
    return [worker.name for worker in page.items]


def test_workers_are_found_by_name_or_phone_however_it_is_written(seeded):
    everyone = facilities_in_scope("admin", None)

    assert names(list_workers(everyone, "coulibaly")) == ["Assitan Coulibaly", "Moussa Coulibaly"]
    assert names(list_workers(everyone, "70 00 00 12")) == ["Moussa Coulibaly"]
    assert names(list_workers(everyone, "0022370000012")) == ["Moussa Coulibaly"]
    assert names(list_workers(everyone, "+223 70000051")) == ["Fanta Camara"]


def test_a_supervisor_finds_only_the_people_of_their_district(seeded):
    kati = facilities_in_scope("supervisor", seeded["CSREF-KATI"])

    found = names(list_workers(kati))
    assert "Dr Awa Traoré" in found and "Fatoumata Diarra" in found
    assert "Assitan Coulibaly" not in found and "Fanta Camara" not in found
    assert names(list_workers(kati, "Assitan")) == []


def test_workers_may_be_listed_for_one_facility_and_by_status(seeded):
    everyone = facilities_in_scope("admin", None)
    db.session.execute(sa.update(Worker).where(Worker.phone == "+22370000012").values(active=False))

    mlb = list_workers(everyone, facility_id=seeded["CSCOM-MLB"])
    assert names(mlb) == ["Fatoumata Diarra", "Kadiatou Keita"]
    assert names(list_workers(everyone, status="inactive")) == ["Moussa Coulibaly"]
    assert len(list_workers(everyone, status="all", facility_id=seeded["CSCOM-MLB"]).items) == 3


def test_a_first_line_that_cannot_be_read_is_refused_in_words(app):
    """A double quote never closed runs past the csv module's field limit: the file is refused,
    not a crash (the console's import job would fail as 'crashed')."""
    report = import_facilities('"code,name,kind,parent_code\n' + "x" * 200_000)
    assert len(report.errors) == 1
    line, message = report.errors[0]
    assert line == 1 and message.startswith("cannot read the first line: ")
