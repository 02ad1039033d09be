"""Importing the facility hierarchy and the staff list from CSV files admins keep in a spreadsheet.

Both imports take the file's text (or its lines), check every row, keep the valid ones and
report each bad row by its line in the file (the header is line 1), so an admin fixes every
mistake in one pass. Importing the same file again updates the rows it already created:
facilities are matched by code, workers by their phone number in E.164 form.

The spreadsheets come from Excel as often as from anything else: a UTF-8 byte order mark, `;`
separators (Excel in French locales) and Windows-1252 text (Excel's plain "CSV" format) are all
accepted. Changes are made in the current database transaction; the caller commits.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from flows.smstext import clean_text
from models import Facility, Worker, db
from models.directory import FACILITY_KINDS, LANGUAGES, ROLES
from models.phone import InvalidPhone, normalise_phone

FACILITY_COLUMNS = ("code", "name", "kind", "parent_code")
WORKER_COLUMNS = ("name", "phone", "facility_code", "role", "language")
PARENT_KIND = {"region": None, "csref": "region", "cscom": "csref"}
"""The level a facility's parent must be: a CSCom is under a CSRef, a CSRef under a region."""
DELIMITERS = (",", ";", "\t")
MAX_LENGTHS = {"code": 32, "name": 120}
DEFAULT_LANGUAGE = LANGUAGES[0]

CsvInput = str | Iterable[str]
"""The whole text of a CSV file, or its lines (an open text file, a list of strings)."""


@dataclass
class ImportReport:
    """What an import did. `updated` counts rows of the file that matched an existing row."""

    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return f"{self.created} created, {self.updated} updated, {len(self.errors)} errors"


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (no header, a column missing, not text)."""


@dataclass
class _Row:
    line: int
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)
    broken: bool = False


def decode_csv(data: bytes) -> str:
    """The text of an uploaded or read CSV file: UTF-8 (with or without a BOM), else the
    Windows-1252 that Excel's plain "CSV" format writes in French locales."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise CsvFormatError("the file is not text (save it as CSV UTF-8)") from exc


# -- facilities -----------------------------------------------------------------------------------


def import_facilities(source: CsvInput) -> ImportReport:
    """Create or update facilities from CSV rows `code,name,kind,parent_code`.

    A parent may be a facility already stored or one further down the same file. A row whose
    parent is itself a bad row is reported too, since it cannot be placed in the hierarchy.
    """
    report = ImportReport()
    try:
        rows = _read(source, FACILITY_COLUMNS)
    except CsvFormatError as exc:
        report.errors.append((1, str(exc)))
        return report
    readable = [row for row in rows if not row.broken]

    first: dict[str, _Row] = {}
    for row in readable:
        values = row.values
        for column in ("code", "name", "kind"):
            _require(row, column)
        kind = values["kind"] = values["kind"].lower()
        if kind and kind not in FACILITY_KINDS:
            row.problems.append(f"unknown kind '{kind}' (expected {_one_of(FACILITY_KINDS)})")
        code = values["code"]
        if code in first:
            row.problems.append(f"duplicate code '{code}' (already on line {first[code].line})")
        elif code:
            first[code] = row

    existing = _existing_facilities(
        {r.values["code"] for r in readable} | {r.values["parent_code"] for r in readable}
    )
    # Parents are checked level by level, regions first, so a row under a bad row is bad too.
    valid: dict[str, _Row] = {}
    for kind in FACILITY_KINDS:
        for row in readable:
            if row.values["kind"] != kind or row.problems:
                continue
            _check_parent(row, valid, first, existing)
            _check_kind_change(row, existing.get(row.values["code"]))
            if not row.problems:
                valid[row.values["code"]] = row

    saved: dict[str, Facility] = {}
    for kind in FACILITY_KINDS:
        for row in valid.values():
            if row.values["kind"] != kind:
                continue
            values = row.values
            facility = existing.get(values["code"])
            if facility is None:
                facility = Facility(code=values["code"])
                db.session.add(facility)
                report.created += 1
            else:
                report.updated += 1
            facility.name, facility.kind = values["name"], kind
            parent_code = values["parent_code"]
            facility.parent = saved.get(parent_code) or existing.get(parent_code)
            saved[values["code"]] = facility
    db.session.flush()
    report.errors = _errors(rows)
    return report


