"""The facility hierarchy and the staff list: CSV imports, one-record edits, activation, search.

Both imports take the file's text (or its lines), check every row, keep the valid ones and
report each bad row by its line in the file (the header is line 1), so an admin fixes every
mistake in one pass. Importing the same file again updates the rows it already created:
facilities are matched by code, workers by their phone number in E.164 form.

The spreadsheets come from Excel as often as from anything else: a UTF-8 byte order mark, `;`
separators (Excel in French locales) and Windows-1252 text (Excel's plain "CSV" format) are all
accepted. Changes are made in the current database transaction; the caller commits.

The console's forms go through the same checks as a file's rows (`save_facility`,
`save_worker`), so a value refused in one is refused in the other, for the same reason. Each
reason is a `Problem`: a key and its values, written in English here (the command line's
language) and in French by the console, which keeps its own text for every key.

An inactive facility has no active worker and no active facility under it: deactivating a
facility deactivates its workers; a facility with active ones under it is refused; nothing
active may be added to, moved to or reactivated in an inactive facility. Whoever asks "who is
expected to report" may therefore trust `Worker.active` alone.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import math
from collections import ChainMap
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

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
PROGRESS_EVERY = 200
"""Rows saved between two calls of an import's progress callback (and two flushes)."""
STATUSES = ("active", "inactive", "all")
PAGE_SIZE = 50

CsvInput = str | Iterable[str]
"""The whole text of a CSV file, or its lines (an open text file, a list of strings)."""
Progress = Callable[[int, int], None]
"""Called as (rows done, rows in the file) while an import runs."""

MESSAGES = {
    "empty": "{column} is empty",
    "too_long": "{column} is longer than {limit} characters",
    "width": "{count} values for {width} columns "
    "(a value containing '{delimiter}' must be in double quotes)",
    "multiline": "a value runs over several lines (a double quote not closed?)",
    "unreadable": "cannot read this line: {reason}",
    "unreadable_header": "cannot read the first line: {reason}",
    "empty_file": "the file is empty: the first line must be {columns}",
    "missing_column": "missing column {missing} (the first line must be {columns}; found {found})",
    "missing_columns": "missing columns {missing} (the first line must be {columns}; found {found})",
    "no_header": "missing columns {missing} (the first line must be {columns}; found nothing)",
    "not_text": "the file is not text (save it as CSV UTF-8)",
    "unknown_kind": "unknown kind '{value}' (expected {expected})",
    "duplicate_code": "duplicate code '{code}' (already on line {line})",
    "code_taken": "code '{code}' is already {name}'s",
    "region_parent": "a region has no parent (parent_code is '{parent}')",
    "parent_needed": "a {kind} needs a parent_code (the code of its {wanted})",
    "parent_refused": "parent '{parent}' is not imported: line {line} has errors",
    "unknown_parent": "unknown parent code '{parent}'",
    "wrong_parent": "the parent of a {kind} must be a {wanted}, but '{parent}' is a {parent_kind}",
    "inactive_parent": "parent '{parent}' is deactivated",
    "kind_change": "'{code}' is a {kind} with {children} facilities under it, "
    "so it cannot become a {new_kind}",
    "active_children": "'{code}' has {count} active facilities under it: deactivate them first",
    "invalid_phone": "invalid phone: '{value}' is not a valid phone number",
    "duplicate_phone": "duplicate phone {phone} (already on line {line})",
    "phone_taken": "phone {phone} is already {name}'s ({facility})",
    "unknown_facility": "unknown facility code '{code}'",
    "inactive_facility": "facility '{code}' is deactivated",
    "unknown_role": "unknown role '{value}' (expected {expected})",
    "unknown_language": "unknown language '{value}' (expected {expected})",
}
"""Every reason a row or a form is refused, by key; the console has a French text for each."""


