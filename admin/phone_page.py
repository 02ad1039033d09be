"""A phone in the page: an admin picks a worker and walks their USSD session or SMS
conversation through the webhooks' own step services (services/trial.py), every screen shown
with its length, and what would have been sent shown instead of sent.

Starting a trial is the change the audit log records (who tried which channel as whom); the
steps after it change nothing, since each is replayed in a transaction that is rolled back, so
they write no audit row. What was typed travels in the page's form, as the gateway resends a
USSD session's whole input, and the trial itself (whom, which channel) in the signed session, so
a step cannot be played as someone the admin did not start a trial for.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response

from admin import audit, bp
from admin.access import admin_only
from admin.charts import chart_summary, run_chart_svg
from admin.security import record_number
from models import Answer, Checkin, Facility, Worker, db
from services.directory import list_workers
from services.facility_results import answer_text, facility_charts
from services.flow_store import definition
from services.trial import CHANNELS, MAX_INPUT, MAX_INPUTS, TrialError, play


@dataclass(frozen=True)
class Answered:
    question: str
    value: str


@dataclass(frozen=True)
class Result:
    """What a trial's submitted check-in holds, as the admin reads it, and the facility's run
    charts drawn with the trial's point (ringed and labelled), as if it had been stored."""

    flow_title: str
    period: str
    answers: tuple[Answered, ...]
    charts: tuple[tuple[Markup, str], ...]
    """(SVG, its summary in words) per indicator."""


@bp.route("/phone")
@admin_only
def phone() -> str:
    """Pick a worker: the first matches of `?q=` (name, phone or facility code/name)."""
    query = (request.args.get("q") or "").strip()[:80]
    return render_template("admin/phone/pick.html", q=query, workers=_workers(query))


@bp.route("/phone", methods=["POST"])
@admin_only
def phone_start() -> Response:
    worker = db.session.get(Worker, request.form.get("worker_id", type=record_number) or 0)
    channel = request.form.get("channel")
    if worker is None or not worker.active or channel not in CHANNELS:
        flash(_("Choisissez une personne active et un canal (USSD ou SMS)."))
        return redirect(url_for("admin.phone"))
    session["trial"] = {"worker_id": worker.id, "channel": channel}
    audit.record(
        "trial.start",
        f"worker:{worker.id}",
        None,
        {"channel": channel, "worker": worker.name, "facility": worker.facility.code},
    )
    db.session.commit()
    return redirect(url_for("admin.phone_try"))


@bp.route("/phone/try", methods=["GET", "POST"])
@admin_only
def phone_try() -> str | Response | tuple[str, int]:
    """The trial's screens after what was typed so far (POST adds `entry` to `sent`)."""
    started = session.get("trial")
    worker = db.session.get(Worker, started["worker_id"]) if started else None
    if worker is None:
        flash(_("Choisissez d'abord la personne à essayer."))
        return redirect(url_for("admin.phone"))
    sent = request.form.getlist("sent") if request.method == "POST" else []
    error = None
    if request.method == "POST" and "entry" in request.form:
        entry = request.form["entry"].strip()
        if not entry:
            error = _("Tapez une réponse avant d'envoyer.")
        elif len(entry) > MAX_INPUT:
            error = _("Une réponse compte au plus %(n)d caractères.", n=MAX_INPUT)
        elif len(sent) >= MAX_INPUTS:
            error = _("Plus de %(n)d saisies : recommencez l'essai.", n=MAX_INPUTS)
        else:
            sent.append(entry)
    name, facility, language = worker.name, worker.facility.name, worker.language
    try:
        trial = play(_settings(), worker.id, started["channel"], sent, preview=_result)
    except TrialError:  # the form was altered, or the worker deactivated meanwhile
        flash(_("Cet essai ne peut pas continuer : choisissez à nouveau la personne."))
        return redirect(url_for("admin.phone"))
    return render_template(
        "admin/phone/try.html",
        trial=trial,
        sent=sent,
        error=error,
        who={"name": name, "facility": facility, "language": language},
    ), (200 if error is None else 422)


def _workers(query: str) -> list[Worker]:
    """The first active workers matching `query`, as the Personnel page finds them."""
    return list_workers(sa.select(Facility.id), query).items


def _result(checkin_id: int | None) -> Result | None:
    """The trial's submitted answers, read inside the trial (they are rolled back after)."""
    if checkin_id is None:
        return None
    checkin = db.session.get(Checkin, checkin_id)
    flow = definition(checkin.flow_version_id)
    answers = db.session.scalars(
        sa.select(Answer).where(Answer.checkin_id == checkin_id).order_by(Answer.id)
    )
    # Ordered by id, the trial's own answers come last and win: on a check-in a colleague
    # completed for real, the trial's submission is kept beside the reference.
    by_key = {answer.question_key: answer for answer in answers}
    charts = tuple(
        (
            Markup(run_chart_svg(chart, highlight_period=checkin.period, translate=_)),
            chart_summary(chart, highlight_period=checkin.period, translate=_),
        )
        for chart in facility_charts(checkin.facility_id)
        if chart.flow_key == flow.key
    )
    return Result(
        flow.text(flow.title, "fr"),
        checkin.period,
        tuple(
            Answered(
                flow.prompt(question, "fr"),
                answer_text(flow, question.key, by_key[question.key].value, "fr") or "—",
            )
            for question in flow.questions
            if question.key in by_key
        ),
        charts,
    )


def _settings():
    return current_app.config["SETTINGS"]
