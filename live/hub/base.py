"""What every hub backend offers: publish, subscribe with a bounded queue, and replay.

A hub carries change notices between server processes; it is never the source of truth.
Each notice is an `Entry`: the event version `v` it brings the channel to, the version
`after` of the channel's previous notice, and opaque `data`. `after` lets a reader check
that a replayed run of entries has no gap, even though a channel may skip versions (the
public channel skips changes only moderators see).

A subscription may also carry two signals between its entries (`receive`): `DOWN`, the hub
cannot reach the other processes (entries may be passing unseen; local ones still arrive),
and `UP`, it can again. What was missed meanwhile is read from the database by the owner.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import msgspec

# Entries a subscriber may have waiting before it is declared lagged.
SUBSCRIBER_QUEUE = 10_000
# Entries each channel keeps for replay after a reconnect.
HISTORY = 2_000


class Entry(msgspec.Struct, array_like=True, frozen=True):
    """One change notice on one channel."""

    v: int
    after: int
    data: bytes


class Lagged(Exception):
    """The subscriber fell so far behind that notices were lost; resynchronise from the DB."""


class Signal(enum.Enum):
    """A change in what a subscription can promise, queued between its entries."""

    DOWN = "down"  # other processes' entries may be missed until UP
    UP = "up"  # every entry from here on arrives again


class Subscription:
    """Entries for one subscriber, through a bounded queue; overflow ends it with `Lagged`."""

    def __init__(self, channel: str, maxsize: int = SUBSCRIBER_QUEUE) -> None:
        self.channel = channel
        self._queue: asyncio.Queue[Entry | Signal | None] = asyncio.Queue(maxsize)
        self._lagged = False

    def put(self, entry: Entry) -> None:
        """Hand over one entry without waiting (called by the backend)."""
        if self._lagged:
            return
        try:
            self._queue.put_nowait(entry)
        except asyncio.QueueFull:
            self.fail()

    def signal(self, signal: Signal) -> None:
        """Queue `signal` behind the entries already waiting (overflow: `Lagged`)."""
        if self._lagged:
            return
        try:
            self._queue.put_nowait(signal)
        except asyncio.QueueFull:
            self.fail()

    def fail(self) -> None:
        """Mark the subscription lagged: the reader gets `Lagged` next (notices were lost)."""
        if self._lagged:
            return
        self._lagged = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def receive(self) -> Entry | Signal:
        """The next entry or signal; raises `Lagged` once entries were dropped."""
        item = await self._queue.get()
        if item is None:
            raise Lagged(self.channel)
        return item

    async def get(self) -> Entry:
        """The next entry (signals skipped); raises `Lagged` once entries were dropped."""
        while True:
            item = await self.receive()
            if isinstance(item, Entry):
                return item

    def __aiter__(self) -> AsyncIterator[Entry]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Entry]:
        while True:
            yield await self.get()


class Hub(Protocol):
    """The interface `live.realtime.fanout` and `live.qa.service` rely on."""

    async def publish(self, channel: str, entry: Entry) -> None:
        """Deliver `entry` to every subscriber of `channel` and keep it for replay."""

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """Receive entries published on `channel` from the moment the context is entered."""

    async def history(self, channel: str, since: int) -> list[Entry] | None:
        """Entries newer than `since` in version order, or None if some may be missing."""

    async def ping(self) -> None:
        """Return once the hub reaches the other processes; raise if it cannot."""


def gapless_since(entries: Iterable[Entry], since: int) -> list[Entry] | None:
    """The entries after version `since` if they form an unbroken chain, else None."""
    newer = sorted((e for e in entries if e.v > since), key=lambda e: e.v)
    expected = since
    for entry in newer:
        if entry.after > expected:
            return None
        expected = entry.v
    return newer
