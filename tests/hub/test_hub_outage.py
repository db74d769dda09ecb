"""The Redis hub through a real redis-server that is paused or killed and restarted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from live.hub import Entry, Relay
from live.hub.redis import RedisHub
from tests.hub.test_hub_relay import Recorder
from tests.support.servers import start_redis

pytestmark = pytest.mark.redis


async def until(condition: Callable[[], bool], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


async def test_paused_redis_delivers_locally_and_catches_up_after(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With Redis paused, a publish reaches the process's own listeners at once; once Redis
    answers again the other process gets it too, after `lost` and `live`."""
    caplog.set_level(logging.WARNING)
    with start_redis() as server:
        one, two = RedisHub(server.url, timeout=0.5), RedisHub(server.url, timeout=0.5)
        await one.start()
        await two.start()
        relays = Relay(one), Relay(two)
        here, there = Recorder(), Recorder()
        relays[0].listen("c", here)
        relays[1].listen("c", there)
        await relays[0].ready("c")
        await relays[1].ready("c")
        try:
            server.pause()
            await one.publish("c", Entry(1, 0, b"x"))
            await until(lambda: ("entry", 1) in here.calls)
            assert not one.up and one.local_only == 1
            await until(lambda: ("lost", "c") in there.calls)
            server.resume()
            await until(lambda: ("entry", 1) in there.calls)
            assert one.reconnects == 1 and two.reconnects == 1
            assert there.calls[-3:] == [("lost", "c"), ("live", "c"), ("entry", 1)]
        finally:
            for relay in relays:
                await relay.aclose()
            await one.aclose()
            await two.aclose()
    no_tracebacks(caplog)


async def test_killed_redis_neither_blocks_subscribing_nor_publishing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With Redis killed, subscribing and publishing return at once and history is unknown;
    a new redis-server on the same port is found again by itself."""
    caplog.set_level(logging.WARNING)
    with start_redis() as server:
        port = server.port
        one, two = RedisHub(server.url, timeout=0.5), RedisHub(server.url, timeout=0.5)
        await one.start()
        await two.start()
    relays = Relay(one), Relay(two)
    here, there = Recorder(), Recorder()
    try:
        relays[0].listen("c", here)
        await relays[0].ready("c")
        await one.publish("c", Entry(1, 0, b"x"))
        await until(lambda: ("entry", 1) in here.calls)
        assert await one.history("c", 0) is None
        with start_redis(port):
            await until(lambda: one.up and two.up)
            relays[1].listen("c", there)
            await relays[1].ready("c")
            await until(lambda: ("live", "c") in here.calls[1:])
            await one.publish("c", Entry(2, 1, b"y"))
            await until(lambda: ("entry", 2) in there.calls)
            assert [e.v for e in await two.history("c", 0) or []] == [1, 2]
    finally:
        for relay in relays:
            await relay.aclose()
        await one.aclose()
        await two.aclose()
    no_tracebacks(caplog)


async def test_subscribing_while_paused_redis_is_retried_does_not_wait_for_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """While the hub keeps trying a paused Redis (each try waits out the 3 s timeout), new
    subscriptions (sockets opening) start at once, signalled down, and do not queue behind
    the tries; they are live once Redis answers."""
    caplog.set_level(logging.WARNING)
    with start_redis() as server:
        hub = RedisHub(server.url, timeout=3.0)
        await hub.start()
        relay = Relay(hub)
        first = Recorder()
        relay.listen("c", first)
        await relay.ready("c")
        try:
            server.pause()
            await hub.publish("c", Entry(1, 0, b"x"))  # finds Redis away (one timeout)
            assert not hub.up
            recorders = [Recorder() for _ in range(6)]
            async with asyncio.timeout(2.5):  # well under one try's 3 s
                for n, recorder in enumerate(recorders):
                    relay.listen(f"new{n}", recorder)
                    await relay.ready(f"new{n}")
                    await asyncio.sleep(0.3)  # across the tries' start and timeout
            server.resume()
            await until(lambda: hub.up)
            await hub.publish("new5", Entry(1, 0, b"y"))
            await until(lambda: ("entry", 1) in recorders[5].calls)
        finally:
            await relay.aclose()
            await hub.aclose()
    no_tracebacks(caplog)
