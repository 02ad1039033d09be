"""Facilities and people: lists with search, one record's page, add, edit, (de)activate, and the
CSV import with its progress and per-line errors (issue 11, part 4).

Everyone signed in reads, within their scope (services.scope.facilities_in_scope: an admin
everything, a supervisor their CSRef and its CSComs, a regional viewer their region); only
admins change anything. The checks are the service's, the same for a form as for a file's row;
this module words them in French (PROBLEM_TEXTS) and writes the one audit row each change needs.

An upload is imported by an RQ job (workers/imports.py), so a large file never holds a web
worker; its page refreshes itself (a <meta> refresh: no script) until the job is done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import FileField, RadioField, SelectChoice, SelectField, StringField, TelField

from admin import audit, bp
from admin.access import admin_only, facility_or_abort, reaches
from admin.security import record_number
from models import AuditEntry, Facility, Worker, db
from models.base import utcnow
from models.directory import FACILITY_KINDS, LANGUAGES, ROLES
from services.directory import (
    FACILITY_COLUMNS,
    STATUSES,
    WORKER_COLUMNS,
    CsvFormatError,
    Problem,
    decode_csv,
    facility_fields,
    list_facilities,
    list_workers,
    save_facility,
    save_worker,
    set_facility_active,
    set_worker_active,
    worker_fields,
)
from services.scope import facilities_in_scope
from workers import imports

MAX_UPLOAD = 2 * 1024 * 1024
"""The largest CSV file the page takes: tens of thousands of rows, far more than a country's
facilities or staff; a bigger one is refused with a message, before any of it is stored."""
UPLOAD_SLACK = 64 * 1024
"""What a multipart request adds around the file (boundaries, the other fields)."""
REFRESH_SECONDS = 2
RECENT_IMPORTS = 10

KIND_LABELS = {"region": _l("Région"), "csref": _l("CSRef"), "cscom": _l("CSCom")}
ROLE_LABELS = {
    "qi_focal_point": _l("Point focal QI"),
    "dtc": _l("DTC"),
    "midwife": _l("Sage-femme"),
    "nurse": _l("Infirmier ou infirmière"),
    "supervisor": _l("Superviseur (CSRef)"),
    "regional": _l("Suivi régional"),
    "other": _l("Autre"),
}
LANGUAGE_LABELS = {"fr": _l("Français"), "bm": _l("Bambara")}
FACILITY_STATUSES = {"active": _l("Actives"), "inactive": _l("Désactivées"), "all": _l("Toutes")}
WORKER_STATUSES = {"active": _l("Actifs"), "inactive": _l("Désactivés"), "all": _l("Tous")}
IMPORT_LABELS = {"facilities": _l("Structures"), "workers": _l("Personnel")}
FAILURE_TEXTS = {
    "expired": _l(
        "Le fichier n'était plus disponible quand l'import a commencé. Envoyez-le à nouveau."
    ),
    "conflict": _l(
        "Une autre modification des mêmes structures ou personnes est arrivée au même moment : "
        "rien n'a été importé. Envoyez le fichier à nouveau."
    ),
    "crashed": _l(
        "L'import s'est arrêté sur une erreur : rien n'a été importé. Réessayez ; si cela se "
        "répète, signalez-le."
    ),
    "unqueued": _l("L'import n'a pas pu être mis en file d'attente : rien n'a été importé."),
}
"""Why an import failed (workers.imports.FAILURES), in French."""

PROBLEM_TEXTS = {
    "empty": _l("la colonne %(column)s est vide"),
    "too_long": _l("%(column)s dépasse %(limit)d caractères"),
    "width": _l(
        "%(count)d valeurs pour %(width)d colonnes (une valeur qui contient « %(delimiter)s » "
        "doit être entre guillemets)"
    ),
    "multiline": _l("une valeur s'étend sur plusieurs lignes (un guillemet non fermé ?)"),
    "unreadable": _l("ligne illisible : %(reason)s"),
    "empty_file": _l("le fichier est vide : sa première ligne doit être %(columns)s"),
    "missing_column": _l(
        "colonne manquante : %(missing)s (la première ligne doit être %(columns)s ; "
        "elle contient %(found)s)"
    ),
    "missing_columns": _l(
        "colonnes manquantes : %(missing)s (la première ligne doit être %(columns)s ; "
        "elle contient %(found)s)"
    ),
    "unreadable_header": _l("la première ligne est illisible : %(reason)s"),
    "no_header": _l(
        "colonnes manquantes : %(missing)s (la première ligne doit être %(columns)s ; "
        "elle est vide)"
    ),
    "not_text": _l("le fichier n'est pas du texte : enregistrez-le au format « CSV UTF-8 »"),
    "unknown_kind": _l("niveau « %(value)s » inconnu (attendu : %(expected)s)"),
    "duplicate_code": _l("le code « %(code)s » est en double (déjà à la ligne %(line)d)"),
    "code_taken": _l("le code « %(code)s » est déjà celui de « %(name)s »"),
    "region_parent": _l("une région n'a pas de parent (parent_code vaut « %(parent)s »)"),
    "parent_needed": _l(
        "une structure de niveau %(kind)s a besoin d'un parent_code (le code de sa structure "
        "de niveau %(wanted)s)"
    ),
    "parent_refused": _l(
        "le parent « %(parent)s » n'est pas importé : la ligne %(line)d a des erreurs"
    ),
    "unknown_parent": _l("aucune structure n'a le code « %(parent)s »"),
    "wrong_parent": _l(
        "le parent d'une structure de niveau %(kind)s doit être de niveau %(wanted)s, "
        "or « %(parent)s » est de niveau %(parent_kind)s"
    ),
    "inactive_parent": _l("la structure parente « %(parent)s » est désactivée"),
    "kind_change": _l(
        "« %(code)s » (niveau %(kind)s) a %(children)d structures rattachées : elle ne peut "
        "pas passer au niveau %(new_kind)s"
    ),
    "active_children": _l(
        "« %(code)s » a %(count)d structures actives rattachées : désactivez-les d'abord"
    ),
    "invalid_phone": _l("« %(value)s » n'est pas un numéro de téléphone valide"),
    "duplicate_phone": _l("le numéro %(phone)s est en double (déjà à la ligne %(line)d)"),
    "phone_taken": _l("le numéro %(phone)s est déjà celui de %(name)s (%(facility)s)"),
    "unknown_facility": _l("aucune structure n'a le code « %(code)s »"),
    "inactive_facility": _l("la structure « %(code)s » est désactivée"),
    "unknown_role": _l("rôle « %(value)s » inconnu (attendu : %(expected)s)"),
    "unknown_language": _l("langue « %(value)s » inconnue (attendu : %(expected)s)"),
}
"""The French of every services.directory.MESSAGES key (a test checks that none is missing)."""
FIELD_TEXTS = {
    "empty": _l("Obligatoire."),
    "too_long": _l("Au plus %(limit)d caractères."),
}
"""Shorter words for a problem shown beside its form field, which names the column already."""
LEVEL_PARAMS = ("kind", "wanted", "parent_kind", "new_kind")


def _choices(labels: dict[str, Any], values: Iterable[str] | None = None) -> list[SelectChoice]:
    """The options of a select, in the model's order (a value without a label fails at import)."""
    return [SelectChoice(value, labels[value]) for value in values or labels]


