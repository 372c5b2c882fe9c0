"""How long a citizen waits for a seat or a volunteer's slot, told with each proposal (issue 15 case 2)."""

from __future__ import annotations

import math
from dataclasses import dataclass

RATE_WINDOW_DAYS = 90
"""How far back seats freed are counted to tell the rate they free up at."""


@dataclass(frozen=True)
class Queue:
    """One area's queue for one interest (or for a volunteer friend), as matching sees it now."""

    ahead: int
    """Citizens of the area waiting for it who were clarified before the one asking."""
    free_now: int | None
    """Seats or slots free today; None when one of the offers has no limit."""
    freed: int
    """Seats or slots freed within the window: accepted matches that ended (journey ended, left, stopped going)."""
    window_days: float = RATE_WINDOW_DAYS


def estimate_wait_days(queue: Queue) -> int | None:
    """The days until a seat is free for the next citizen joining this queue, or None when nothing tells.

    Method: the queue is served first come, first served. The free seats go to the first `free_now`
    citizens at once (no wait: 0 days); the next ones wait for seats to free up, which happens at the
    rate observed over the window (`freed / window_days` seats a day, a Poisson-like steady rate).
    The newcomer is number `ahead + 1` in the queue, so they wait for `ahead + 1 - free_now` seats to
    free up: that many divided by the rate, rounded up to whole days. An offer without a seat limit
    means no wait; no seat freed within the window (and none free) means the wait cannot be told.
    """
    if queue.ahead < 0 or queue.freed < 0 or queue.window_days <= 0:
        raise ValueError("a queue has no negative length, no negative count of freed seats and a positive window")
    if queue.free_now is None:
        return 0
    short = queue.ahead + 1 - max(queue.free_now, 0)
    if short <= 0:
        return 0
    if queue.freed == 0:
        return None
    return math.ceil(short * queue.window_days / queue.freed)
