"""`flask import facilities|workers FILE.csv`, as an admin runs it, on SQLite and PostgreSQL.

Each refused row is printed as `line N: reason` on stderr, then a summary on stdout; the valid
rows are saved whatever the others hold, and the exit code is 1 when any row was refused.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from models import Facility, Worker, db

DISTRICT = """\
code,name,kind,parent_code
REG-KKR,Région de Koulikoro,region,
CSREF-KATI,CSRef de Kati,csref,REG-KKR
CSCOM-MLB,CSCom Malibougou,cscom,CSREF-KATI
"""

STAFF = """\
name,phone,facility_code,role,language
Fatoumata Diarra,76 12 34 56,CSCOM-MLB,qi_focal_point,fr
Dr Awa Traoré,70 00 00 01,CSREF-KATI,supervisor,bm
"""


@pytest.fixture
def run(app, tmp_path):
    """Write `content` to a file and run `flask import KIND FILE` on it."""
    runner = app.test_cli_runner()

    def run(kind: str, content: str | bytes, name: str = "data.csv"):
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        result = runner.invoke(args=["import", kind, str(path)])
        db.session.rollback()  # what follows sees only what the command committed
        return result

    return run


def stored_facilities() -> dict[str, str | None]:
    return {
        f.code: f.parent.code if f.parent else None for f in db.session.scalars(sa.select(Facility))
    }


def stored_phones() -> dict[str, str]:
    return {w.phone: w.name for w in db.session.scalars(sa.select(Worker))}


def test_importing_a_valid_file_saves_it_prints_a_summary_and_exits_0(run):
    result = run("facilities", DISTRICT)

    assert result.exit_code == 0
    assert result.stdout == "3 created, 0 updated, 0 errors\n"
    assert result.stderr == ""
    assert stored_facilities() == {
        "REG-KKR": None,
        "CSREF-KATI": "REG-KKR",
        "CSCOM-MLB": "CSREF-KATI",
    }


def test_importing_the_same_file_again_updates_instead_of_duplicating(run):
    run("facilities", DISTRICT)

    result = run("facilities", DISTRICT)

    assert result.exit_code == 0
    assert result.stdout == "0 created, 3 updated, 0 errors\n"
    assert len(stored_facilities()) == 3


def test_bad_rows_are_printed_by_line_the_good_ones_saved_and_the_exit_code_is_1(run):
    result = run(
        "facilities",
        DISTRICT
        + "CSCOM-KTD,CSCom Kati Dar Salam,cscom,REG-KKR\n"
        + "CSCOM-SNB,CSCom Sanankoroba,cscom,CSREF-KATI\n"
        + "CSCOM-X,CSCom X,clinic,CSREF-KATI\n",
    )

    assert result.exit_code == 1
    assert result.stderr == (
        "line 5: the parent of a cscom must be a csref, but 'REG-KKR' is a region\n"
        "line 7: unknown kind 'clinic' (expected region, csref or cscom)\n"
    )
    assert result.stdout == "4 created, 0 updated, 2 errors\n"
    assert set(stored_facilities()) == {"REG-KKR", "CSREF-KATI", "CSCOM-MLB", "CSCOM-SNB"}


def test_a_file_without_the_expected_columns_is_refused_on_line_1(run):
    result = run("facilities", STAFF)

    assert result.exit_code == 1
    assert result.stderr.startswith("line 1: missing columns code, kind, parent_code")
    assert result.stdout == "0 created, 0 updated, 1 errors\n"
    assert stored_facilities() == {}


def test_a_file_saved_by_french_excel_is_read(run):
    """Excel in a French locale writes `;` between values, and either a UTF-8 BOM ("CSV UTF-8")
    or Windows-1252 (plain "CSV")."""
    excel = DISTRICT.replace(",", ";").replace("\n", "\r\n")

    assert run("facilities", b"\xef\xbb\xbf" + excel.encode("utf-8")).exit_code == 0
    result = run(
        "facilities",
        excel.replace("Région de Koulikoro", "Région de Koulikoro (Mali)").encode("cp1252"),
    )

    assert result.exit_code == 0, result.output
    assert result.stdout == "0 created, 3 updated, 0 errors\n"
    assert db.session.scalar(sa.select(Facility.name).where(Facility.code == "REG-KKR")) == (
        "Région de Koulikoro (Mali)"
    )


def test_importing_workers_normalises_their_phones(run):
    run("facilities", DISTRICT)

    result = run("workers", STAFF)

    assert result.exit_code == 0
    assert result.stdout == "2 created, 0 updated, 0 errors\n"
    assert stored_phones() == {
        "+22376123456": "Fatoumata Diarra",
        "+22370000001": "Dr Awa Traoré",
    }


def test_importing_workers_again_matches_them_by_phone(run):
    run("facilities", DISTRICT)
    run("workers", STAFF)

    result = run("workers", STAFF.replace("76 12 34 56", "+22376123456").replace("Diarra", "D."))

    assert result.stdout == "0 created, 2 updated, 0 errors\n"
    assert stored_phones()["+22376123456"] == "Fatoumata D."


def test_bad_worker_rows_are_printed_by_line_and_the_exit_code_is_1(run):
    run("facilities", DISTRICT)

    result = run(
        "workers",
        STAFF
        + "Moussa Coulibaly,12 34,CSCOM-MLB,dtc,bm\n"
        + "Kadiatou Keita,70000013,CSCOM-XYZ,midwife,bm\n"
        + "Oumar Dembélé,70000022,CSCOM-MLB,chief,fr\n"
        + "Mariam Konaté,70000031,CSCOM-MLB,nurse,en\n"
        + "Ibrahim Sidibé,70000032,CSCOM-MLB,nurse,fr\n",
    )

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 4: invalid phone: '12 34' is not a valid phone number",
        "line 5: unknown facility code 'CSCOM-XYZ'",
        "line 6: unknown role 'chief' (expected qi_focal_point, dtc, midwife, nurse, "
        "supervisor, regional or other)",
        "line 7: unknown language 'en' (expected fr or bm)",
    ]
    assert result.stdout == "3 created, 0 updated, 4 errors\n"
    assert set(stored_phones()) == {"+22376123456", "+22370000001", "+22370000032"}


def test_a_missing_file_is_a_usage_error(app, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["import", "facilities", str(tmp_path / "nowhere.csv")]
    )

    assert result.exit_code == 2
    assert "nowhere.csv" in result.stderr


def test_a_binary_file_is_refused_with_a_clear_message(run):
    result = run("facilities", b"\x81\x8d\x8f\x90\x9d", name="photo.jpg")

    assert result.exit_code == 1
    assert "photo.jpg: the file is not text (save it as CSV UTF-8)" in result.stderr


def test_both_commands_are_listed_in_the_help(app):
    result = app.test_cli_runner().invoke(args=["import", "--help"])

    assert result.exit_code == 0
    assert "facilities" in result.stdout and "workers" in result.stdout


def test_a_clash_with_an_import_running_at_the_same_moment_saves_nothing(run, monkeypatch):
    def clashing_import(text: str):
        db.session.add(Facility(code="REG-KKR", name="Koulikoro", kind="region"))
        raise IntegrityError("INSERT INTO facilities …", {}, Exception("duplicate key"))

    monkeypatch.setattr("cli.imports.import_facility_rows", clashing_import)

    result = run("facilities", DISTRICT)

    assert result.exit_code == 1
    assert "saved at the same moment; nothing was imported, run the import again" in (result.stderr)
    assert stored_facilities() == {}
