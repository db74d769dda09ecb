"""The `redis://` hub: pub/sub carries notices between processes, a Stream per channel keeps
the recent ones for replay after a reconnect.

One pub/sub connection per process is shared by every local subscriber; a reader task hands
each message to the subscribers' bounded queues. If that connection breaks, every
subscription is failed with `Lagged` (its owner resynchronises from the database) and the
reader reconnects.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from live.hub.base import HISTORY, Entry, Subscription, gapless_since

log = logging.getLogger(__name__)

PREFIX = "salen:"
# The first replay read is short: a client that missed a little needs only the newest few.
SHORT_READ = 200
RECONNECT_DELAY = 0.5

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Entry).decode


class RedisHub:
    """Hub shared by every process that uses the same Redis database."""

    def __init__(self, url: str, history: int = HISTORY) -> None:
        self._redis: Redis = Redis.from_url(url)
        self._history = history
        self._subscribers: defaultdict[str, set[Subscription]] = defaultdict(set)
        self._confirmed: dict[str, asyncio.Event] = {}
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Connect, so that a wrong URL fails at start-up rather than on first use."""
        await self._redis.ping()
        await self._connect()
        self._reader = asyncio.create_task(self._read_forever(), name="salen-redis-hub")

    async def aclose(self) -> None:
        """Stop the reader and close both connections."""
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except asyncio.CancelledError:
                pass
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self._redis.aclose()

    async def publish(self, channel: str, entry: Entry) -> None:
        """Append to the channel's stream and publish, in one transaction."""
        packed = _encode(entry)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                PREFIX + "log:" + channel, {"e": packed}, maxlen=self._history, approximate=True
            )
            pipe.publish(PREFIX + channel, packed)
            await pipe.execute()

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        """Entries published on `channel` once Redis has confirmed the subscription."""
        subscription = Subscription(channel)
        async with self._lock:
            first = not self._subscribers[channel]
            self._subscribers[channel].add(subscription)
            if first:
                confirmed = self._confirmed[channel] = asyncio.Event()
                assert self._pubsub is not None
                await self._pubsub.subscribe(PREFIX + channel)
            else:
                confirmed = self._confirmed[channel]
        try:
            await confirmed.wait()
            yield subscription
        finally:
            async with self._lock:
                subscribers = self._subscribers[channel]
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[channel]
                    self._confirmed.pop(channel, None)
                    if self._pubsub is not None:
                        try:
                            await self._pubsub.unsubscribe(PREFIX + channel)
                        except RedisError:
                            log.warning("could not unsubscribe from %s", channel)

    async def history(self, channel: str, since: int) -> list[Entry] | None:
        """Recent entries after `since` from the channel's stream, None if there is a gap."""
        key = PREFIX + "log:" + channel
        for count in (SHORT_READ, self._history):
            rows = cast(
                list[tuple[bytes, dict[bytes, bytes]]],
                await self._redis.xrevrange(key, count=count) or [],
            )
            entries = [_decode(fields[b"e"]) for _id, fields in rows]
            found = gapless_since(entries, since)
            if found is not None or len(rows) < count:
                return found
        return None

    async def _connect(self) -> None:
        # A placeholder channel keeps the connection subscribed, so the reader can block on it.
        self._pubsub = self._redis.pubsub()
        await self._pubsub.subscribe(PREFIX + "hub")
        for channel in self._subscribers:
            await self._pubsub.subscribe(PREFIX + channel)

    async def _read_forever(self) -> None:
        while True:
            try:
                assert self._pubsub is not None
                message = await self._pubsub.get_message(timeout=None)
                if message is not None:
                    self._dispatch(message)
            except (RedisError, OSError):
                log.warning("redis hub connection lost; reconnecting", exc_info=True)
                await self._recover()

    async def _recover(self) -> None:
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.fail()
        while True:
            await asyncio.sleep(RECONNECT_DELAY)
            try:
                async with self._lock:
                    if self._pubsub is not None:
                        await self._pubsub.aclose()
                    await self._connect()
                return
            except (RedisError, OSError):
                continue

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message["channel"].decode()[len(PREFIX) :]
        if message["type"] == "subscribe" and channel in self._confirmed:
            self._confirmed[channel].set()
        elif message["type"] == "message":
            entry = _decode(message["data"])
            for subscription in list(self._subscribers.get(channel, ())):
                subscription.put(entry)
