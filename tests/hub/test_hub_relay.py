"""The relay: one hub subscription per channel, shared by a process's local listeners."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from live.hub import Entry, Relay, Subscription, open_hub
from live.hub.memory import MemoryHub


class Recorder:
    """A listener that writes down what it is told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def entry(self, channel: str, entry: Entry) -> None:
        self.calls.append(("entry", entry.v))

    def live(self, channel: str) -> None:
        self.calls.append(("live", channel))

    def lost(self, channel: str) -> None:
        self.calls.append(("lost", channel))


class CountingHub(MemoryHub):
    """A memory hub that counts subscriptions and keeps them, so a test can fail one."""

    def __init__(self) -> None:
        super().__init__()
        self.subscriptions: list[Subscription] = []

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        async with super().subscribe(channel) as subscription:
            self.subscriptions.append(subscription)
            yield subscription


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.001)


async def test_listeners_share_one_subscription() -> None:
    """Two listeners of a channel get every entry through one subscription; the last out ends it."""
    hub = CountingHub()
    relay = Relay(hub)
    first, second = Recorder(), Recorder()
    relay.listen("c", first)
    relay.listen("c", second)
    await relay.ready("c")
    await hub.publish("c", Entry(1, 0, b"x"))
    await until(lambda: len(second.calls) == 2)
    assert first.calls == second.calls == [("live", "c"), ("entry", 1)]
    assert len(hub.subscriptions) == 1 and len(relay) == 1
    await relay.unlisten("c", first)
    await relay.unlisten("c", second)
    assert len(relay) == 0 and relay.generation("c") == -1


async def test_a_lagged_subscription_is_lost_then_renewed() -> None:
    """Lagging tells every listener `lost`, then `live` again once it is resubscribed."""
    hub = CountingHub()
    relay = Relay(hub)
    listener = Recorder()
    relay.listen("c", listener)
    await relay.ready("c")
    before = relay.generation("c")
    hub.subscriptions[0].fail()
    await until(lambda: len(listener.calls) == 3)
    assert listener.calls == [("live", "c"), ("lost", "c"), ("live", "c")]
    assert relay.generation("c") > before
    await hub.publish("c", Entry(1, 0, b"x"))
    await until(lambda: ("entry", 1) in listener.calls)
    await relay.aclose()


async def test_a_late_listener_is_told_the_channel_is_live() -> None:
    """A listener added to a live channel hears `live` at once (every entry from now reaches it)."""
    async with open_hub("memory://") as hub:
        relay = Relay(hub)
        relay.listen("c", Recorder())
        await relay.ready("c")
        late = Recorder()
        relay.listen("c", late)
        assert late.calls == [("live", "c")]
        await relay.aclose()
