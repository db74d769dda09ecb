"""Rate limits that hold across connections, and across processes when Redis is configured.

`Limiter.hit(item, *identifiers)` counts one action against a limit (a `limits` item: at
most N per window, counted in a moving window) for the identifiers it applies to, such as
an event and a participant, or an event and a client address; it is False once the limit
is reached. With `SALEN_HUB_URL=redis://...` the counts live in Redis, shared by every
process; otherwise in this process's memory. While Redis cannot be reached, counting falls
back to the process's memory (a limit then holds per process), and Redis is tried again
`RETRY_REDIS` seconds later: an outage of Redis never refuses service.

The counts in memory are `MemoryWindows`, not `limits`' memory storages: those sweep every
key for expired entries on a timer restarted after each hit (the asynchronous one through a
thread hop per key), which at a hall's voting rate means a sweep over every participant
every few milliseconds; here a key's old hits fall off when it is next hit, and idle keys
are forgotten only when there are very many.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter as SharedWindow
from limits.errors import StorageError
from redis.asyncio import ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Seconds without Redis once it failed, before it is tried again.
RETRY_REDIS = 5.0
# Seconds to connect to or hear from Redis before counting in memory instead.
REDIS_TIMEOUT = 0.5
KEY_PREFIX = "salen-limits"
# Keys kept in memory before idle ones are forgotten.
MAX_KEYS = 100_000
REDIS_FAILURES = (StorageError, RedisError, OSError, TimeoutError)


def per(amount: int, seconds: int, name: str) -> RateLimitItem:
    """At most `amount` actions in any `seconds`; `name` keeps different limits apart."""
    return RateLimitItemPerSecond(amount, seconds, namespace=name)


class MemoryWindows:
    """Moving windows in this process: for each key, the times of its latest hits."""

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._longest = 0.0

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one hit; False (and not counted) when the window already holds `amount`."""
        if item.amount < 1:
            return False
        key, window, now = item.key_for(*identifiers), item.get_expiry(), time.monotonic()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._forget_idle(now)
            hits = self._hits[key] = deque(maxlen=item.amount)
            self._longest = max(self._longest, window)
        if len(hits) == hits.maxlen and hits[0] > now - window:
            return False
        hits.append(now)  # the oldest falls off the full deque
        return True

    def retry_after(self, item: RateLimitItem, *identifiers: str) -> float:
        """Seconds until the window of `identifiers` has room again (0: now)."""
        hits = self._hits.get(item.key_for(*identifiers))
        if not hits or len(hits) < item.amount:
            return 0.0
        return max(0.0, hits[0] + item.get_expiry() - time.monotonic())

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self._longest]
        for key in idle:
            del self._hits[key]
        if len(self._hits) >= self.max_keys:
            # Still full of active keys: drop the oldest half rather than grow without bound.
            for key in list(self._hits)[: self.max_keys // 2]:
                del self._hits[key]


class Limiter:
    """Moving-window counts in Redis when given a URL (memory while it is down), else memory."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._memory = MemoryWindows()
        self._pool: ConnectionPool | None = None
        self._shared: SharedWindow | None = None
        self._redis_down_until = 0.0
        if redis_url:
            options: dict[str, Any] = {
                "socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT,
                "retry": Retry(NoBackoff(), 0),
            }
            self._pool = ConnectionPool.from_url(redis_url, **options)
            pool: dict[str, Any] = {"connection_pool": self._pool}  # ours to close
            storage = RedisStorage(f"async+{redis_url}", implementation="redispy",
                                   key_prefix=KEY_PREFIX, **pool)
            self._shared = SharedWindow(storage)

    @classmethod
    def for_hub(cls, hub_url: str) -> Limiter:
        """Shared through the hub's Redis when it has one, else in this process."""
        return cls(hub_url if hub_url.startswith(("redis://", "rediss://")) else None)

    @property
    def shared(self) -> bool:
        """Are counts going to Redis now (not in memory for want of it)?"""
        return self._shared is not None and time.monotonic() >= self._redis_down_until

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one action; False when `item`'s limit for `identifiers` is already reached."""
        if self._shared is not None and self.shared:
            try:
                allowed = await self._shared.hit(item, *identifiers)
            except REDIS_FAILURES as exc:
                self._redis_failed(exc)
            else:
                if self._redis_down_until:
                    log.warning("Redis is reachable again: rate limits are shared again")
                    self._redis_down_until = 0.0
                return allowed
        return self._memory.hit(item, *identifiers)

    async def retry_after(self, item: RateLimitItem, *identifiers: str) -> int:
        """Seconds until `item` allows one more action for `identifiers` (at least 1)."""
        if self._shared is not None and self.shared:
            try:
                stats = await self._shared.get_window_stats(item, *identifiers)
            except REDIS_FAILURES as exc:
                self._redis_failed(exc)
            else:
                return max(1, math.ceil(stats.reset_time - time.time()))
        return max(1, math.ceil(self._memory.retry_after(item, *identifiers)))

    def _redis_failed(self, exc: BaseException) -> None:
        if self._redis_down_until == 0.0:
            log.warning("Redis is unreachable (%s): rate limits count in each process's "
                        "memory until it is back", exc)
        self._redis_down_until = time.monotonic() + RETRY_REDIS

    async def aclose(self) -> None:
        """Let go of the Redis connections."""
        if self._pool is not None:
            await self._pool.disconnect()
