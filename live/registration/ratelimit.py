"""A per-client limit on registration attempts, counted by the app's `live.ratelimit.Limiter`
(so shared by every process when Redis is configured, and kept while Redis is down)."""

from __future__ import annotations

from live.errors import TooMany
from live.ratelimit import Limiter, per

# Attempts per client address and window (seconds).
LIMIT = 30
WINDOW = 600


class RateLimiter:
    """At most `limit` attempts per `window` seconds per key (a client address)."""

    def __init__(
        self, limit: int = LIMIT, window: int = WINDOW, store: Limiter | None = None
    ) -> None:
        self.item = per(limit, window, "registration")
        self.store = store or Limiter()

    async def hit(self, key: str) -> None:
        """Count one attempt by `key`; raise TooMany (429) when over the limit."""
        if not await self.store.hit(self.item, key):
            retry = await self.store.retry_after(self.item, key)
            raise TooMany(
                "Too many registration attempts; try again later.",
                code="registration.rate_limited",
                headers={"Retry-After": str(retry)},
            )
