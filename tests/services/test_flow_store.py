"""Specification for services.flow_store's publishing record: who published each version and
why, the versions with the check-ins that used them, a rollback that publishes an old text
anew, and the line-by-line comparison of two versions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from flows.loader import FlowError
from models import Checkin, Facility, FlowVersion, db
from services import flow_store
from services.flow_store import DiffLine, compare, publish, rollback, summaries, versions
from tests.admin.rules_flows import NEW_FLOW, REWORDED, WEEKLY


def checkin(version: FlowVersion, period: str, status: str = "completed") -> None:
    facility = Facility(code=f"CSCOM-{period}", name=period, kind="cscom")
    db.session.add(facility)
    db.session.flush()
    db.session.add(
        Checkin(
            flow_id=version.flow_id,
            flow_version_id=version.id,
            facility_id=facility.id,
            period=period,
            status=status,
        )
    )
    db.session.flush()


def test_a_console_publish_names_its_publisher_and_the_command_line_none(app):
    first, _ = publish(WEEKLY, "weekly_qi.yaml")
    second, created = publish(REWORDED, published_by="admin@example.org", note="wording")

    assert created and second.version == 2
    assert (first.published_by, first.note) == (None, "")
    assert (second.published_by, second.note) == ("admin@example.org", "wording")


def test_publishing_the_latest_text_again_stores_nothing(app):
    publish(WEEKLY)

    again, created = publish(WEEKLY, published_by="admin@example.org")

    assert not created and again.version == 1 and again.published_by is None


def test_versions_are_listed_newest_first_with_their_check_ins_by_status(app):
    first, _ = publish(WEEKLY)
    checkin(first, "W1")
    checkin(first, "W2", "missed")
    second, _ = publish(REWORDED)
    checkin(second, "W3", "open")
    checkin(second, "W4")

    uses = versions(second.flow)

    assert [use.version.version for use in uses] == [2, 1]
    assert [use.checkins for use in uses] == [
        {"open": 1, "completed": 1},
        {"completed": 1, "missed": 1},
    ]
    assert [use.total for use in uses] == [2, 2]


def test_the_summary_lists_each_flow_by_key_with_its_title_and_latest_version(app):
    publish(WEEKLY)
    publish(REWORDED)
    publish(NEW_FLOW)

    found = summaries()

    assert [(s.flow.key, s.title, s.latest.version) for s in found] == [
        ("stock", "Ruptures de stock", 1),
        ("weekly_qi", "Suivi QI de la semaine", 2),
    ]
    assert [len(s.versions) for s in found] == [1, 2]


def test_a_rollback_publishes_the_old_text_as_a_new_version_with_a_note(app):
    publish(WEEKLY)
    second, _ = publish(REWORDED)

    third, created = rollback(second.flow, 1, "admin@example.org")

    assert created and third.version == 3 and third.source == WEEKLY
    assert (third.published_by, third.note) == ("admin@example.org", "retour à la version 1")
    assert [use.version.version for use in versions(second.flow)] == [3, 2, 1]
    assert flow_store.definition(third.id).question("attendees").prompt["fr"] == (
        "Combien de membres étaient présents ?"
    )


def test_a_rollback_to_the_text_already_current_stores_nothing(app):
    publish(WEEKLY)
    second, _ = publish(REWORDED)
    rollback(second.flow, 1, None)

    latest, created = rollback(second.flow, 1, None, note="again")

    assert not created and latest.version == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FlowVersion)) == 3


def test_a_rollback_to_a_version_that_does_not_exist_is_a_lookup_error(app):
    first, _ = publish(WEEKLY)

    with pytest.raises(LookupError):
        rollback(first.flow, 7, None)


def test_a_rollback_to_a_text_todays_checks_refuse_stores_nothing(app):
    first, _ = publish(WEEKLY)
    db.session.add(FlowVersion(flow=first.flow, version=2, source="key: weekly_qi\n"))
    publish(REWORDED)  # version 3

    with pytest.raises(FlowError):
        rollback(first.flow, 2, None)
    assert [use.version.version for use in versions(first.flow)] == [3, 2, 1]


def test_a_publish_makes_every_reader_in_this_process_see_it_at_once(app):
    publish(WEEKLY)
    db.session.commit()
    (before,) = flow_store.active_flows()

    second, _ = publish(REWORDED)
    db.session.commit()

    assert [active.version_id for active in flow_store.active_flows()] == [second.id]
    assert before.version_id != second.id


# --- comparing two versions ----------------------------------------------------------------------

OLD = "".join(f"line {n}\n" for n in range(1, 13))


def test_the_same_text_has_no_difference():
    assert compare(OLD, OLD) == []
    assert compare("a\nb", "a\nb\n") == []  # the lines are what count


def test_a_changed_line_is_removed_then_added_within_three_lines_of_context():
    new = OLD.replace("line 6\n", "line six\n")

    assert compare(OLD, new) == [
        DiffLine("gap"),
        DiffLine("same", "line 3", 3, 3),
        DiffLine("same", "line 4", 4, 4),
        DiffLine("same", "line 5", 5, 5),
        DiffLine("removed", "line 6", old=6),
        DiffLine("added", "line six", new=6),
        DiffLine("same", "line 7", 7, 7),
        DiffLine("same", "line 8", 8, 8),
        DiffLine("same", "line 9", 9, 9),
        DiffLine("gap"),
    ]


def test_line_numbers_follow_each_side_after_lines_are_added():
    new = "line 0\n" + OLD.replace("line 12\n", "")

    assert compare(OLD, new, context=1) == [
        DiffLine("added", "line 0", new=1),
        DiffLine("same", "line 1", 1, 2),
        DiffLine("gap"),
        DiffLine("same", "line 11", 11, 12),
        DiffLine("removed", "line 12", old=12),
    ]
