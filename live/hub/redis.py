"""The `redis://` hub: pub/sub carries notices between processes, a Stream per channel keeps
the recent ones for replay after a reconnect.

One pub/sub connection per process is shared by every local subscriber; a reader task hands
each message to the subscribers' bounded queues, and pings Redis when the connection is
quiet, so a Redis that stopped answering (killed, paused, unreachable) is noticed within
about `TIMEOUT + PING_EVERY` seconds. Every command is bounded by `TIMEOUT`.

While Redis is away the hub keeps working for this process alone: a publish is handed
straight to the local subscribers and kept (`UNSENT` at most) to be published once Redis is
back; subscribing never waits for Redis; `history` answers None (replay unknown, so clients
get a snapshot). Every subscription hears `Signal.DOWN` when Redis goes and `Signal.UP`
when the reader has reconnected (with a growing pause, `FIRST_DELAY` to `MAX_DELAY`),
resubscribed and published what it kept; its owner then reads what other processes did
meanwhile from the database. No Redis error reaches a caller.

Counters for monitoring (read them, never write): `up`, `outages` (times Redis was lost),
`reconnects` (times it came back), `local_only` (entries published while it was away) and
`last_heard` (`time.monotonic()` of the last message or pong from Redis).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from live.hub.base import HISTORY, Entry, Signal, Subscription, gapless_since

log = logging.getLogger(__name__)

PREFIX = "salen:"
# The first replay read is short: a client that missed a little needs only the newest few.
SHORT_READ = 200
# Seconds any one Redis command (or connecting) may take before Redis counts as away.
TIMEOUT = 2.0
# Seconds of quiet on the pub/sub connection before it is pinged.
PING_EVERY = 1.0
# Seconds between reconnection attempts: doubling from the first to the most.
FIRST_DELAY = 0.25
MAX_DELAY = 2.0
# Entries published while Redis was away, kept to be published when it is back.
UNSENT = 10_000
FAILURES = (RedisError, OSError, TimeoutError)

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Entry).decode


class RedisHub:
    """Hub shared by every process that uses the same Redis database."""

    def __init__(self, url: str, history: int = HISTORY, timeout: float = TIMEOUT) -> None:
        self._redis: Redis = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        self._history = history
        self._timeout = timeout
        self._subscribers: defaultdict[str, set[Subscription]] = defaultdict(set)
        self._confirmed: dict[str, asyncio.Event] = {}
        # Channels the current pub/sub connection was asked to subscribe to.
        self._subscribed: set[str] = set()
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._unsent: deque[tuple[str, Entry]] = deque()
        self.up = False
        self.outages = 0
        self.reconnects = 0
        self.local_only = 0
        self.last_heard = 0.0

    async def start(self) -> None:
        """Connect, so that a wrong URL fails at start-up rather than on first use."""
        async with asyncio.timeout(self._timeout):
            await self._redis.ping()
        await self._connect()
        self._came_up()
        self._reader = asyncio.create_task(self._run(), name="salen-redis-hub")

    async def aclose(self) -> None:
        """Stop the reader and close both connections."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._drop_pubsub()
        with contextlib.suppress(*FAILURES):
            await self._redis.aclose()

    # --- publishing ----------------------------------------------------------------------

    async def publish(self, channel: str, entry: Entry) -> None:
        """Append to the channel's stream and publish; with Redis away, deliver locally."""
        if self.up and not self._unsent:
            try:
                await self._send(channel, entry)
                return
            except FAILURES as exc:
                self._went_down(exc)
        self.local_only += 1
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.put(entry)
        if len(self._unsent) >= UNSENT:
            self._unsent.popleft()  # its version is still in the database
        self._unsent.append((channel, entry))

    async def _send(self, channel: str, entry: Entry) -> None:
        packed = _encode(entry)
        async with asyncio.timeout(self._timeout):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xadd(
                    PREFIX + "log:" + channel, {"e": packed}, maxlen=self._history,
                    approximate=True,
                )
                pipe.publish(PREFIX + channel, packed)
                await pipe.execute()

    # --- subscribing ---------------------------------------------------------------------

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        """Entries published on `channel` from the moment the context is entered.

        With Redis up this waits (at most `TIMEOUT`) for Redis to confirm the subscription;
        with Redis away it does not wait, and the subscription starts with `Signal.DOWN`.
        """
        subscription = Subscription(channel)
        confirmed: asyncio.Event | None = None
        async with self._lock:
            first = not self._subscribers[channel]
            self._subscribers[channel].add(subscription)
            if first and self._pubsub is not None and self.up:
                confirmed = self._confirmed[channel] = asyncio.Event()
                self._subscribed.add(channel)
                try:
                    async with asyncio.timeout(self._timeout):
                        await self._pubsub.subscribe(PREFIX + channel)
                except FAILURES as exc:
                    self._went_down(exc)
            else:
                confirmed = self._confirmed.get(channel)
        try:
            if not self.up:
                subscription.signal(Signal.DOWN)
            elif confirmed is not None:
                try:
                    async with asyncio.timeout(self._timeout):
                        await confirmed.wait()
                except TimeoutError as exc:
                    self._went_down(exc)  # signals this subscription too
            yield subscription
        finally:
            await self._unsubscribe(channel, subscription)

    async def _unsubscribe(self, channel: str, subscription: Subscription) -> None:
        async with self._lock:
            subscribers = self._subscribers[channel]
            subscribers.discard(subscription)
            if subscribers:
                return
            del self._subscribers[channel]
            self._confirmed.pop(channel, None)
            self._subscribed.discard(channel)
            if self._pubsub is not None and self.up:
                try:
                    async with asyncio.timeout(self._timeout):
                        await self._pubsub.unsubscribe(PREFIX + channel)
                except FAILURES as exc:
                    self._went_down(exc)

    async def ping(self) -> None:
        """Ask Redis itself (not the last known state), bounded by the command timeout."""
        async with asyncio.timeout(self._timeout):
            await self._redis.ping()

    async def history(self, channel: str, since: int) -> list[Entry] | None:
        """Recent entries after `since` from the channel's stream, None if there is a gap
        (or Redis is away)."""
        if not self.up:
            return None
        key = PREFIX + "log:" + channel
        try:
            for count in (SHORT_READ, self._history):
                async with asyncio.timeout(self._timeout):
                    rows = cast(
                        list[tuple[bytes, dict[bytes, bytes]]],
                        await self._redis.xrevrange(key, count=count) or [],
                    )
                entries = [_decode(fields[b"e"]) for _id, fields in rows]
                found = gapless_since(entries, since)
                if found is not None or len(rows) < count:
                    return found
        except FAILURES as exc:
            self._went_down(exc)
        return None

    # --- the connection's life -----------------------------------------------------------

    async def _connect(self) -> None:
        """A new pub/sub connection subscribed to every channel, each one confirmed.

        The lock is not held while Redis is waited for: a Redis that accepts connections but
        does not answer (paused, overloaded) would otherwise hold every new subscriber (a
        socket opening) for the whole timeout of each reconnection attempt. Channels that
        gain subscribers meanwhile are subscribed once it answers (`_subscribe_late`).
        """
        async with self._lock:
            await self._drop_pubsub()
            # Connections kept from before the outage lead to a Redis that may be gone.
            with contextlib.suppress(*FAILURES):
                await self._redis.connection_pool.disconnect()
            pubsub = self._pubsub = self._redis.pubsub()
            channels = list(self._subscribers)
            self._subscribed = set(channels)
            self._confirmed = {channel: asyncio.Event() for channel in channels}
        async with asyncio.timeout(self._timeout):
            # A placeholder channel keeps the connection subscribed when nobody listens.
            await pubsub.subscribe(PREFIX + "hub", *(PREFIX + c for c in channels))
        async with asyncio.timeout(self._timeout):
            while not all(event.is_set() for event in self._confirmed.values()):
                message = await pubsub.get_message(timeout=self._timeout)
                if message is not None:
                    self._dispatch(message)

    async def _run(self) -> None:
        """Read while Redis answers; when it stops, reconnect with a growing pause."""
        delay = FIRST_DELAY
        while True:
            try:
                if not self.up:
                    await self._connect()
                    await self._flush()
                    await self._subscribe_late()
                    self._came_up()
                    delay = FIRST_DELAY
                await self._listen()
            except FAILURES as exc:
                self._went_down(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_DELAY)

    async def _listen(self) -> None:
        """Hand messages on until Redis fails to answer a ping (or another call failed)."""
        loop = asyncio.get_running_loop()
        pinged: float | None = None
        pubsub = self._pubsub
        assert pubsub is not None
        while self.up:
            message = await pubsub.get_message(timeout=PING_EVERY / 2)
            now = loop.time()
            if message is not None:
                self.last_heard, pinged = time.monotonic(), None
                self._dispatch(message)
            elif pinged is None and time.monotonic() - self.last_heard >= PING_EVERY:
                async with asyncio.timeout(self._timeout):
                    await pubsub.ping()
                pinged = now
            elif pinged is not None and now - pinged > self._timeout:
                raise TimeoutError("redis did not answer a ping")

    async def _flush(self) -> None:
        """Publish what was kept while Redis was away, oldest first."""
        while self._unsent:
            channel, entry = self._unsent[0]
            await self._send(channel, entry)
            self._unsent.popleft()

    async def _subscribe_late(self) -> None:
        """Subscribe to the channels that gained subscribers while connecting."""
        async with self._lock:
            late = set(self._subscribers) - self._subscribed
            if late and self._pubsub is not None:
                async with asyncio.timeout(self._timeout):
                    await self._pubsub.subscribe(*(PREFIX + c for c in late))
                self._subscribed |= late

    def _came_up(self) -> None:
        self.last_heard = time.monotonic()
        if not self.up and self.outages:
            self.reconnects += 1
            log.warning("redis hub reachable again; catching up")
        self.up = True
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.signal(Signal.UP)

    def _went_down(self, exc: BaseException) -> None:
        """Redis failed: serve this process alone until the reader has reconnected."""
        if not self.up:
            return
        self.up = False
        self.outages += 1
        log.warning("redis hub unreachable (%r); serving local connections until it is back", exc)
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.signal(Signal.DOWN)

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(*FAILURES):
                await pubsub.aclose()

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] == "pong":
            return
        channel = message["channel"].decode()[len(PREFIX) :]
        if message["type"] == "subscribe" and channel in self._confirmed:
            self._confirmed[channel].set()
        elif message["type"] == "message":
            entry = _decode(message["data"])
            for subscription in list(self._subscribers.get(channel, ())):
                subscription.put(entry)