class FacilityForm(FlaskForm):
    """The fields of a facility (the CSV's columns); the service checks every value."""

    code = StringField(_l("Code"))
    name = StringField(_l("Nom"))
    kind = SelectField(
        _l("Niveau"), choices=_choices(KIND_LABELS, FACILITY_KINDS), validate_choice=False
    )
    parent_code = StringField(_l("Code de la structure parente"))


class WorkerForm(FlaskForm):
    name = StringField(_l("Nom"))
    phone = TelField(_l("Téléphone"))
    facility_code = StringField(_l("Code de la structure"))
    role = SelectField(_l("Rôle"), choices=_choices(ROLE_LABELS, ROLES), validate_choice=False)
    language = SelectField(
        _l("Langue"), choices=_choices(LANGUAGE_LABELS, LANGUAGES), validate_choice=False
    )


class ImportForm(FlaskForm):
    kind = RadioField(
        _l("Ce que contient le fichier"),
        choices=_choices(IMPORT_LABELS),
        default="facilities",
        validate_choice=False,
    )
    file = FileField(_l("Fichier CSV"))


# -- facilities -----------------------------------------------------------------------------------


@bp.route("/facilities")
def facilities() -> str:
    text, status, page = _list_arguments()
    found = list_facilities(_visible(), text, status, page)
    return _render(
        "facilities.html", page=found, q=text, status=status, status_labels=FACILITY_STATUSES
    )


