"""Group-work notices shared out: one hub subscription per channel, not one per connection.

Every connection to an event follows the event's group-work channel; a subscription (a
task, a queue) per connection made an idle audience cost memory for each viewer and made
every notice pass through thousands of queues. `Feeds` keeps one subscription per channel
in the process and hands each entry's text to every connection following it.

A channel can also remember one value derived from the state its notices announce (the
group work's state, which every connection is sent on joining): `remember` keeps it until
the next entry on the channel, or `MEMO_SECONDS`, whichever comes first, so a crowd
joining at once reads it from the database once rather than once each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from live.hub import Hub, Lagged

log = logging.getLogger(__name__)

Send = Callable[[str], None]

# How long a remembered value may serve without a notice (changes that announce nothing).
MEMO_SECONDS = 2.0


class _Channel:
    """One hub subscription and the connections' `send`s that follow it."""

    def __init__(self, hub: Hub, channel: str) -> None:
        self.channel = channel
        self.sends: set[Send] = set()
        # Moves on every entry and (re)subscription: a value read before it moved is stale.
        self.generation = 0
        self.memo: tuple[float, Any] | None = None
        self._ready = asyncio.Event()
        self._task = asyncio.create_task(self._run(hub), name=f"salen-feed-{channel}")

    async def _run(self, hub: Hub) -> None:
        while True:
            try:
                async with hub.subscribe(self.channel) as subscription:
                    self._moved()
                    self._ready.set()
                    async for entry in subscription:
                        self._moved()
                        text = entry.data.decode()
                        for send in list(self.sends):
                            send(text)
            except Lagged:
                log.warning("room feed lagged on %s; clients resync on the next join",
                            self.channel)

    def _moved(self) -> None:
        self.generation += 1
        self.memo = None

    async def ready(self) -> None:
        await self._ready.wait()

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class Feeds:
    """This process's shared group-work subscriptions, one per followed channel."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._channels: dict[str, _Channel] = {}

    async def follow(self, channel: str, send: Send) -> None:
        """Hand `channel`'s entries to `send` from the moment this returns."""
        shared = self._channels.get(channel)
        if shared is None:
            shared = self._channels[channel] = _Channel(self._hub, channel)
        shared.sends.add(send)
        await shared.ready()

    async def unfollow(self, channel: str, send: Send) -> None:
        """Stop handing entries to `send`; the last one out ends the subscription."""
        shared = self._channels.get(channel)
        if shared is None:
            return
        shared.sends.discard(send)
        if not shared.sends:
            del self._channels[channel]
            await shared.stop()

    def generation(self, channel: str) -> int:
        """A mark to pass to `remember` for a value about to be read (-1: not followed)."""
        shared = self._channels.get(channel)
        return -1 if shared is None else shared.generation

    def remember(self, channel: str, generation: int, value: Any) -> None:
        """Keep `value`, read after `generation(channel)`, unless an entry came since."""
        shared = self._channels.get(channel)
        if shared is not None and shared.generation == generation:
            shared.memo = (time.monotonic() + MEMO_SECONDS, value)

    def recall(self, channel: str) -> tuple[bool, Any]:
        """(True, the remembered value) while it holds, else (False, None)."""
        shared = self._channels.get(channel)
        if shared is None or shared.memo is None or shared.memo[0] < time.monotonic():
            return False, None
        return True, shared.memo[1]

    def __len__(self) -> int:
        return len(self._channels)
