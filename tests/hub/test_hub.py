"""The hub backends: memory:// and redis:// (a real redis-server) behave the same."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from live.hub import Entry, Hub, Lagged, Subscription, gapless_since, open_hub


@pytest.fixture(params=["memory", "redis"])
async def hub(request: pytest.FixtureRequest) -> AsyncIterator[Hub]:
    url = "memory://" if request.param == "memory" else request.getfixturevalue("redis_url")
    async with open_hub(url) as opened:
        yield opened


def channel() -> str:
    return f"test:{uuid.uuid4().hex}"


async def test_subscriber_receives_published_entries(hub: Hub) -> None:
    """A subscriber gets every entry published on its channel, in order, and none of others."""
    name = channel()
    async with hub.subscribe(name) as sub:
        await hub.publish(channel(), Entry(1, 0, b"other"))
        await hub.publish(name, Entry(1, 0, b"a"))
        await hub.publish(name, Entry(2, 1, b"b"))
        got = [await asyncio.wait_for(sub.get(), 10) for _ in range(2)]
    assert got == [Entry(1, 0, b"a"), Entry(2, 1, b"b")]


async def test_two_subscribers_both_receive(hub: Hub) -> None:
    """Two subscribers of one channel each receive the entry."""
    name = channel()
    async with hub.subscribe(name) as one, hub.subscribe(name) as two:
        await hub.publish(name, Entry(5, 4, b"x"))
        assert (await asyncio.wait_for(one.get(), 10)).data == b"x"
        assert (await asyncio.wait_for(two.get(), 10)).data == b"x"


async def test_history_replays_after_version(hub: Hub) -> None:
    """History returns the entries after a version, in version order."""
    name = channel()
    for v in range(1, 6):
        await hub.publish(name, Entry(v, v - 1, str(v).encode()))
    replay = await hub.history(name, 3)
    assert replay is not None
    assert [e.v for e in replay] == [4, 5]
    assert await hub.history(name, 5) == []


async def test_history_with_gap_is_none(hub: Hub) -> None:
    """History refuses to replay across a missing entry (the client must take a snapshot)."""
    name = channel()
    await hub.publish(name, Entry(1, 0, b""))
    await hub.publish(name, Entry(4, 3, b""))  # entries 2..3 never arrived
    assert await hub.history(name, 1) is None
    assert await hub.history(name, 0) is None
    assert await hub.history(name, 3) == [Entry(4, 3, b"")]


async def test_history_of_unknown_channel_from_zero_is_empty(hub: Hub) -> None:
    """A channel that never had a notice replays as empty from version 0."""
    assert await hub.history(channel(), 0) == []


def test_gapless_accepts_skipped_versions() -> None:
    """A chain may skip versions when each entry names the previous one in `after`."""
    entries = [Entry(7, 3, b""), Entry(3, 1, b""), Entry(9, 7, b"")]
    assert [e.v for e in gapless_since(entries, 1) or []] == [3, 7, 9]
    assert [e.v for e in gapless_since(entries, 2) or []] == [3, 7, 9]
    assert gapless_since(entries, 0) is None


async def test_overflowing_subscription_reports_lagged() -> None:
    """A subscriber whose bounded queue overflows gets Lagged instead of growing memory."""
    sub = Subscription("c", maxsize=2)
    for v in range(1, 4):
        sub.put(Entry(v, v - 1, b""))
    with pytest.raises(Lagged):
        await sub.get()


async def test_unknown_scheme_is_refused() -> None:
    """open_hub names the accepted schemes when given another."""
    with pytest.raises(ValueError, match="memory:// or redis://"):
        async with open_hub("kafka://x"):
            pass
