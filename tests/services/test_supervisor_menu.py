"""The read-only USSD menu of supervisors and regional viewers, through services/ussd_steps.py."""

from __future__ import annotations

import itertools
import textwrap
from datetime import datetime

import pytest
import sqlalchemy as sa

from flows.smstext import USSD_SAFE_LIMIT
from models import Answer, Facility, OutboundMessage, Worker, db
from services.flow_store import publish
from services.sms_steps import Inbound
from tests.supervision.districts import (
    COMPACT,
    FOCAL_POINT,
    KLB_FOCAL_POINT,
    REGIONAL,
    SGU_FOCAL_POINT,
    SUPERVISOR,
    WEDNESDAY,
    facility_by_code,
    seed_districts,
    update_worker,
)

_ids = itertools.count(1)
MENU = "CSRef de Kati\n1 CSCom manquants\n2 Alertes de la semaine\n3 Réponses d'un CSCom"
SUPERVISORS_FLOW = """
    key: visite
    languages: [fr]
    title: Visite
    questions:
      - key: visits
        type: number
        prompt: "CSCom visités cette semaine ?"
    schedule:
      every: week
      opens: "mon 08:00"
      roles: [supervisor]
"""


@pytest.fixture
def districts(app, monkeypatch):
    seed_districts()
    monkeypatch.setattr("services.ussd_steps.utcnow", lambda: WEDNESDAY)


class Dial:
    """One USSD session: each entry is appended to the gateway's `text`, as it posts it."""

    def __init__(self, app, phone: str):
        self.steps = app.extensions["ussd_steps"]
        self.phone = phone
        self.session_id = f"menu{next(_ids)}"
        self.inputs: list[str] = []

    def start(self) -> str:
        return self._post()

    def send(self, entry: str) -> str:
        self.inputs.append(entry)
        return self._post()

    def _post(self) -> str:
        step = self.steps.step(self.session_id, self.phone, "*".join(self.inputs))
        assert len(step.reply.text) <= USSD_SAFE_LIMIT, step.reply.text
        return ("END " if step.reply.end else "CON ") + step.reply.text


def report(app, phone: str, text: str = COMPACT, now: datetime = WEDNESDAY) -> None:
    app.extensions["sms_steps"].receive(Inbound(f"ATXid_menu_{next(_ids)}", phone, text), now)


def test_a_supervisor_who_dials_gets_the_district_menu(app, districts):
    assert Dial(app, SUPERVISOR).start() == f"CON {MENU}"


def test_missing_cscoms_then_back_to_the_menu(app, districts):
    report(app, FOCAL_POINT)
    report(app, KLB_FOCAL_POINT)  # another district
    dial = Dial(app, SUPERVISOR)
    dial.start()
    assert dial.send("1") == (
        "CON S49 Suivi QI de la semaine: 2 CSCom sans réponse: "
        "CSCOM-KTD CSCom Kati Dar Salam, CSCOM-SNB CSCom Sanankoroba\n0 Retour"
    )
    assert dial.send("0") == f"CON {MENU}"
    dial.send("1")
    assert dial.send("00") == f"CON {MENU}"


def test_a_district_too_long_for_a_screen_shows_what_fits_and_counts_the_rest(app, districts):
    kati = facility_by_code("CSREF-KATI")
    for number in range(30):
        cscom = Facility(code=f"CSCOM-K{number:02d}", name="CSCom", kind="cscom", parent=kati)
        db.session.add(cscom)
        db.session.add(Worker(name="A", phone=f"+2237200{number:04d}", facility=cscom, role="dtc"))
    db.session.commit()
    dial = Dial(app, SUPERVISOR)
    dial.start()
    screen = dial.send("1")  # Dial checks it fits 160 characters
    assert screen.startswith("CON S49 Suivi QI de la semaine: 33 CSCom sans réponse: CSCOM-K00 ")
    assert screen.endswith(" autres\n0 Retour")


def test_the_weeks_alerts_urgent_first(app, districts):
    report(app, FOCAL_POINT, "QI 2 2 45 40 1 1 RAS")  # no meeting; asks for the CSRef's support
    report(app, SGU_FOCAL_POINT, "QI 2 2 45 40 1 1 RAS")  # another region
    dial = Dial(app, SUPERVISOR)
    dial.start()
    screen = dial.send("2")
    assert screen.startswith(
        "CON Alertes: URGENT CSCOM-MLB: l'équipe QI demande l'appui du CSRef (Fatoumata Di"
    )
    assert "\nCSCOM-MLB: pas de réunion QI cette semaine" in screen
    assert "SGU" not in screen
    assert screen.endswith("\n0 Retour")