@bp.route("/facilities/new", methods=["GET", "POST"])
@admin_only
def facility_new() -> str | Response | tuple[str, int]:
    form = FacilityForm(data={"parent_code": request.args.get("parent", ""), "kind": "cscom"})
    context = {
        "heading": _("Ajouter une structure"),
        "back": "admin.facilities",
        "back_label": _("← Structures"),
        "fields_template": "admin/directory/_facility_fields.html",
    }
    if not form.validate_on_submit():
        return _render("new.html", form=form, **context)
    return _save(save_facility, facility_fields, None, form, "new.html", **context)


@bp.route("/facilities/<int:facility_id>")
def facility(facility_id: int) -> str:
    """A facility, the facilities under it and its people; an admin's has the edit form."""
    found = facility_or_abort(facility_id, _visible())
    form = FacilityForm(data=facility_fields(found)) if current_user.role == "admin" else None
    return _render("facility.html", form=form, facility=found, **_facility_context(found))


@bp.route("/facilities/<int:facility_id>", methods=["POST"], endpoint="facility_save")
def facility_save(facility_id: int) -> Response | tuple[str, int]:
    found = facility_or_abort(facility_id, _visible())
    form = FacilityForm()
    context = {"facility": found, **_facility_context(found)}
    return _save(save_facility, facility_fields, found, form, "facility.html", **context)


@bp.route("/facilities/<int:facility_id>/active", methods=["POST"])
def facility_active(facility_id: int) -> Response:
    """Deactivate a facility with its active workers, or reactivate it alone."""
    found = facility_or_abort(facility_id, _visible())
    active = request.form.get("active") == "1"
    back = url_for("admin.facility", facility_id=found.id)
    if found.active == active:
        flash(_("Rien à changer."))
        return redirect(back)
    workers, problems = set_facility_active(found, active)
    if problems:
        return _flash_problems(problems, back)
    after: dict[str, Any] = {"active": active}
    if workers:
        after["workers_deactivated"] = [worker.id for worker in workers]
    action = "facility.reactivate" if active else "facility.deactivate"
    audit.record(action, _target(found), {"active": not active}, after)
    db.session.commit()
    if active:
        flash(_("Structure réactivée. Son personnel reste désactivé : réactivez qui y travaille."))
    elif workers:
        flash(
            ngettext(
                "Structure désactivée, avec la personne qui y travaillait.",
                "Structure désactivée, avec les %(num)d personnes qui y travaillaient.",
                len(workers),
            )
        )
    else:
        flash(_("Structure désactivée."))
    return redirect(back)


def _facility_context(found: Facility) -> dict[str, Any]:
    """What a facility's page lists: the facilities under it and its people."""
    children = db.session.scalars(
        sa.select(Facility)
        .where(Facility.parent_id == found.id)
        .order_by(Facility.active.desc(), Facility.code)
    ).all()
    active_people = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Worker)
        .where(Worker.facility_id == found.id, Worker.active.is_(True))
    )
    return {
        "children": children,
        "active_children": sum(1 for child in children if child.active),
        "people": list_workers(_visible(), status="all", facility_id=found.id),
        "active_people": active_people,
        "parent_visible": found.parent is not None and reaches(found.parent.id, _visible()),
    }


