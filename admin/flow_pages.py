"""The flows an admin writes: the list, a flow's page to edit or upload its YAML, check it and
publish it, and its versions with a comparison of any two and a rollback.

Only publishing and rolling back change data, so they are what the audit log records. Checking
posts the same form (a flow file is too long for a URL) with `action=check`: it stores nothing
and writes no audit row, like a publish that its errors refused. Whatever was typed comes back
in the text area after any refusal, so nothing is lost.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

from admin import audit, bp
from admin.access import admin_only
from admin.security import MAX_ID, record_number
from admin.views import error_page
from flows.definition import Flow as FlowDefinition
from flows.lint import Panel, lint, measure
from flows.loader import MAX_SOURCE_BYTES, FlowError, Problem, load_flow
from models import Flow, FlowVersion, db
from services import flow_store

EDITORS = frozenset({"admin.flows", "admin.flow"})
"""The pages whose form sends a flow's text (the new-flow form is on the list page)."""
LANGUAGES = {"fr": _l("Français"), "bm": _l("Bambara")}
TOP_LEVEL_KEY = re.compile(r"key\s*:")


class FlowForm(FlaskForm):
    source = TextAreaField(_l("Texte du questionnaire (YAML)"))
    upload = FileField(_l("Ou un fichier YAML à envoyer"))
    note = StringField(_l("Note sur cette version (facultative)"), validators=[Length(max=200)])


class RollbackForm(FlaskForm):
    version = IntegerField(validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)])


@dataclass(frozen=True)
class Mark:
    """A problem to show at its line: an error (nothing can be published) or a lint warning."""

    line: int
    level: str
    message: str


@dataclass
class Checked:
    """What the editor shows under the text area: the text as it was read, line by line, with
    its problems, and, when it loads, what each language's texts cost."""

    source: str
    marks: list[Mark] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    changes: list[flow_store.DiffLine] | None = None
    """Against the flow's current version, when there is one."""

    @property
    def lines(self) -> list[tuple[int, str, list[Mark]]]:
        """(number, text, marks) for each line; a mark past the end sits on the last line."""
        texts = self.source.split("\n")
        if len(texts) > 1 and texts[-1] == "":
            texts.pop()  # the file's final newline ends the last line, it starts none
        at: dict[int, list[Mark]] = defaultdict(list)
        for mark in self.marks:
            at[min(max(mark.line, 1), len(texts))].append(mark)
        return [(number, text, at[number]) for number, text in enumerate(texts, 1)]

    @property
    def errors(self) -> list[Mark]:
        return [mark for mark in self.marks if mark.level == "error"]

    @property
    def warnings(self) -> list[Mark]:
        return [mark for mark in self.marks if mark.level == "warning"]


# -- pages -------------------------------------------------------------------------------------


@bp.route("/flows", methods=["GET", "POST"])
@admin_only
def flows() -> str | Response | tuple[str, int]:
    """The flows with their versions and check-ins; below, a form that creates a new flow
    (a text whose key no flow has yet)."""
    form = FlowForm()
    summaries = flow_store.summaries()
    if request.method == "GET":
        return render_template("admin/flows/list.html", summaries=summaries, form=form)
    return _submit(form, None, "admin/flows/list.html", summaries=summaries)


@bp.route("/flows/<key>", methods=["GET", "POST"])
@admin_only
def flow(key: str) -> str | Response | tuple[str, int]:
    """A flow's current text to edit (or a file to upload in its place), checked or published."""
    found = _flow_or_404(key)
    latest = flow_store.latest_version(found)
    title = flow_store.title_of(latest)
    form = FlowForm()
    if request.method == "GET":
        form.source.data = latest.source
        checked = _check(latest.source, f"{key}.yaml", found)[1]
        return render_template(
            "admin/flows/edit.html",
            form=form,
            checked=checked,
            flow=found,
            latest=latest,
            title=title,
        )
    return _submit(form, found, "admin/flows/edit.html", flow=found, latest=latest, title=title)