@dataclass(frozen=True)
class Problem:
    """Why a row, a form or a file is refused: a key of MESSAGES and the values it names.

    `column` is the column (or form field) it is about, empty for the file as a whole. A value
    that is a tuple is a list of choices ("region, csref or cscom").
    """

    key: str
    column: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        values = {
            name: _one_of(value) if isinstance(value, tuple | list) else value
            for name, value in self.params.items()
        }
        return MESSAGES[self.key].format(column=self.column, **values)

    def to_json(self) -> list[Any]:
        return [self.key, self.column, {k: _jsonable(v) for k, v in self.params.items()}]

    @classmethod
    def from_json(cls, data: list[Any]) -> Problem:
        key, column, params = data
        return cls(
            key, column, {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        )


@dataclass
class ImportReport:
    """What an import did. `updated` counts rows of the file that matched an existing row.

    `errors` holds each refused line with its reasons in English, as the command prints them;
    `details` the same lines with their Problems, for the console to word in French.
    """

    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    details: list[tuple[int, tuple[Problem, ...]]] = field(
        default_factory=list, compare=False, repr=False
    )
    rows: int = field(default=0, compare=False)
    """Data rows read from the file (blank lines left out)."""

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def refused(self) -> int:
        return len(self.errors)

    def summary(self) -> str:
        return f"{self.created} created, {self.updated} updated, {len(self.errors)} errors"

    def refuse(self, line: int, problems: Iterable[Problem]) -> None:
        problems = tuple(problems)
        self.errors.append((line, "; ".join(str(problem) for problem in problems)))
        self.details.append((line, problems))


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (no header, a column missing, not text)."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class _Row:
    line: int
    values: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    broken: bool = False

    def problem(self, key: str, column: str = "", **params: Any) -> None:
        self.problems.append(Problem(key, column, params))


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
        raise CsvFormatError(Problem("not_text")) from exc


# -- facilities -----------------------------------------------------------------------------------


def import_facilities(source: CsvInput, progress: Progress | None = None) -> ImportReport:
    """Create or update facilities from CSV rows `code,name,kind,parent_code`.

    A parent may be a facility already stored or one further down the same file. A row whose
    parent is itself a bad row is reported too, since it cannot be placed in the hierarchy.
    Whether a facility is active is never changed by an import.
    """
    report = ImportReport()
    try:
        rows = _read(source, FACILITY_COLUMNS)
    except CsvFormatError as exc:
        report.refuse(1, [exc.problem])
        return report
    readable = [row for row in rows if not row.broken]

    first: dict[str, _Row] = {}
    for row in readable:
        _check_facility(row)
        code = row.values["code"]
        if code in first:
            row.problem("duplicate_code", "code", code=code, line=first[code].line)
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

    counter = _Counter(progress, len(rows), done=len(rows) - len(valid))
    saved: dict[str, Facility] = {}
    for kind in FACILITY_KINDS:
        for row in valid.values():
            if row.values["kind"] != kind:
                continue
            facility = existing.get(row.values["code"])
            if facility is None:
                facility = Facility(code=row.values["code"])
                db.session.add(facility)
                report.created += 1
            else:
                report.updated += 1
            _fill_facility(facility, row, ChainMap(saved, existing))
            saved[row.values["code"]] = facility
            counter.step()
    counter.finish()
    _report_rows(report, rows)
    return report


def save_facility(
    values: Mapping[str, str | None], facility: Facility | None = None
) -> tuple[Facility | None, list[Problem]]:
    """Create a facility from a form's `values` (FACILITY_COLUMNS), or update `facility`.

    The same checks as an imported row, and the code must not be another facility's. Returns
    the saved facility (flushed), or None and the problems when anything is refused.
    """
    row = _form_row(values, FACILITY_COLUMNS)
    _check_facility(row)
    code = row.values["code"]
    existing = _existing_facilities({code, row.values["parent_code"]})
    other = existing.pop(code, None)
    if other is not None and other is not facility:
        row.problem("code_taken", "code", code=code, name=other.name)
    if row.values["kind"] in PARENT_KIND:
        if facility is not None:
            existing[code] = facility  # the row is this facility, whatever its new code
        _check_parent(row, {}, {}, existing)
        _check_kind_change(row, facility)
    if row.problems:
        return None, row.problems
    if facility is None:
        facility = Facility(code=code)
        db.session.add(facility)
    facility.code = code
    _fill_facility(facility, row, existing)
    db.session.flush()
    return facility, []


def set_facility_active(facility: Facility, active: bool) -> tuple[list[Worker], list[Problem]]:
    """Deactivate `facility` with its active workers, or reactivate it alone.

    Returns the workers deactivated with it (a reactivation leaves them inactive: who still
    works there is for the admin to say, one by one), or the problems: a facility with active
    facilities under it cannot be deactivated, nor one reactivated under an inactive parent.
    """
    if facility.active == active:
        return [], []
    if active:
        if facility.parent is not None and not facility.parent.active:
            return [], [Problem("inactive_parent", "parent_code", {"parent": facility.parent.code})]
        facility.active = True
        return [], []
    children = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Facility)
        .where(Facility.parent_id == facility.id, Facility.active.is_(True))
    )
    if children:
        return [], [Problem("active_children", "", {"code": facility.code, "count": children})]
    workers = list(
        db.session.scalars(
            sa.select(Worker)
            .where(Worker.facility_id == facility.id, Worker.active.is_(True))
            .order_by(Worker.id)
        )
    )
    for worker in workers:
        worker.active = False
    facility.active = False
    db.session.flush()
    return workers, []