# -- workers --------------------------------------------------------------------------------------


@bp.route("/workers")
def workers() -> str:
    text, status, page = _list_arguments()
    facility_id = request.args.get("facility", type=record_number)
    at = facility_or_abort(facility_id, _visible()) if facility_id is not None else None
    found = list_workers(_visible(), text, status, page, facility_id)
    return _render(
        "workers.html", page=found, q=text, status=status, at=at, status_labels=WORKER_STATUSES
    )


@bp.route("/workers/new", methods=["GET", "POST"])
@admin_only
def worker_new() -> str | Response | tuple[str, int]:
    form = WorkerForm(data={"facility_code": request.args.get("facility", ""), "role": "nurse"})
    context = {
        "heading": _("Ajouter une personne"),
        "back": "admin.workers",
        "back_label": _("← Personnel"),
        "fields_template": "admin/directory/_worker_fields.html",
    }
    if not form.validate_on_submit():
        return _render("new.html", form=form, **context)
    return _save(save_worker, worker_fields, None, form, "new.html", **context)


@bp.route("/workers/<int:worker_id>")
def worker(worker_id: int) -> str:
    """A worker; an admin's page has the edit form."""
    found = _worker_or_abort(worker_id)
    form = WorkerForm(data=worker_fields(found)) if current_user.role == "admin" else None
    return _render("worker.html", worker=found, form=form)


@bp.route("/workers/<int:worker_id>", methods=["POST"], endpoint="worker_save")
def worker_save(worker_id: int) -> Response | tuple[str, int]:
    found = _worker_or_abort(worker_id)
    return _save(save_worker, worker_fields, found, WorkerForm(), "worker.html", worker=found)


@bp.route("/workers/<int:worker_id>/active", methods=["POST"])
def worker_active(worker_id: int) -> Response:
    found = _worker_or_abort(worker_id)
    active = request.form.get("active") == "1"
    back = url_for("admin.worker", worker_id=found.id)
    if found.active == active:
        flash(_("Rien à changer."))
        return redirect(back)
    problems = set_worker_active(found, active)
    if problems:
        return _flash_problems(problems, back)
    action = "worker.reactivate" if active else "worker.deactivate"
    audit.record(action, _target(found), {"active": not active}, {"active": active})
    db.session.commit()
    done = _("%(name)s réactivé(e).") if active else _("%(name)s désactivé(e).")
    flash(done % {"name": found.name})
    return redirect(back)


def _save(
    save: Callable[..., tuple[Any, list[Problem]]],
    fields: Callable[[Any], dict[str, Any]],
    found: Facility | Worker | None,
    form: FlaskForm,
    template: str,
    **context: Any,
) -> Response | tuple[str, int]:
    """Save a form through the service (`save`), with one audit row when anything changed.

    Refused: the form again, the typed values kept, each reason beside its field. A unique
    code or phone taken by a request that committed first (two admins at once) is refused
    the same way rather than answered with a 500.
    """
    before = fields(found) if found is not None else None
    try:
        saved, problems = save(form.data, found)
        if saved is None:
            return _refused(template, form, problems, **context)
        after = fields(saved)
        if after != before:
            kind = "facility" if isinstance(saved, Facility) else "worker"
            audit.record(f"{kind}.{'update' if found else 'create'}", _target(saved), before, after)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _refused(template, form, [], **context)
    if after == before:
        flash(_("Aucune modification."))
    else:
        flash(_("Modifications enregistrées.") if found else _("Ajout enregistré."))
    endpoint, argument = (
        ("admin.facility", "facility_id")
        if isinstance(saved, Facility)
        else ("admin.worker", "worker_id")
    )
    return redirect(url_for(endpoint, **{argument: saved.id}))


def _flash_problems(problems: list[Problem], back: str) -> Response:
    for problem in problems:
        flash(problem_text(problem))
    return redirect(back)


# -- imports --------------------------------------------------------------------------------------


