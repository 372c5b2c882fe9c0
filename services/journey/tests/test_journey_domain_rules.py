"""Pure rules besides the state machine: clarification, guides, punch cards, timers, groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journey.domain.clarification import Clarification, Ucla
from journey.domain.errors import GroupClosed, InsufficientBalance, InvalidClarification
from journey.domain.groups import Group, GroupState, SelfRunningReason
from journey.domain.guides import GuideLoad, least_loaded
from journey.domain.punch_card import PunchCard
from journey.domain.timers import TimerPolicy, add_months, add_working_days, first_contact_due, next_follow_up_due


def clarification(**changes) -> Clarification:  # noqa: ANN003
    values = dict(interests=("walking",), languages=("da",), postal_code="6800", wishes=("friend",))
    values.update(changes)
    return Clarification(**values)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"interests": ()}, "interests"),
        ({"interests": ("Walking",)}, "interests"),
        ({"interests": ("w",)}, "interests"),
        ({"interests": ("walk-ing",)}, "interests"),
        ({"languages": ()}, "languages"),
        ({"postal_code": "68a0"}, "postal_code"),
        ({"wishes": ()}, "wishes"),
        ({"wishes": ("money",)}, "wishes"),
    ],
)
def test_clarification_refuses_bad_values_naming_the_field(changes, field):
    with pytest.raises(InvalidClarification) as refused:
        clarification(**changes)
    assert refused.value.field == field


@given(st.integers(-5, 10), st.integers(1, 3), st.integers(1, 3))
def test_ucla_answers_are_one_to_three(first, second, third):
    if 1 <= first <= 3:
        assert Ucla(first, second, third).total == first + second + third
    else:
        with pytest.raises(InvalidClarification):
            Ucla(first, second, third)


@given(st.from_regex(r"^[a-z][a-z_]{1,30}$", fullmatch=True))
def test_canonical_codes_are_accepted(code):
    assert clarification(interests=(code,)).interests == (code,)


def test_least_loaded_guide_with_room_wins():
    guides = [GuideLoad("anna", 10, 4), GuideLoad("bo", 10, 2), GuideLoad("cia", 3, 2), GuideLoad("dan", 10, 0, active=False)]
    assert least_loaded(guides).guide_id == "bo"  # cia has as few but less room left
    assert least_loaded([GuideLoad("full", 2, 2)]) is None
    assert least_loaded([]) is None


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 6), st.booleans()), max_size=8))
def test_chosen_guide_has_room_and_no_one_with_room_has_fewer_journeys(rows):
    guides = [GuideLoad(f"g{i}", cap, load, active) for i, (cap, load, active) in enumerate(rows)]
    chosen = least_loaded(guides)
    with_room = [g for g in guides if g.has_room]
    if not with_room:
        assert chosen is None
    else:
        assert chosen.has_room and chosen.open_journeys == min(g.open_journeys for g in with_room)


def test_punch_card_refuses_beyond_balance_until_extended():
    card = PunchCard().grant(2)
    card = card.draw(1.5)
    assert card.balance == 0.5
    with pytest.raises(InsufficientBalance):
        card.draw(1)
    assert card.grant(1).draw(1).balance == 0.5


@given(st.lists(st.tuples(st.sampled_from(["grant", "draw"]), st.floats(0.25, 5).map(lambda h: round(h * 4) / 4)), max_size=30))
def test_punch_card_balance_never_goes_negative(operations):
    card = PunchCard()
    for kind, hours in operations:
        try:
            card = card.grant(hours) if kind == "grant" else card.draw(hours)
        except InsufficientBalance:
            assert hours > card.balance
        assert card.balance >= 0
        assert card.drawn <= card.granted + 1e-9


def test_working_days_skip_weekends():
    friday = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    assert add_working_days(friday, 1) == datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
    assert add_working_days(friday, 3) == datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
    assert first_contact_due(datetime(2026, 3, 2, 9, tzinfo=UTC), TimerPolicy(first_contact_working_days=3)).day == 5
    assert first_contact_due(datetime(2026, 3, 6, 9, tzinfo=UTC), TimerPolicy(), urgency="urgent").day == 9  # Friday -> Monday


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)), st.integers(0, 30))
def test_working_days_land_on_a_weekday_and_count_right(start, days):
    due = add_working_days(start, days)
    if days:
        assert due.weekday() < 5
    weekdays_between = sum(1 for n in range(1, (due - start).days + 1) if (start + timedelta(days=n)).weekday() < 5)
    assert weekdays_between == days


def test_months_clamp_to_the_last_day():
    assert add_months(datetime(2026, 1, 31), 1) == datetime(2026, 2, 28)
    assert add_months(datetime(2026, 3, 2), 8) == datetime(2026, 11, 2)
    assert add_months(datetime(2026, 11, 15), 3) == datetime(2027, 2, 15)
    assert next_follow_up_due(datetime(2026, 4, 3), TimerPolicy()) == datetime(2026, 5, 3)


def test_group_turns_self_running_after_consecutive_meetings_without_facilitator():
    group, reason = Group(), None
    reasons = []
    for present in (False, False, True, False, False, False, False):
        group, reason = group.record_meeting(present, threshold=3)
        reasons.append(reason)
    assert reasons == [None] * 5 + [SelfRunningReason.meetings_without_facilitator, None]
    assert group.state is GroupState.self_running and group.meetings_held == 7


def test_facilitator_can_release_once():
    group = Group().release_facilitator()
    assert group.state is GroupState.self_running
    with pytest.raises(GroupClosed):
        group.release_facilitator()


@given(st.lists(st.booleans(), max_size=30), st.integers(1, 5))
def test_group_becomes_self_running_exactly_when_a_streak_reaches_the_threshold(presence, threshold):
    group = Group()
    turned = 0
    streak = 0
    for index, present in enumerate(presence):
        streak = 0 if present else streak + 1
        group, reason = group.record_meeting(present, threshold)
        turned += reason is not None
        assert group.meetings_held == index + 1
    expected = any(
        all(not p for p in presence[i : i + threshold]) and len(presence[i : i + threshold]) == threshold
        for i in range(len(presence))
    )
    assert turned == (1 if expected else 0)
    assert (group.state is GroupState.self_running) == expected
