"""One hub subscription per channel for the whole process, shared by its local listeners.

A subscription costs a task and a bounded queue, so thousands of connections following a
channel share one: each entry is handed to every listener in turn (callbacks, not queues,
so a listener must not block). When the subscription lags (`Lagged`: entries were lost) or
the hub fails, every listener is told (`lost`) and the subscription is renewed; listeners
are told again once it is live (`live`), from when on every entry reaches them. A hub that
loses the other processes for a while (`Signal.DOWN` ... `Signal.UP`) keeps the subscription
and its local entries flowing, and the listeners hear `lost` and `live` the same way; what
they missed is theirs to read from the database. The last listener out ends the subscription.

`generation(channel)` moves on every entry and every renewal, and never repeats, so a
value derived from what a channel announces can be cached until it moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from typing import Protocol

from live.hub.base import Entry, Hub, Lagged, Signal

log = logging.getLogger(__name__)

# Seconds between attempts to subscribe again after the hub failed.
RESUBSCRIBE_DELAY = 1.0

_generations = itertools.count(1)


class Listener(Protocol):
    """What a relay calls; each call must return at once (it holds up every listener)."""

    def entry(self, channel: str, entry: Entry) -> None:
        """An entry published on `channel`."""

    def live(self, channel: str) -> None:
        """The subscription to `channel` is live: every entry from now on arrives."""

    def lost(self, channel: str) -> None:
        """Entries on `channel` may have been lost; the subscription is being renewed."""


class _Channel:
    """One hub subscription and the listeners it feeds."""

    def __init__(self, hub: Hub, channel: str, retry: float) -> None:
        self.channel = channel
        self.listeners: dict[Listener, None] = {}  # an ordered set
        self.generation = next(_generations)
        # Set once subscribed, and kept while the hub is down (local entries still arrive).
        self.ready = asyncio.Event()
        self.up = False
        self._task = asyncio.create_task(self._run(hub, retry), name=f"salen-relay-{channel}")

    async def _run(self, hub: Hub, retry: float) -> None:
        while True:
            try:
                async with hub.subscribe(self.channel) as subscription:
                    self._live()
                    while True:
                        item = await subscription.receive()
                        if item is Signal.DOWN:
                            self._lost()
                        elif item is Signal.UP:
                            self._live()
                        elif isinstance(item, Entry):
                            self._moved()
                            for listener in list(self.listeners):
                                listener.entry(self.channel, item)
            except Lagged:
                log.warning("relay lagged on %s; its listeners resync", self.channel)
                self._lost()
            except Exception as exc:  # noqa: BLE001  (a hub's failure: renew, never end)
                log.warning("relay lost its subscription to %s (%r); renewing", self.channel, exc)
                self._lost()
                await asyncio.sleep(retry)

    def _live(self) -> None:
        if self.up:
            return
        self._moved()
        self.up = True
        self.ready.set()
        for listener in list(self.listeners):
            listener.live(self.channel)

    def _moved(self) -> None:
        self.generation = next(_generations)

    def _lost(self) -> None:
        if not self.up:
            return
        self._moved()
        self.up = False
        for listener in list(self.listeners):
            listener.lost(self.channel)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class Relay:
    """This process's shared subscriptions, one per channel that has listeners."""

    def __init__(self, hub: Hub, retry: float = RESUBSCRIBE_DELAY) -> None:
        self._hub = hub
        self._retry = retry
        self._channels: dict[str, _Channel] = {}

    def listen(self, channel: str, listener: Listener) -> None:
        """Hand `channel`'s entries to `listener` (from `ready(channel)` on, all of them)."""
        shared = self._channels.get(channel)
        if shared is None:
            shared = self._channels[channel] = _Channel(self._hub, channel, self._retry)
        shared.listeners[listener] = None
        if shared.up:
            listener.live(channel)

    async def ready(self, channel: str) -> None:
        """Wait until the subscription to `channel` exists (live, or with the hub down)."""
        shared = self._channels.get(channel)
        if shared is not None:
            await shared.ready.wait()

    async def unlisten(self, channel: str, listener: Listener) -> None:
        """Stop handing entries to `listener`; the last one out ends the subscription."""
        shared = self._channels.get(channel)
        if shared is None:
            return
        shared.listeners.pop(listener, None)
        if not shared.listeners:
            del self._channels[channel]
            await shared.stop()

    def generation(self, channel: str) -> int:
        """A mark that moves on every entry and renewal (-1: nobody listens to `channel`)."""
        shared = self._channels.get(channel)
        return -1 if shared is None else shared.generation

    def __len__(self) -> int:
        return len(self._channels)

    async def aclose(self) -> None:
        """End every subscription."""
        channels, self._channels = list(self._channels.values()), {}
        for shared in channels:
            await shared.stop()
