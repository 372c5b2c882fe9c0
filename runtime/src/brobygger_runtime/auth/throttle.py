"""Failed authentications per client address: past `limit` failures within
`window_seconds` the address is answered 429 until the oldest one ages out."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class FailureThrottle:
    def __init__(
        self,
        limit: int = 20,
        window_seconds: float = 60.0,
        *,
        max_tracked: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("a throttle needs limit >= 1 and a positive window")
        self.limit = limit
        self.window_seconds = window_seconds
        self.max_tracked = max_tracked
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, key: str) -> int | None:
        """Seconds `key` must wait before trying again, or None when it may try now."""
        failures = self._failures.get(key)
        if not failures:
            return None
        now = self._clock()
        self._forget_old(failures, now)
        if not failures:
            del self._failures[key]
            return None
        if len(failures) < self.limit:
            return None
        return max(1, math.ceil(failures[0] + self.window_seconds - now))

    def record_failure(self, key: str) -> None:
        now = self._clock()
        failures = self._failures.get(key)
        if failures is None:
            failures = self._failures[key] = deque()
        else:
            self._failures.move_to_end(key)
        self._forget_old(failures, now)
        failures.append(now)
        while len(failures) > self.limit:
            failures.popleft()
        while len(self._failures) > self.max_tracked:
            self._failures.popitem(last=False)

    def _forget_old(self, failures: deque[float], now: float) -> None:
        while failures and failures[0] <= now - self.window_seconds:
            failures.popleft()