def facility_fields(facility: Facility) -> dict[str, Any]:
    """A facility as the audit log keeps it."""
    return {
        "code": facility.code,
        "name": facility.name,
        "kind": facility.kind,
        "parent_code": facility.parent.code if facility.parent else None,
        "active": facility.active,
    }


def _check_facility(row: _Row) -> None:
    """What a facility row needs on its own: a code, a name and a known kind."""
    for column in ("code", "name", "kind"):
        _require(row, column)
    kind = row.values["kind"] = row.values["kind"].lower()
    if kind and kind not in FACILITY_KINDS:
        row.problem("unknown_kind", "kind", value=kind, expected=FACILITY_KINDS)


def _fill_facility(facility: Facility, row: _Row, by_code: Mapping[str, Facility]) -> None:
    """Copy a checked row into `facility`, its parent found by code in `by_code`."""
    values = row.values
    facility.name, facility.kind = values["name"], values["kind"]
    facility.parent = by_code.get(values["parent_code"]) if values["parent_code"] else None


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
    facility stays as it is and may still be the parent. An active facility (a new one is) may
    not be under an inactive one.
    """
    kind, parent_code = row.values["kind"], row.values["parent_code"]
    wanted = PARENT_KIND[kind]
    if wanted is None:
        if parent_code:
            row.problem("region_parent", "parent_code", parent=parent_code)
        return
    if not parent_code:
        row.problem("parent_needed", "parent_code", kind=kind, wanted=wanted)
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
        row.problem("parent_refused", "parent_code", parent=parent_code, line=declared.line)
        return
    else:
        row.problem("unknown_parent", "parent_code", parent=parent_code)
        return
    if parent_kind != wanted:
        row.problem(
            "wrong_parent",
            "parent_code",
            kind=kind,
            wanted=wanted,
            parent=parent_code,
            parent_kind=parent_kind,
        )
        return
    itself = existing.get(row.values["code"])
    if stored is not None and not stored.active and (itself is None or itself.active):
        row.problem("inactive_parent", "parent_code", parent=parent_code)


def _check_kind_change(row: _Row, facility: Facility | None) -> None:
    """A facility with others under it cannot change level: they would be at the wrong one."""
    if facility is None or facility.id is None or facility.kind == row.values["kind"]:
        return
    children = db.session.scalar(
        sa.select(sa.func.count()).select_from(Facility).where(Facility.parent_id == facility.id)
    )
    if children:
        row.problem(
            "kind_change",
            "kind",
            code=facility.code,
            kind=facility.kind,
            children=children,
            new_kind=row.values["kind"],
        )


# -- workers --------------------------------------------------------------------------------------


def import_workers(source: CsvInput, progress: Progress | None = None) -> ImportReport:
    """Create or update workers from CSV rows `name,phone,facility_code,role,language`.

    Phones are normalised to E.164 (a Malian number may be written without +223). An empty
    language keeps a known worker's language and gives a new one the default (French). Whether
    a worker is active or has opted out is never changed by an import.
    """
    report = ImportReport()
    try:
        rows = _read(source, WORKER_COLUMNS)
    except CsvFormatError as exc:
        report.refuse(1, [exc.problem])
        return report
    readable = [row for row in rows if not row.broken]

    seen: dict[str, int] = {}
    for row in readable:
        phone = _check_phone(row)
        if phone:
            if phone in seen:
                row.problem("duplicate_phone", "phone", phone=phone, line=seen[phone])
            else:
                seen[phone] = row.line
    facilities = _existing_facilities({row.values["facility_code"] for row in readable})
    known = _existing_workers(list(seen))
    for row in readable:
        _check_worker(row, facilities, known.get(row.values["phone"]))

    valid = [row for row in readable if not row.problems]
    counter = _Counter(progress, len(rows), done=len(rows) - len(valid))
    for row in valid:
        worker = known.get(row.values["phone"])
        if worker is None:
            worker = Worker(phone=row.values["phone"], language=DEFAULT_LANGUAGE)
            db.session.add(worker)
            report.created += 1
        else:
            report.updated += 1
        _fill_worker(worker, row, facilities)
        counter.step()
    counter.finish()
    _report_rows(report, rows)
    return report


def save_worker(
    values: Mapping[str, str | None], worker: Worker | None = None
) -> tuple[Worker | None, list[Problem]]:
    """Create a worker from a form's `values` (WORKER_COLUMNS), or update `worker`.

    The same checks as an imported row, and the phone must not be another worker's. Returns
    the saved worker (flushed), or None and the problems when anything is refused.
    """
    row = _form_row(values, WORKER_COLUMNS)
    phone = _check_phone(row)
    other = _existing_workers([phone]).get(phone) if phone else None
    if other is not None and other is not worker:
        facility = other.facility.code
        row.problem("phone_taken", "phone", phone=phone, name=other.name, facility=facility)
    facilities = _existing_facilities({row.values["facility_code"]})
    _check_worker(row, facilities, worker)
    if row.problems:
        return None, row.problems
    if worker is None:
        worker = Worker(language=DEFAULT_LANGUAGE)
        db.session.add(worker)
    worker.phone = row.values["phone"]
    _fill_worker(worker, row, facilities)
    db.session.flush()
    return worker, []


def set_worker_active(worker: Worker, active: bool) -> list[Problem]:
    """Deactivate or reactivate `worker`; nobody is reactivated in an inactive facility."""
    if active and not worker.facility.active:
        return [Problem("inactive_facility", "facility_code", {"code": worker.facility.code})]
    worker.active = active
    return []


def worker_fields(worker: Worker) -> dict[str, Any]:
    """A worker as the audit log keeps it."""
    return {
        "name": worker.name,
        "phone": worker.phone,
        "facility_code": worker.facility.code,
        "role": worker.role,
        "language": worker.language,
        "active": worker.active,
    }


def _check_phone(row: _Row) -> str | None:
    """A name and a phone are given; the phone, normalised to E.164, replaces what was written
    and is returned (None when it is missing or invalid)."""
    _require(row, "name")
    _require(row, "phone")
    if not row.values["phone"]:
        return None
    try:
        row.values["phone"] = normalise_phone(row.values["phone"])
    except InvalidPhone:
        row.problem("invalid_phone", "phone", value=row.values["phone"])
        return None
    return row.values["phone"]


def _check_worker(row: _Row, facilities: dict[str, Facility], worker: Worker | None) -> None:
    """A known facility (an active one for an active worker), a known role and language.

    `worker` is the stored worker the row updates, None for a new (so active) one.
    """
    values = row.values
    for column in ("facility_code", "role"):
        _require(row, column)
    code = values["facility_code"]
    facility = facilities.get(code)
    if code and facility is None:
        row.problem("unknown_facility", "facility_code", code=code)
    elif facility is not None and not facility.active and (worker is None or worker.active):
        row.problem("inactive_facility", "facility_code", code=code)
    role = values["role"] = values["role"].lower()
    if role and role not in ROLES:
        row.problem("unknown_role", "role", value=role, expected=ROLES)
    language = values["language"] = values["language"].lower()
    if language and language not in LANGUAGES:
        row.problem("unknown_language", "language", value=language, expected=LANGUAGES)


def _fill_worker(worker: Worker, row: _Row, facilities: dict[str, Facility]) -> None:
    values = row.values
    worker.name, worker.role = values["name"], values["role"]
    worker.facility = facilities[values["facility_code"]]
    if values["language"]:
        worker.language = values["language"]


def _existing_workers(phones: list[str]) -> dict[str, Worker]:
    found: dict[str, Worker] = {}
    for start in range(0, len(phones), 500):
        chunk = phones[start : start + 500]
        for worker in db.session.scalars(sa.select(Worker).where(Worker.phone.in_(chunk))):
            found[worker.phone] = worker
    return found


# -- lists and search -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, how many match in all, and where it stands."""

    items: list[Any]
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