@bp.route("/flows/<key>/versions")
@admin_only
def flow_versions(key: str) -> str:
    """Every version, who published it and why, the check-ins that used it; `?a=1&b=3` compares
    two of them (by default the latest with the one before)."""
    found = _flow_or_404(key)
    uses = flow_store.versions(found)
    newest = uses[0].version.version
    b = request.args.get("b", newest, type=record_number)
    a = request.args.get("a", max(b - 1, 1), type=record_number)
    first, second = (flow_store.find_version(found, n) for n in (a, b))
    if first is None or second is None:
        abort(404)
    return render_template(
        "admin/flows/versions.html",
        flow=found,
        uses=uses,
        a=a,
        b=b,
        changes=flow_store.compare(first.source, second.source),
        rollback=RollbackForm(),
        trial=_trial_url(),
    )


@bp.route("/flows/<key>/rollback", methods=["POST"])
@admin_only
def flow_rollback(key: str) -> Response:
    """Publish an old version's text again as the newest version (history is kept)."""
    found = _flow_or_404(key)
    form = RollbackForm()
    if not form.validate_on_submit():
        abort(400)
    number = form.version.data
    before = flow_store.latest_version(found)
    note = _("retour à la version %(n)d", n=number)
    try:
        version, created = flow_store.rollback(found, number, current_user.email, note)
    except LookupError:
        abort(404)
    except FlowError as error:
        db.session.rollback()
        flash(
            _(
                "La version %(n)d ne passe plus les vérifications d'aujourd'hui (%(problem)s) : "
                "rien n'a été publié. Corrigez son texte dans la page du questionnaire.",
                n=number,
                problem=error.problems[0],
            )
        )
        return redirect(url_for("admin.flow_versions", key=key))
    if not created:
        flash(_("La version en service a déjà ce texte : rien de nouveau n'a été publié."))
        return redirect(url_for("admin.flow_versions", key=key))
    audit.record(
        "flow.rollback",
        f"flow:{key}",
        {"version": before.version},
        {"version": version.version, "from": number},
    )
    db.session.commit()
    flash(_published(version))
    return redirect(url_for("admin.flow_versions", key=key, a=before.version, b=version.version))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    """A file past what a request may carry is refused before it is read: say so plainly."""
    if request.endpoint not in EDITORS:
        return error_page(error)
    limit = MAX_SOURCE_BYTES // 1000
    return render_template("admin/flows/too_large.html", limit=limit), 413


# -- what a form sends ---------------------------------------------------------------------------


def _submit(
    form: FlowForm, found: Flow | None, template: str, **page: object
) -> str | Response | tuple[str, int]:
    """Check the text sent (typed, or the uploaded file's) and publish it if asked and clean."""
    source, filename, refusal = _sent_text(form, found)
    form.source.data = source
    page["uploaded"] = filename if form.upload.data and not refusal else None
    if refusal or not form.validate():
        refusal = refusal or _("La note dépasse 200 caractères.")
        return render_template(template, form=form, checked=None, refusal=refusal, **page), 422
    parsed, checked = _check(source, filename, found)
    publishing = request.form.get("action") == "publish"
    if not publishing or checked.errors:
        status = 422 if checked.errors and publishing else 200
        return render_template(template, form=form, checked=checked, **page), status
    assert parsed is not None
    before = flow_store.latest_version(found) if found else None
    note = (form.note.data or "").strip()
    try:
        version, created = flow_store.publish(
            source, filename, published_by=current_user.email, note=note
        )
    except sa.exc.IntegrityError:  # another admin published this flow at the same moment
        db.session.rollback()
        refusal = _("Une autre version vient d'être publiée : vérifiez-la, puis publiez à nouveau.")
        return render_template(template, form=form, checked=None, refusal=refusal, **page), 409
    if not created:
        flash(
            _(
                "Ce texte est déjà celui de la version %(n)d : rien n'a été publié.",
                n=version.version,
            )
        )
        return redirect(url_for("admin.flow", key=parsed.key))
    audit.record(
        "flow.publish",
        f"flow:{parsed.key}",
        {"version": before.version} if before else None,
        {"version": version.version, "note": note},
    )
    db.session.commit()
    flash(_published(version))
    if before is None:
        return redirect(url_for("admin.flow", key=parsed.key))
    return redirect(
        url_for("admin.flow_versions", key=parsed.key, a=before.version, b=version.version)
    )