class UploadTooLarge(RequestEntityTooLarge):
    """An upload past the import page's limit, refused before its body is read.

    A class of its own so that its handler (the import page and a message) is found before
    the blueprint's other handlers of a 413 (Flask looks handlers up along the class's MRO).
    """


@bp.url_value_preprocessor
def upload_size(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """The import page takes files up to MAX_UPLOAD, more than the app's limit for a request.

    Set here because URL value preprocessors run before every before_request function, and
    the CSRF check (security.py) reads the form, which is when the limit applies. A request
    that says it is larger is refused at once, with the page's message, when it is an
    admin's (anyone else is turned away by the access checks without a word read).
    """
    if endpoint != "admin.imports":
        return
    request.max_content_length = MAX_UPLOAD + UPLOAD_SLACK
    too_long = (request.content_length or 0) > request.max_content_length
    if too_long and current_user.is_authenticated and current_user.role == "admin":
        raise UploadTooLarge()


@bp.errorhandler(UploadTooLarge)
def upload_too_large(error: UploadTooLarge) -> tuple[str, int]:
    return _import_page(ImportForm(formdata=None), _too_large_text(), 413)


@bp.route("/imports", methods=["GET", "POST"], endpoint="imports")
@admin_only
def import_upload() -> str | Response | tuple[str, int]:
    form = ImportForm(data={"kind": request.args.get("kind", "facilities")})
    if not form.validate_on_submit():
        return _import_page(form)
    kind, upload = form.kind.data, request.files.get("file")
    if kind not in imports.KINDS:
        return _import_page(form, _("Choisissez ce que contient le fichier."), 422)
    if upload is None or not upload.filename:
        return _import_page(form, _("Choisissez un fichier CSV."), 422)
    data = upload.stream.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _import_page(form, _too_large_text(), 413)
    if not data.strip():
        return _import_page(form, _("Le fichier est vide."), 422)
    try:
        text = decode_csv(data)
    except CsvFormatError as exc:
        return _import_page(form, problem_text(exc.problem), 422)
    redis = current_app.extensions["redis"]
    filename = upload.filename[-120:]
    try:
        import_id = imports.prepare(redis, kind, filename, text)
    except RedisError:
        return _import_page(form, _queue_down_text(), 503)
    entry = audit.record(
        f"import.{kind}",
        imports.audit_target(import_id),
        None,
        {"file": filename, "bytes": len(data)},
    )
    db.session.commit()
    try:
        imports.enqueue(redis, import_id)
    except RedisError:
        imports.unqueued(redis, import_id)
        entry.after = {**entry.after, "status": "failed", "failure": "unqueued"}
        db.session.commit()
        return _import_page(form, _queue_down_text(), 503)
    return redirect(url_for("admin.import_status", import_id=import_id))


@bp.route("/imports/<import_id>")
@admin_only
def import_status(import_id: str) -> str | tuple[str, int]:
    """An import's progress while it runs (the page refreshes itself), then its outcome."""
    redis = current_app.extensions["redis"]
    try:
        state = imports.load(redis, import_id)
        waiting = state is not None and state.status == "queued"
        idle = waiting and imports.workers_listening(redis) == 0
    except RedisError:
        return _render("import_status.html", state=None, error=_queue_down_text()), 503
    if state is None:
        return _render("import_status.html", state=None, error=None), 404
    return _render("import_status.html", state=state, idle=idle, refresh=REFRESH_SECONDS)


def _import_page(form: ImportForm, error: str | None = None, status: int = 200) -> tuple[str, int]:
    """The upload form, with what stops an import now (the queue down) and the last imports."""
    redis = current_app.extensions["redis"]
    try:
        idle = imports.workers_listening(redis) == 0
        down = False
    except RedisError:
        idle, down = False, True
    entries = db.session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.action.in_([f"import.{kind}" for kind in imports.KINDS]))
        .order_by(AuditEntry.id.desc())
        .limit(RECENT_IMPORTS)
    )
    kept_since = utcnow() - timedelta(seconds=imports.STATE_TTL)
    recent = []
    for entry in entries:  # the command line's imports have no page: only the console's
        prefix, _colon, import_id = entry.target.partition(":")
        recent.append((entry, import_id if prefix == "import" and entry.at > kept_since else None))
    page = _render(
        "imports.html",
        form=form,
        error=error,
        down=down and error is None,
        queue_down=_queue_down_text(),
        idle=idle,
        recent=recent,
        max_mb=MAX_UPLOAD // (1024 * 1024),
        columns={"facilities": ",".join(FACILITY_COLUMNS), "workers": ",".join(WORKER_COLUMNS)},
    )
    return page, status


