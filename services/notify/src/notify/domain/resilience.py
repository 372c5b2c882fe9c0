"""Retries with exponential back-off and jitter, and a circuit breaker per channel."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable


def backoff_seconds(attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Delay before retry number `attempt` (1 = first retry): "full jitter", a random
    share of base * 2^(attempt-1), capped, so that many failing messages spread out."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return ceiling * (0.5 + 0.5 * rand())


@dataclass
class CircuitBreaker:
    """Stops hammering a channel that keeps failing.

    Closed: every send goes through. After `threshold` failures in a row it opens:
    no sends for `cooldown` seconds. Then the next send is a trial (half-open):
    success closes it, failure opens it for another cooldown. The dispatcher
    sends one message at a time, so there is never more than one trial.
    """

    threshold: int
    cooldown: float
    failures: int = 0
    opened_at: float | None = None

    def allows(self, now: float) -> bool:
        return self.opened_at is None or now - self.opened_at >= self.cooldown

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None

    def record_failure(self, now: float) -> None:
        self.failures += 1
        if self.opened_at is not None or self.failures >= self.threshold:
            self.opened_at = now
