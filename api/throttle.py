"""A request limit per key (a client's address, an Activation Link's code), kept in this API
process's memory: a sliding window of the last requests' times. Several API processes each keep
their own, so the service as a whole admits at most that many times the limit (docs/security.md).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections import deque


class Throttle:
    def __init__(self, limit: int, window_seconds: float, *, max_keys: int = 10_000) -> None:
        self.limit, self.window = limit, window_seconds
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._max_keys = max_keys  # the least recently seen keys are forgotten beyond this

    def wait(self, key: str) -> int | None:
        """Count a request for `key`: None when it is allowed, else the seconds until one is."""
        now = time.monotonic()
        times = self._seen.pop(key, None) or deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        self._seen[key] = times
        while len(self._seen) > self._max_keys:
            self._seen.popitem(last=False)
        if len(times) >= self.limit:
            return max(1, int(times[0] + self.window - now) + 1)
        times.append(now)
        return None
