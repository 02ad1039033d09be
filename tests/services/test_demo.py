"""The demo's past weeks: a story the run charts can tell, the same at every start."""

from __future__ import annotations

import sqlalchemy as sa

from models import Answer, Checkin, Facility, Worker, db
from services.demo import seed_demo, seed_history
from tests.supervision.districts import FOCAL_POINT, WEDNESDAY

BAMAKO = "Africa/Bamako"


def reports(code: str) -> list[Checkin]:
    return db.session.scalars(
        sa.select(Checkin)
        .join(Facility, Facility.id == Checkin.facility_id)
        .where(Facility.code == code)
        .order_by(Checkin.period)
    ).all()


def share(checkin: Checkin) -> float:
    rows = db.session.execute(
        sa.select(Answer.question_key, Answer.value_number).where(Answer.checkin_id == checkin.id)
    )
    values = {key: value for key, value in rows}
    return values["numerator"] / values["denominator"]


def test_past_weeks_tell_of_one_improvement_one_steady_one_gap_and_one_silence(app):
    seed_demo()
    assert seed_history(WEDNESDAY, 16, BAMAKO) == 16 + 16 + 12
    malibougou = reports("CSCOM-MLB")
    assert [c.period for c in malibougou][-1] == "2026-W48"  # the open week W49 is left to try
    assert all(c.status == "completed" for c in malibougou)
    first, last = malibougou[:8], malibougou[8:]
    assert sum(map(share, last)) / 8 > sum(map(share, first)) / 8 + 0.2
    assert len(reports("CSCOM-SNB")) == 12
    assert reports("CSCOM-KLB") == []


def test_seeding_history_again_adds_nothing_and_draws_the_same(app):
    seed_demo()
    seed_history(WEDNESDAY, 4, BAMAKO)
    before = [(c.period, share(c)) for c in reports("CSCOM-KTD")]
    assert seed_history(WEDNESDAY, 4, BAMAKO) == 0
    assert [(c.period, share(c)) for c in reports("CSCOM-KTD")] == before


def test_the_command_seeds_history_on_request(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--history", "2"])
    assert result.exit_code == 0, result.output
    assert "6 past reports" in result.output


def test_seeding_again_leaves_who_is_active_as_the_admins_set_it(app):
    seed_demo()
    db.session.execute(sa.update(Worker).where(Worker.phone == FOCAL_POINT).values(active=False))
    db.session.commit()
    seed_demo()
    assert db.session.scalar(sa.select(Worker.active).where(Worker.phone == FOCAL_POINT)) is False
