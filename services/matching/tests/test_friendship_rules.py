"""The pure rules of two-sided consent and friendships: what the volunteer is shown, notes, dates, deadlines."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from matching.domain.model import CitizenProfile, Slot, Wish
from matching.friendships.rules import (
    NotAllowed, answer_due, check_in_due, meeting_date, meeting_note, what_the_volunteer_sees,
)

STARTED = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)


def citizen() -> CitizenProfile:
    return CitizenProfile(
        citizen_id=uuid.uuid4(), consented_orgs=frozenset({"red-cross"}), interests=frozenset({"walking", "baking_and_cooking"}),
        languages=frozenset({"da", "en"}), postal_code="6800", location=None, wishes=frozenset({Wish.friend}),
        availability=frozenset({Slot("tue", "morning"), Slot("thu", "evening")}))


def test_the_volunteer_sees_only_what_the_two_have_in_common_and_the_area():
    seen = what_the_volunteer_sees(citizen(), "6800", "80-89", ["walking", "fishing"], ["da", "sv"],
                                   frozenset({Slot("tue", "morning"), Slot("sat", "morning")}))
    assert (seen.postal_code, seen.age_band) == ("6800", "80-89")
    assert seen.shared_interests == ["walking"] and seen.languages == ["da"]
    assert seen.shared_times == [Slot("tue", "morning")]


def test_without_clarified_needs_the_volunteer_sees_area_and_age_only():
    seen = what_the_volunteer_sees(None, "6800", None, ["walking"], ["da"], frozenset())
    assert (seen.postal_code, seen.age_band, seen.shared_interests, seen.languages) == ("6800", None, [], [])


def test_a_note_needs_the_organisations_policy():
    assert meeting_note(None, notes_allowed=False) is None
    assert meeting_note("a walk by the river", notes_allowed=True) == "a walk by the river"
    with pytest.raises(NotAllowed, match="MEETING_NOTES_ALLOWED"):
        meeting_note("a walk by the river", notes_allowed=False)


def test_a_meeting_happened_during_the_friendship_and_not_in_the_future():
    today = date(2026, 11, 26)
    assert meeting_date(today, STARTED, today) == today
    with pytest.raises(NotAllowed, match="future"):
        meeting_date(today + timedelta(days=1), STARTED, today)
    with pytest.raises(NotAllowed, match="before the friendship"):
        meeting_date(date(2026, 9, 30), STARTED, today)


def test_deadlines_follow_the_settings():
    assert answer_due(STARTED, 72) == STARTED + timedelta(days=3)
    assert check_in_due(STARTED, 30) == datetime(2026, 10, 31, 10, 0, tzinfo=UTC)
