"""The `memory://` hub: one process, no dependencies."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from live.hub.base import HISTORY, Entry, Subscription, gapless_since


class MemoryHub:
    """Publish/subscribe and a bounded replay log per channel, inside one process."""

    # The Redis hub's monitoring counters (`live.hub.redis`): this hub is never away.
    up = True
    outages = reconnects = local_only = 0
    last_heard = 0.0

    def __init__(self, history: int = HISTORY) -> None:
        self._subscribers: defaultdict[str, set[Subscription]] = defaultdict(set)
        self._logs: defaultdict[str, deque[Entry]] = defaultdict(lambda: deque(maxlen=history))

    async def publish(self, channel: str, entry: Entry) -> None:
        """Deliver to local subscribers and append to the channel's log."""
        self._logs[channel].append(entry)
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.put(entry)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        """Entries published on `channel` while the context is open."""
        subscription = Subscription(channel)
        self._subscribers[channel].add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers[channel]
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[channel]

    async def ping(self) -> None:
        """One process: nothing to reach."""

    async def history(self, channel: str, since: int) -> list[Entry] | None:
        """Logged entries after `since`, or None when the log has a gap there."""
        return gapless_since(self._logs.get(channel, ()), since)

    async def aclose(self) -> None:
        """Nothing to release; present for symmetry with the Redis hub."""