def _sent_text(form: FlowForm, found: Flow | None) -> tuple[str, str, str]:
    """(text, file name, refusal): the uploaded file's text if one came, else the typed text;
    lines end in LF whatever the browser or the file used. A file that cannot be read leaves
    the typed text as it was, with the reason."""
    typed = _lf(form.source.data or "")
    filename = f"{found.key}.yaml" if found else "flow.yaml"
    upload = form.upload.data
    if not upload or not upload.filename:
        return typed, filename, ""
    data = upload.stream.read(MAX_SOURCE_BYTES + 1)
    name = upload.filename
    if len(data) > MAX_SOURCE_BYTES:
        limit = MAX_SOURCE_BYTES // 1000
        return (
            typed,
            filename,
            _(
                "Le fichier « %(name)s » dépasse %(limit)d Ko : il n'a pas été lu. Un questionnaire "
                "tient en quelques Ko ; vérifiez que c'est le bon fichier.",
                name=name,
                limit=limit,
            ),
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return (
            typed,
            filename,
            _(
                "Le fichier « %(name)s » n'est pas en UTF-8 : il n'a pas été lu. Enregistrez-le en "
                "UTF-8 (dans le Bloc-notes : Enregistrer sous, Codage UTF-8) et envoyez-le à nouveau.",
                name=name,
            ),
        )
    return _lf(text), name, ""


def _check(source: str, filename: str, found: Flow | None) -> tuple[FlowDefinition | None, Checked]:
    """Load and lint `source` as the given flow's next version (or a new flow's first)."""
    latest = flow_store.latest_version(found) if found else None
    changes = flow_store.compare(latest.source, source) if latest else None
    try:
        parsed = load_flow(source, filename)
    except FlowError as error:
        return None, Checked(source, [_error(p) for p in error.problems], changes=changes)
    key_problem = _key_problem(parsed, found, source)
    if key_problem:
        return None, Checked(
            source, [Mark(_key_line(source), "error", key_problem)], changes=changes
        )
    transliterate = current_app.config["SETTINGS"].transliterate
    warnings = [
        Mark(f.line, "warning", f"{f.where} [{f.language}]: {f.message}")
        for f in lint(parsed, transliterate)
        if f.level == "warning"
    ]
    return parsed, Checked(source, warnings, measure(parsed, transliterate), changes)


def _key_problem(parsed: FlowDefinition, found: Flow | None, source: str) -> str:
    """A key that would publish somewhere else than the page says: another flow's next version
    from the new-flow form, or a new flow from an existing flow's page."""
    if found is not None and parsed.key != found.key:
        return _(
            "La clé « %(new)s » n'est pas celle de ce questionnaire (« %(key)s ») : gardez "
            "« %(key)s », ou créez un nouveau questionnaire depuis la liste.",
            new=parsed.key,
            key=found.key,
        )
    if found is None and flow_store.flow_by_key(parsed.key) is not None:
        return _(
            "Un questionnaire a déjà la clé « %(key)s » : publiez sa nouvelle version depuis sa "
            "page, ou choisissez une autre clé.",
            key=parsed.key,
        )
    return ""


def _error(problem: Problem) -> Mark:
    where = f"question '{problem.question}': " if problem.question else ""
    return Mark(problem.line, "error", where + problem.message)


def _key_line(source: str) -> int:
    """The line of the flow's `key:`, where a wrong key is to be fixed."""
    lines = source.split("\n")
    return next((n for n, line in enumerate(lines, 1) if TOP_LEVEL_KEY.match(line)), 1)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _published(version: FlowVersion) -> str:
    """What a publish did, and what it did not: sessions under way finish on their version."""
    return _(
        "Version %(n)d publiée. Toute session commencée à partir de maintenant la pose, même "
        "pour un suivi déjà ouvert (dans les %(seconds)d secondes pour tous les serveurs) ; "
        "les sessions en cours finissent sur leur version.",
        n=version.version,
        seconds=int(flow_store.ACTIVE_FLOWS_TTL),
    )


def _trial_url() -> str | None:
    """The console's test phone, where a published wording can be tried, if it is installed."""
    if "admin.phone" not in current_app.view_functions:
        return None
    return url_for("admin.phone")


def _flow_or_404(key: str) -> Flow:
    found = flow_store.flow_by_key(key)
    if found is None or flow_store.latest_version(found) is None:
        abort(404)
    return found


@bp.app_template_filter("flow_language")
def flow_language(code: str) -> str:
    """A language's name for the lint panel's headings; its code when the console knows none."""
    return str(LANGUAGES.get(code, code))