def _existing_facilities(codes: set[str]) -> dict[str, Facility]:
    codes.discard("")
    found: dict[str, Facility] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        for facility in db.session.scalars(sa.select(Facility).where(Facility.code.in_(chunk))):
            found[facility.code] = facility
    return found


def _check_parent(
    row: _Row, valid: dict[str, _Row], in_file: dict[str, _Row], existing: dict[str, Facility]
) -> None:
    """The parent must exist, in the file or the database, at the level above `row`'s.

    Rows are checked a level at a time, so every row that could be `row`'s parent is decided.
    A parent's row in the file wins over the database; when that row has errors, the stored
    facility stays as it is and may still be the parent.
    """
    kind, parent_code = row.values["kind"], row.values["parent_code"]
    wanted = PARENT_KIND[kind]
    if wanted is None:
        if parent_code:
            row.problems.append(f"a region has no parent (parent_code is '{parent_code}')")
        return
    if not parent_code:
        row.problems.append(f"a {kind} needs a parent_code (the code of its {wanted})")
        return
    declared, stored = in_file.get(parent_code), existing.get(parent_code)
    declared_kind = declared.values["kind"] if declared is not None else None
    if parent_code in valid:
        parent_kind = valid[parent_code].values["kind"]
    elif declared_kind in PARENT_KIND and declared_kind != wanted:
        parent_kind = declared_kind
    elif stored is not None and (declared is None or stored.kind == wanted):
        parent_kind = stored.kind
    elif declared is not None:
        row.problems.append(
            f"parent '{parent_code}' is not imported: line {declared.line} has errors"
        )
        return
    else:
        row.problems.append(f"unknown parent code '{parent_code}'")
        return
    if parent_kind != wanted:
        row.problems.append(
            f"the parent of a {kind} must be a {wanted}, but '{parent_code}' is a {parent_kind}"
        )


def _check_kind_change(row: _Row, facility: Facility | None) -> None:
    """A facility with others under it cannot change level: they would be at the wrong one."""
    if facility is None or facility.kind == row.values["kind"]:
        return
    children = db.session.scalar(
        sa.select(sa.func.count()).select_from(Facility).where(Facility.parent_id == facility.id)
    )
    if children:
        row.problems.append(
            f"'{facility.code}' is a {facility.kind} with {children} facilities under it, "
            f"so it cannot become a {row.values['kind']}"
        )


# -- workers --------------------------------------------------------------------------------------


def import_workers(source: CsvInput) -> ImportReport:
    """Create or update workers from CSV rows `name,phone,facility_code,role,language`.

    Phones are normalised to E.164 (a Malian number may be written without +223). An empty
    language keeps a known worker's language and gives a new one the default (French). Whether
    a worker is active or has opted out is never changed by an import.
    """
    report = ImportReport()
    try:
        rows = _read(source, WORKER_COLUMNS)
    except CsvFormatError as exc:
        report.errors.append((1, str(exc)))
        return report
    readable = [row for row in rows if not row.broken]

    facilities = _existing_facilities({row.values["facility_code"] for row in readable})
    seen: dict[str, int] = {}
    for row in readable:
        values = row.values
        for column in ("name", "phone", "facility_code", "role"):
            _require(row, column)
        if values["phone"]:
            try:
                phone = values["phone"] = normalise_phone(values["phone"])
            except InvalidPhone as exc:
                row.problems.append(f"invalid phone: {exc}")
            else:
                if phone in seen:
                    row.problems.append(f"duplicate phone {phone} (already on line {seen[phone]})")
                else:
                    seen[phone] = row.line
        code = values["facility_code"]
        if code and code not in facilities:
            row.problems.append(f"unknown facility code '{code}'")
        role = values["role"] = values["role"].lower()
        if role and role not in ROLES:
            row.problems.append(f"unknown role '{role}' (expected {_one_of(ROLES)})")
        language = values["language"] = values["language"].lower()
        if language and language not in LANGUAGES:
            row.problems.append(f"unknown language '{language}' (expected {_one_of(LANGUAGES)})")

    valid = [row for row in readable if not row.problems]
    known = _existing_workers([row.values["phone"] for row in valid])
    for row in valid:
        values = row.values
        worker = known.get(values["phone"])
        if worker is None:
            worker = Worker(phone=values["phone"], language=DEFAULT_LANGUAGE)
            db.session.add(worker)
            report.created += 1
        else:
            report.updated += 1
        worker.name, worker.role = values["name"], values["role"]
        worker.facility = facilities[values["facility_code"]]
        if values["language"]:
            worker.language = values["language"]
    db.session.flush()
    report.errors = _errors(rows)
    return report


