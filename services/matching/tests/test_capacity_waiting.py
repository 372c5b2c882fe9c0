"""The waiting-time estimate (domain/waiting.py): the queue ahead over the rate seats free up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.domain.waiting import RATE_WINDOW_DAYS, Queue, estimate_wait_days


def test_a_free_seat_for_everyone_ahead_and_the_newcomer_means_no_wait():
    assert estimate_wait_days(Queue(ahead=2, free_now=3, freed=0)) == 0
    assert estimate_wait_days(Queue(ahead=40, free_now=None, freed=0)) == 0  # an offer without a seat limit


def test_the_wait_is_the_seats_still_missing_over_the_rate_they_free_up():
    # 6 seats freed in 90 days: one every 15 days. Four ahead and one free: the newcomer is fifth and waits
    # for four seats to free up, 60 days.
    assert estimate_wait_days(Queue(ahead=4, free_now=1, freed=6, window_days=90)) == 60
    # Partial days round up: 1 missing seat at 7 seats in 30 days is 4.3 days -> 5.
    assert estimate_wait_days(Queue(ahead=0, free_now=0, freed=7, window_days=30)) == 5


def test_with_nothing_free_and_nothing_freed_the_wait_cannot_be_told():
    assert estimate_wait_days(Queue(ahead=3, free_now=0, freed=0)) is None


def test_nonsense_queues_are_refused():
    with pytest.raises(ValueError):
        estimate_wait_days(Queue(ahead=-1, free_now=0, freed=1))
    with pytest.raises(ValueError):
        estimate_wait_days(Queue(ahead=1, free_now=0, freed=1, window_days=0))


@given(ahead=st.integers(0, 500), free=st.integers(0, 50), freed=st.integers(1, 500))
def test_a_longer_queue_never_waits_less_and_a_faster_rate_never_more(ahead: int, free: int, freed: int):
    base = estimate_wait_days(Queue(ahead, free, freed))
    assert base is not None and base >= 0
    assert estimate_wait_days(Queue(ahead + 1, free, freed)) >= base
    assert estimate_wait_days(Queue(ahead, free, freed + 1)) <= base
    assert estimate_wait_days(Queue(ahead, free + 1, freed)) <= base
    # within one window's worth of freed seats the wait is within the window
    if ahead + 1 - free <= freed:
        assert base <= RATE_WINDOW_DAYS