def _too_large_text() -> str:
    return _(
        "Le fichier dépasse %(n)d Mo. Découpez-le en plusieurs fichiers (en gardant la ligne "
        "d'en-tête dans chacun) et importez-les l'un après l'autre.",
        n=MAX_UPLOAD // (1024 * 1024),
    )


def _queue_down_text() -> str:
    return _(
        "La file d'attente des imports (Redis) ne répond pas : aucun import n'est possible pour "
        "le moment et rien n'a été enregistré. Réessayez dans quelques minutes ; si cela dure, "
        "prévenez l'équipe technique."
    )


# -- shared ---------------------------------------------------------------------------------------


def problem_text(problem: Problem, beside_field: bool = False) -> str:
    """A refusal's reason in French: beside its form field, or on its own (a file's line)."""
    texts = FIELD_TEXTS if beside_field and problem.key in FIELD_TEXTS else PROBLEM_TEXTS
    values: dict[str, Any] = {"column": problem.column}
    for name, value in problem.params.items():
        if name in LEVEL_PARAMS and value in KIND_LABELS:
            value = str(KIND_LABELS[value])
        elif isinstance(value, tuple | list):
            value = _("%(first)s ou %(last)s", first=", ".join(value[:-1]), last=value[-1])
        values[name] = value
    return str(texts[problem.key]) % values


def _refused(
    template: str, form: FlaskForm, problems: list[Problem], **context: Any
) -> tuple[str, int]:
    """The form again, with the typed values and each problem beside its field (or above).

    No problems: the save collided with another at the same moment (a unique code or phone).
    """
    general, beside = [], 0
    for problem in problems:
        field = form._fields.get(problem.column) if problem.column else None
        if field is None or field.name == "csrf_token":
            general.append(problem_text(problem))
        else:
            field.errors = [*field.errors, problem_text(problem, beside_field=True)]
            beside += 1
    if beside:
        general.append(_("Corrigez les champs signalés ci-dessous."))
    if not problems:
        collided = _(
            "Une autre modification est arrivée au même moment : rien n'a été enregistré. "
            "Vérifiez les valeurs et enregistrez à nouveau."
        )
        general.append(collided)
    return _render(template, form=form, errors=general, **context), 422


def _render(template: str, **context: Any) -> str:
    return render_template(
        f"admin/directory/{template}",
        kind_labels=KIND_LABELS,
        role_labels=ROLE_LABELS,
        language_labels=LANGUAGE_LABELS,
        import_labels=IMPORT_LABELS,
        failure_texts=FAILURE_TEXTS,
        problem_text=problem_text,
        is_admin=current_user.role == "admin",
        **context,
    )


def _visible() -> sa.Select:
    return facilities_in_scope(current_user.role, current_user.facility_id)


def _worker_or_abort(worker_id: int) -> Worker:
    found = db.session.get(Worker, worker_id)
    if found is None:
        abort(404)
    if not reaches(found.facility_id, _visible()):
        abort(403)
    return found


def _list_arguments() -> tuple[str, str, int]:
    """A list's search text, status filter (active by default) and page number."""
    text = (request.args.get("q") or "").strip()[:80]
    status = request.args.get("status", "active")
    if status not in STATUSES:
        status = "active"
    return text, status, max(request.args.get("page", 1, type=record_number) or 1, 1)


def _target(thing: Facility | Worker) -> str:
    return f"{'facility' if isinstance(thing, Facility) else 'worker'}:{thing.id}"
