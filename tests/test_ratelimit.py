"""The shared rate limiter (live/ratelimit.py): counts shared through a real redis-server,
and kept in each process's memory while that server is stopped."""

from __future__ import annotations

import logging

import pytest
from redis.asyncio import Redis

from live.ratelimit import Limiter, per
from tests.support.servers import start_redis

ITEM = per(3, 60, "test")


async def test_memory_counts_per_identifier() -> None:
    """Without Redis: at most three per key in the window, and keys are counted apart."""
    limiter = Limiter()
    assert [await limiter.hit(ITEM, "event", "a") for _ in range(4)] == [True, True, True, False]
    assert await limiter.hit(ITEM, "event", "b")
    assert await limiter.hit(ITEM, "other event", "a")
    assert 1 <= await limiter.retry_after(ITEM, "event", "a") <= 60


@pytest.mark.redis
async def test_counts_are_shared_and_survive_redis_stopping(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two processes' limiters on one redis-server share their counts; once the server is
    stopped each counts in its own memory, refusing nothing for want of Redis."""
    with start_redis() as server:
        one, two = Limiter(server.url), Limiter(server.url)
        try:
            assert [await one.hit(ITEM, "e", "p") for _ in range(2)] == [True, True]
            assert [await two.hit(ITEM, "e", "p") for _ in range(2)] == [True, False]
            assert one.shared and two.shared
            async with Redis.from_url(server.url) as admin:
                await admin.shutdown(nosave=True)
            with caplog.at_level(logging.WARNING, logger="live.ratelimit"):
                after = [await one.hit(ITEM, "e", "p") for _ in range(4)]
                assert await one.hit(ITEM, "e", "someone else")
        finally:
            await one.aclose()
            await two.aclose()
    assert after == [True, True, True, False]  # the limit still holds, in memory
    assert not one.shared
    unreachable = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(unreachable) == 1
