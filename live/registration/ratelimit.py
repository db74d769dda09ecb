"""A per-client sliding-window limit on registration attempts (one process; not shared)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from live.errors import TooMany


@dataclass
class RateLimiter:
    """At most `limit` attempts per `window` seconds per key; memory bounded by `max_keys`."""

    limit: int = 30
    window: float = 600.0
    max_keys: int = 100_000
    _hits: dict[str, deque[float]] = field(default_factory=dict, repr=False)

    def hit(self, key: str, now: float | None = None) -> None:
        """Count one attempt by `key`; raise TooMany (429) when over the limit."""
        now = time.monotonic() if now is None else now
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._forget_idle(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            retry = int(hits[0] + self.window - now) + 1
            raise TooMany(
                "Too many registration attempts; try again later.",
                code="registration.rate_limited",
                headers={"Retry-After": str(retry)},
            )
        hits.append(now)

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window]
        for key in idle:
            del self._hits[key]
        if len(self._hits) >= self.max_keys:
            # Still full of active keys: drop the oldest half rather than grow without bound.
            for key in list(self._hits)[: self.max_keys // 2]:
                del self._hits[key]
