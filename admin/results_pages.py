"""The console's results beyond completion: a CSCom's answers over time and its run charts, the
alerts, the message log, and CSV downloads of answers and messages.

Views stay thin: the reading is in services/facility_results.py and services/exports.py (the
same rows as `flask export`), the drawing in charts.py. Every page is read-only (GET), within
the viewer's scope: a CSCom outside it is 403, an unknown one 404, and a viewer's alerts,
messages and downloads hold only their own people's and facilities'.

Whose messages a viewer sees (`people_in_reach`): the workers of the CSComs in their scope, of
those CSComs' CSRefs (the district's supervisors and reference staff), and of their own facility
(a regional viewer's region office). A number the service knows no worker by is the admins'.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Response, abort, current_app, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from admin import audit, bp
from admin.access import facility_or_abort, scope
from admin.charts import chart_summary, run_chart_svg
from admin.security import record_number
from flows.schedule import short_period
from models import Facility, Flow, Worker, db
from models.base import READ_ONLY
from services.exports import (
    ALERT_KINDS,
    ANSWER_COLUMNS,
    LOG_PAGE,
    MESSAGE_COLUMNS,
    LogCursor,
    alert_events,
    answer_rows,
    csv_chunks,
    message_log,
    message_rows,
)
from services.facility_results import facility_answers, facility_charts

STATUSES = {
    "pending": _l("en attente"),
    "queued": _l("à envoyer"),
    "sending": _l("envoi en cours"),
    "sent": _l("accepté par la passerelle"),
    "submitted": _l("transmis à l'opérateur"),
    "buffered": _l("retenu par l'opérateur"),
    "success": _l("remis"),
    "failed": _l("échec"),
    "rejected": _l("refusé par l'opérateur"),
    "expired": _l("expiré"),
    "absent": _l("téléphone injoignable"),
    "cancelled": _l("annulé"),
    "received": _l("reçu"),
    "open": _l("ouvert"),
    "completed": _l("reçu"),
    "missed": _l("manqué"),
}
"""What each status means for the reader (README's table); the page shows the code beside."""
KINDS = {
    "reply": _l("réponse"),
    "alert": _l("alerte"),
    "reminder": _l("rappel"),
    "invitation": _l("invitation"),
    "digest": _l("résumé"),
    "broadcast": _l("diffusion"),
    "system": _l("système"),
    "escalation": _l("relance"),
    "coaching": _l("message du superviseur"),
}

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
"""What a file name keeps of a facility code or flow key (the header stays plain ASCII)."""


@bp.route("/results/facilities/<int:facility_id>")
def facility_results(facility_id: int) -> str:
    """A CSCom's run charts and its latest check-ins' answers."""
    facility = facility_or_abort(facility_id, scope(), "cscom")
    charts = [
        (
            chart,
            Markup(run_chart_svg(chart, translate=gettext)),
            chart_summary(chart, translate=gettext),
        )
        for chart in facility_charts(facility.id)
    ]
    return render_template(
        "admin/results/facility.html",
        facility=facility,
        charts=charts,
        flows=facility_answers(facility.id),
        statuses=_words(STATUSES),
    )


@bp.route("/alerts")
def alerts() -> str:
    """Alerts raised by answers and escalations of missing CSComs, newest first."""
    before = _cursor(request.args.get("before"))
    found = message_log(people_in_reach(), before, LOG_PAGE, kinds=ALERT_KINDS)
    return render_template(
        "admin/results/alerts.html",
        events=alert_events(found),
        older=_older(found),
        short_period=short_period,
        statuses=_words(STATUSES),
        kinds=_words(KINDS),
    )


@bp.route("/messages")
def messages() -> str:
    """Every SMS in and out, newest first, with its delivery status and cost."""
    before = _cursor(request.args.get("before"))
    found = message_log(people_in_reach(), before, LOG_PAGE)
    return render_template(
        "admin/results/messages.html",
        messages=found,
        older=_older(found),
        statuses=_words(STATUSES),
        kinds=_words(KINDS),
    )


@bp.route("/results/answers.csv")
def answers_csv() -> Response:
    """`flask export answers` as a download: ?flow=KEY, ?since=YYYY-MM-DD, ?facility_id=N.

    An admin's is the command's whole export; a viewer's, their CSComs' answers."""
    facilities = None if current_user.role == "admin" else scope()
    name = "reponses"
    facility_id = request.args.get("facility_id", type=record_number)
    if facility_id is not None:
        facility = facility_or_abort(facility_id, scope(), "cscom")
        facilities = sa.select(Facility.id).where(Facility.id == facility.id)
        name += f"-{facility.code}"
    flow_key = request.args.get("flow") or None
    if flow_key is not None:
        if db.session.scalar(sa.select(Flow.id).where(Flow.key == flow_key)) is None:
            abort(404)
        name += f"-{flow_key}"
    since = _since()
    _record_download("answers", facility_id, flow_key, since)
    return _download(
        name,
        ANSWER_COLUMNS,
        lambda on: answer_rows(flow_key, since, facilities=facilities, connection=on),
    )


@bp.route("/results/messages.csv")
def messages_csv() -> Response:
    """`flask export messages` as a download (?since=YYYY-MM-DD), the viewer's people only."""
    since, workers = _since(), people_in_reach()
    _record_download("messages", None, None, since)
    return _download(
        "messages", MESSAGE_COLUMNS, lambda on: message_rows(since, workers=workers, connection=on)
    )


# -- scope ---------------------------------------------------------------------------------------


def people_in_reach() -> sa.Select | None:
    """The ids of the workers whose messages the signed-in person may read; None: everyone's
    (an admin's, unknown numbers included)."""
    if current_user.role == "admin":
        return None
    cscoms = scope()
    districts = sa.select(Facility.parent_id).where(Facility.id.in_(cscoms))
    places = [Worker.facility_id.in_(cscoms), Worker.facility_id.in_(districts)]
    if current_user.facility_id is not None:
        places.append(Worker.facility_id == current_user.facility_id)
    return sa.select(Worker.id).where(sa.or_(*places))


# -- helpers -------------------------------------------------------------------------------------


def _cursor(text: str | None) -> LogCursor | None:
    """A page's `?before=` (time~direction~id); anything else is the first page."""
    try:
        at, direction, last = (text or "").split("~")
        moment, number = datetime.fromisoformat(at), record_number(last)
        if direction not in ("in", "out") or number < 0 or moment.tzinfo is None:
            return None
        return moment.astimezone(UTC), direction, number  # 0001-01-01+05:00 overflows
    except (ValueError, OverflowError):
        return None


def _older(found: list) -> str | None:
    """The `?before=` of the next page, when this one is full."""
    if len(found) < LOG_PAGE:
        return None
    at, direction, last = found[-1].cursor
    return f"{at.isoformat()}~{direction}~{last}"


def _since() -> date | None:
    text = request.args.get("since") or None
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(400)


def _words(labels: dict[str, object]) -> dict[str, str]:
    """Lazy labels translated once for a page, not at each of its rows."""
    return {key: str(label) for key, label in labels.items()}


def _record_download(
    what: str, facility_id: int | None, flow_key: str | None, since: date | None
) -> None:
    """Who took which health data home, and when: a download is audited though it changes
    nothing (the one GET that writes), before its first row is read."""
    asked = {"facility_id": facility_id, "flow": flow_key, "since": since and since.isoformat()}
    audit.record(f"export.{what}", f"download:{what}", None, {k: v for k, v in asked.items() if v})
    db.session.commit()


def _download(
    name: str, columns: Sequence[str], rows: Callable[[sa.Connection], Iterable]
) -> Response:
    """CSV streamed as it is read, named for the day (the app's time zone).

    The rows are read once the server reads the body, on a connection of the response's own in
    a read-only transaction (on SQLite it takes no write lock): the request's context and
    session have ended by then, and a response nobody reads never queries at all. The scope was
    fixed by the view.
    """
    engine = db.engine
    zone = ZoneInfo(current_app.config["SETTINGS"].timezone)
    filename = f"{_UNSAFE.sub('_', name)}-{datetime.now(zone).date().isoformat()}.csv"

    def body() -> Iterator[str]:
        with engine.connect() as connection:
            connection.execution_options(**{READ_ONLY: True})
            yield from csv_chunks(columns, rows(connection))

    return Response(
        body(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