def _existing_workers(phones: list[str]) -> dict[str, Worker]:
    found: dict[str, Worker] = {}
    for start in range(0, len(phones), 500):
        chunk = phones[start : start + 500]
        for worker in db.session.scalars(sa.select(Worker).where(Worker.phone.in_(chunk))):
            found[worker.phone] = worker
    return found


# -- reading the file -----------------------------------------------------------------------------


def _read(source: CsvInput, columns: tuple[str, ...]) -> list[_Row]:
    """Every non-blank data row of the file, its values stripped and keyed by column name.

    Rows that cannot be read at all come back with `broken` set and no values.
    """
    lines = _lines(source)
    header_line = next(lines, None)
    if header_line is None:
        raise CsvFormatError(f"the file is empty: the first line must be {','.join(columns)}")
    header_line = header_line.removeprefix("\ufeff")
    delimiter = max(DELIMITERS, key=header_line.count)
    reader = csv.reader(itertools.chain([header_line], lines), delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader)]
    missing = [name for name in columns if name not in header]
    if missing:
        found = ", ".join(name for name in header if name) or "nothing"
        raise CsvFormatError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(the first line must be {','.join(columns)}; found {found})"
        )
    positions = {name: header.index(name) for name in columns}
    rows = []
    last_line = reader.line_num
    try:
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                rows.append(_row(line, cells, positions, len(header), delimiter))
    except csv.Error as exc:
        rows.append(_Row(last_line + 1, {}, [f"cannot read this line: {exc}"], broken=True))
    return rows


def _row(
    line: int, cells: list[str], positions: dict[str, int], width: int, delimiter: str
) -> _Row:
    values = {
        name: (clean_text(cells[i]).strip() if i < len(cells) else "")
        for name, i in positions.items()
    }
    row = _Row(line, values)
    if any(cell.strip() for cell in cells[width:]):
        row.problems.append(
            f"{len(cells)} values for {width} columns "
            f"(a value containing '{delimiter}' must be in double quotes)"
        )
    if any("\n" in cell or "\r" in cell for cell in cells):
        row.problems.append("a value runs over several lines (a double quote not closed?)")
    for name, limit in MAX_LENGTHS.items():
        if len(values.get(name, "")) > limit:
            row.problems.append(f"{name} is longer than {limit} characters")
    return row


def _lines(source: CsvInput) -> Iterator[str]:
    if isinstance(source, str):
        return iter(io.StringIO(source, newline=""))
    return iter(source)


def _require(row: _Row, column: str) -> None:
    if not row.values[column]:
        row.problems.append(f"{column} is empty")


def _one_of(names: Iterable[str]) -> str:
    names = list(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def _errors(rows: list[_Row]) -> list[tuple[int, str]]:
    return [(row.line, "; ".join(row.problems)) for row in rows if row.problems]