@dataclass(frozen=True)
class FacilityLine:
    facility: Facility
    workers: int
    """Its active workers."""


def list_facilities(
    visible: sa.Select, text: str = "", status: str = "active", page: int = 1
) -> Page:
    """Facilities among `visible` whose code or name holds `text`, by level then code."""
    query = sa.select(Facility).where(Facility.id.in_(visible), *_status(Facility, status))
    if text:
        query = query.where(
            sa.or_(
                Facility.code.icontains(text, autoescape=True),
                Facility.name.icontains(text, autoescape=True),
            )
        )
    level = sa.case({kind: rank for rank, kind in enumerate(FACILITY_KINDS)}, value=Facility.kind)
    query = query.order_by(level, Facility.code)
    workers = (
        sa.select(sa.func.count())
        .where(Worker.facility_id == Facility.id, Worker.active.is_(True))
        .scalar_subquery()
    )
    found = _page(query, page)
    rows = db.session.execute(
        _slice(query.add_columns(workers).options(joinedload(Facility.parent)), found)
    )
    return replace(found, items=[FacilityLine(facility, count) for facility, count in rows])


def list_workers(
    visible: sa.Select,
    text: str = "",
    status: str = "active",
    page: int = 1,
    facility_id: int | None = None,
) -> Page:
    """Workers of the `visible` facilities (or of one) whose name or phone, or whose facility's
    code or name, holds `text`.

    A phone matches however it is typed: its digits anywhere in the stored number
    ("76 12 34" finds +22376123456), or the whole number in any usual form ("0022376123456").
    """
    query = sa.select(Worker).where(Worker.facility_id.in_(visible), *_status(Worker, status))
    if facility_id is not None:
        query = query.where(Worker.facility_id == facility_id)
    if text:
        at_facility = sa.select(Facility.id).where(
            sa.or_(
                Facility.code.icontains(text, autoescape=True),
                Facility.name.icontains(text, autoescape=True),
            )
        )
        matches = [
            Worker.name.icontains(text, autoescape=True),
            Worker.facility_id.in_(at_facility),
        ]
        digits = "".join(c for c in text if c.isdigit())
        if len(digits) >= 2:
            matches.append(Worker.phone.contains(digits, autoescape=True))
            with contextlib.suppress(InvalidPhone):
                matches.append(Worker.phone == normalise_phone(text))
        query = query.where(sa.or_(*matches))
    query = query.order_by(Worker.name, Worker.id)
    found = _page(query, page)
    workers = db.session.scalars(_slice(query.options(joinedload(Worker.facility)), found))
    return replace(found, items=list(workers))