def test_no_alert_this_week(app, districts):
    report(app, FOCAL_POINT)
    dial = Dial(app, SUPERVISOR)
    dial.start()
    assert dial.send("2") == "CON Aucune alerte ces 7 derniers jours.\n0 Retour"


def test_a_cscoms_latest_answers_by_code(app, districts):
    report(app, FOCAL_POINT)
    dial = Dial(app, SUPERVISOR)
    dial.start()
    assert dial.send("3") == "CON Code du CSCom ?\n0 Retour"
    screen = dial.send("cscom-mlb")
    assert screen.startswith(
        "CON CSCOM-MLB S49 par Fatoumata Diarra: met=Oui, attendees=6, change_status=En test, "
    )
    assert screen.endswith("\n0 Retour")
    assert dial.send("0") == f"CON {MENU}"


def test_another_districts_code_is_unknown_like_any_unknown_code(app, districts):
    report(app, KLB_FOCAL_POINT)
    dial = Dial(app, SUPERVISOR)
    dial.start()
    dial.send("3")
    other = dial.send("CSCOM-KLB")
    assert other == (
        "CON Code CSCOM-KLB inconnu. Envoyez MANQUANTS ou AIDE.\nCode du CSCom ?\n0 Retour"
    )
    assert dial.send("CSCOM-XYZ") == other.replace("KLB", "XYZ")
    assert dial.send("00") == f"CON {MENU}"


def test_a_regional_viewer_reads_the_whole_region_and_nothing_more(app, districts):
    report(app, KLB_FOCAL_POINT)
    dial = Dial(app, REGIONAL)
    assert dial.start().startswith("CON Région de Koulikoro\n1 CSCom manquants")
    missing = dial.send("1")
    assert "CSCOM-MLB" in missing and "CSCOM-KLB" not in missing and "SGU" not in missing
    dial.send("0")
    dial.send("3")
    assert dial.send("CSCOM-KLB").startswith("CON CSCOM-KLB S49 par Assitan Coulibaly:")
    assert dial.send("0").startswith("CON Région de Koulikoro\n1 ")
    dial.send("3")
    assert dial.send("CSCOM-SGU").startswith("CON Code CSCOM-SGU inconnu.")


def test_an_invalid_menu_choice_says_why_and_shows_the_menu(app, districts):
    dial = Dial(app, SUPERVISOR)
    dial.start()
    assert dial.send("7") == f"CON Choix invalide: tapez 1 à 3.\n{MENU}"


def test_the_menu_in_bambara(app, districts):
    update_worker(SUPERVISOR, language="bm")
    dial = Dial(app, SUPERVISOR)
    assert dial.start() == (
        "CON CSRef de Kati\n1 CSCom minnu ma jaabi ci\n2 Dògòkun lasòminiw\n3 CSCom ka jaabiw"
    )
    assert dial.send("3") == "CON CSCom kode sèbèn:\n0 Segin"


def test_the_menu_only_reads(app, districts):
    report(app, FOCAL_POINT)
    before = (_count(OutboundMessage), _count(Answer))
    dial = Dial(app, SUPERVISOR)
    dial.start()
    for entry in ["1", "0", "2", "0", "3", "CSCOM-MLB", "0"]:
        dial.send(entry)
    assert (_count(OutboundMessage), _count(Answer)) == before


def test_a_flow_that_asks_the_supervisors_role_comes_first(app, districts):
    publish(textwrap.dedent(SUPERVISORS_FLOW))
    db.session.commit()
    dial = Dial(app, SUPERVISOR)
    assert dial.start() == "CON CSCom visités cette semaine ?"
    assert dial.send("4") == "CON Vos réponses: 4\n1 Envoyer\n0 Corriger"
    assert dial.send("1").startswith("END ")
    assert Dial(app, SUPERVISOR).start() == f"CON {MENU}"  # answered: the menu again


def test_a_flow_for_other_roles_does_not_hide_the_menu_nor_open_a_checkin(app, districts):
    from models import Checkin

    dial = Dial(app, SUPERVISOR)
    assert dial.start() == f"CON {MENU}"
    csref = facility_by_code("CSREF-KATI").id
    assert db.session.scalar(sa.select(Checkin.id).where(Checkin.facility_id == csref)) is None


def test_a_health_worker_still_gets_the_checkin(app, districts):
    assert Dial(app, FOCAL_POINT).start().startswith("CON L'équipe QI s'est réunie cette semaine ?")


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id)))
