"""Shared group-work feeds: one hub subscription per channel for any number of connections."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import pytest

from live.hub import Entry, Hub, Signal, open_hub
from live.rooms.feeds import RESYNC, Feeds
from live.rooms.handlers import RoomHandlers
from live.rooms.service import Who
from tests.hub.test_hub_relay import CountingHub


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    async with open_hub("memory://") as opened:
        yield opened


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.001)


async def test_followers_share_one_subscription(hub: Hub) -> None:
    """Every follower gets each entry from the moment `follow` returns; the channel is held once."""
    feeds = Feeds(hub)
    first: list[str] = []
    second: list[str] = []
    await feeds.follow("rooms:1", first.append)
    await feeds.follow("rooms:1", second.append)
    assert len(feeds) == 1
    await hub.publish("rooms:1", Entry(1, 0, b'{"v":1}'))
    await until(lambda: len(first) == len(second) == 1)
    assert first == second == ['{"v":1}']
    await feeds.unfollow("rooms:1", first.append)
    await hub.publish("rooms:1", Entry(2, 1, b'{"v":2}'))
    await until(lambda: len(second) == 2)
    assert first == ['{"v":1}']
    await feeds.unfollow("rooms:1", second.append)
    assert len(feeds) == 0  # the last one out ended the subscription


async def test_handlers_use_the_feeds_they_are_given(hub: Hub) -> None:
    """Connections of one process share the given `Feeds`, even while it follows nothing yet."""
    feeds = Feeds(hub)
    handlers = [
        RoomHandlers(None, hub, event_id=1, slug="e", who=Who(f"p{i}", ""), send=print,  # type: ignore[arg-type]
                     feeds=feeds)
        for i in range(2)
    ]
    assert all(h.feeds is feeds for h in handlers)


async def test_a_remembered_value_lasts_until_the_next_entry(hub: Hub) -> None:
    """`remember` holds a value read after `generation`; any entry on the channel forgets it."""
    feeds = Feeds(hub)
    seen: list[str] = []
    await feeds.follow("rooms:1", seen.append)
    assert feeds.recall("rooms:1") == (False, None)
    mark = feeds.generation("rooms:1")
    feeds.remember("rooms:1", mark, None)  # "no group work" is worth remembering too
    assert feeds.recall("rooms:1") == (True, None)
    await hub.publish("rooms:1", Entry(1, 0, b'{"v":1}'))
    await until(lambda: len(seen) == 1)
    assert feeds.recall("rooms:1") == (False, None)
    feeds.remember("rooms:1", mark, "read before the entry")  # stale: not kept
    assert feeds.recall("rooms:1") == (False, None)
    feeds.remember("rooms:1", feeds.generation("rooms:1"), "fresh")
    assert feeds.recall("rooms:1") == (True, "fresh")
    await feeds.unfollow("rooms:1", seen.append)


async def test_followers_are_told_to_resync_once_a_lost_channel_is_back() -> None:
    """While the hub is away nothing is said; once the channel is live again each follower
    gets `rooms.resync` (other processes' notices may have been missed), once."""
    hub = CountingHub()
    feeds = Feeds(hub)
    got: list[str] = []
    await feeds.follow("rooms:1", got.append)
    [subscription] = hub.subscriptions
    subscription.signal(Signal.DOWN)
    subscription.signal(Signal.UP)
    await until(lambda: len(got) == 1)
    subscription.signal(Signal.UP)
    await hub.publish("rooms:1", Entry(1, 0, b'{"v":1}'))
    await until(lambda: len(got) == 2)
    assert got == [RESYNC, '{"v":1}'] and json.loads(RESYNC) == {"type": "rooms.resync"}
    await feeds.unfollow("rooms:1", got.append)