def _status(model: type[Facility] | type[Worker], status: str) -> list[sa.ColumnElement[bool]]:
    if status == "active":
        return [model.active.is_(True)]
    if status == "inactive":
        return [model.active.is_(False)]
    return []


def _page(query: sa.Select, number: int) -> Page:
    """Page `number` (the first when below it) of `query`'s rows, counted but not yet read."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    return Page([], total, max(number, 1), PAGE_SIZE)


def _slice(query: sa.Select, page: Page) -> sa.Select:
    return query.limit(page.size).offset((page.number - 1) * page.size)


# -- reading the file -----------------------------------------------------------------------------


class _Counter:
    """Calls an import's progress callback every PROGRESS_EVERY rows saved, after a flush, so
    the count follows the database work rather than running ahead of it."""

    def __init__(self, progress: Progress | None, total: int, done: int):
        self.progress, self.total, self.done = progress, total, done
        self._report()

    def step(self) -> None:
        self.done += 1
        if self.progress is not None and self.done % PROGRESS_EVERY == 0:
            db.session.flush()
            self._report()

    def finish(self) -> None:
        db.session.flush()
        self.done = self.total
        self._report()

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.done, self.total)


def _read(source: CsvInput, columns: tuple[str, ...]) -> list[_Row]:
    """Every non-blank data row of the file, its values stripped and keyed by column name.

    Rows that cannot be read at all come back with `broken` set and no values.
    """
    lines = _lines(source)
    header_line = next(lines, None)
    expected = ",".join(columns)
    if header_line is None:
        raise CsvFormatError(Problem("empty_file", "", {"columns": expected}))
    header_line = header_line.removeprefix("\ufeff")
    delimiter = max(DELIMITERS, key=header_line.count)
    reader = csv.reader(itertools.chain([header_line], lines), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except csv.Error as exc:  # e.g. a double quote never closed, past the csv module's limit
        raise CsvFormatError(Problem("unreadable_header", "", {"reason": str(exc)})) from exc
    missing = [name for name in columns if name not in header]
    if missing:
        found = ", ".join(name for name in header if name)
        key = "missing_column" if len(missing) == 1 else "missing_columns"
        params = {"missing": ", ".join(missing), "columns": expected, "found": found}
        raise CsvFormatError(Problem(key if found else "no_header", "", params))
    positions = {name: header.index(name) for name in columns}
    rows = []
    last_line = reader.line_num
    try:
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                rows.append(_row(line, cells, positions, len(header), delimiter))
    except csv.Error as exc:
        broken = _Row(last_line + 1, {}, broken=True)
        broken.problem("unreadable", reason=str(exc))
        rows.append(broken)
    return rows


def _row(
    line: int, cells: list[str], positions: dict[str, int], width: int, delimiter: str
) -> _Row:
    row = _Row(
        line, {name: _clean(cells[i] if i < len(cells) else "") for name, i in positions.items()}
    )
    if any(cell.strip() for cell in cells[width:]):
        row.problem("width", count=len(cells), width=width, delimiter=delimiter)
    if any("\n" in cell or "\r" in cell for cell in cells):
        row.problem("multiline")
    _check_lengths(row)
    return row


def _form_row(values: Mapping[str, str | None], columns: tuple[str, ...]) -> _Row:
    """A form's values as a file's row would be read (line 0: no file)."""
    row = _Row(0, {name: _clean(values.get(name) or "") for name in columns})
    _check_lengths(row)
    return row


def _clean(value: str) -> str:
    return clean_text(value).strip()


def _check_lengths(row: _Row) -> None:
    for name, limit in MAX_LENGTHS.items():
        if len(row.values.get(name, "")) > limit:
            row.problem("too_long", name, limit=limit)


def _lines(source: CsvInput) -> Iterator[str]:
    if isinstance(source, str):
        return iter(io.StringIO(source, newline=""))
    return iter(source)


def _require(row: _Row, column: str) -> None:
    if not row.values[column]:
        row.problem("empty", column)


def _one_of(names: Iterable[str]) -> str:
    names = list(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _report_rows(report: ImportReport, rows: list[_Row]) -> None:
    report.rows = len(rows)
    for row in rows:
        if row.problems:
            report.refuse(row.line, row.problems)
