"""Fan-out of hub notices to this process's WebSocket connections, in ticks for viewers.

Frames, not events, are the cost of a large audience, so viewers get at most one frame per
tick: every public notice that arrived during the tick is merged into one `update` (newest
state per question, panel and settings), encoded once, and the same text is written to every
viewer of the event. Nothing is sent when nothing changed. Each room waits between its ticks
in proportion to its audience here (`live.realtime.tick`: from `Settings.tick_min_seconds`
for a few viewers to `Settings.tick_seconds` for thousands); a room with nothing pending
does not wake up at all. Moderators (few) get every notice at once. A feature may add a
side channel per event (`Side`, live captions): each tick takes one frame of its news and
writes it to every connection, moderators included.

A tick to thousands of viewers is written in slices with a turn of the event loop between
them (`Tick`): a moderator's action read meanwhile is in the frame of every viewer not yet
written, so a change waits about one tick plus the pause, not two.

Writes never wait for a slow client. `Conn.send` starts the ASGI send and, in the usual
case where the socket is writable, it completes without suspending, so no task per viewer
exists. Only a connection whose socket is momentarily blocked gets a writer task, which
finishes that send and drains a small bounded backlog; a connection whose backlog overflows
is closed with `CloseCode.SLOW` and must reconnect and resync. There is no other
backpressure: a slow viewer never stalls the tick or the other viewers.

Under uvicorn pushes skip the ASGI path altogether: a viewers' tick, or a moderators'
notice, is framed once and written to each connection's transport (`live.realtime.rawframes`),
and a connection whose transport holds more than `MAX_BUFFER` unsent bytes is closed with
`CloseCode.SLOW` the same way (and cut off if it never reads its close). That happens only
while nothing of the library's own is waiting to be sent for the connection, so raw frames
never overtake a snapshot or a reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import Any, Self

from live.hub import Entry, Hub, Relay
from live.realtime.channels import qa_mod_channel, qa_public_channel
from live.realtime.envelope import CloseCode
from live.realtime.rawframes import RawSocket, text_frame
from live.realtime.sides import Side
from live.realtime.tick import Tick, TickPace

log = logging.getLogger(__name__)

# Frames a blocked connection may have waiting before it is dropped.
MAX_BACKLOG = 16
# Unsent bytes a viewer's transport may hold on the raw path before it is dropped.
MAX_BUFFER = 256 * 1024
# Pushes held for a connection while its snapshot is being prepared.
MAX_EARLY = 256
# Viewers written to between two turns of the event loop within a tick: a question or a
# moderator's action waits for one slice, not for the whole tick.
TICK_SLICE = 64
# Seconds a new connection waits for the hub subscriptions.
SUBSCRIBE_TIMEOUT = 10.0

Send = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]
Close = Callable[[int, str], Awaitable[None]]
# Several notices of one channel as the text of one frame (newest state per item wins).
Coalesce = Callable[[Sequence[bytes]], str]


class Conn:
    """One WebSocket as the fan-out sees it: non-blocking writes with a bounded backlog."""

    # Thousands of idle viewers each hold one: no per-instance dict.
    __slots__ = (
        "_backlog", "_close", "_closing", "_early", "_max_backlog", "_max_buffer", "_raw",
        "_ready", "_send", "_writer", "blocked_writes", "closed", "cursor", "moderator",
        "synced_v",
    )

    def __init__(
        self,
        send: Send,
        close: Close,
        *,
        moderator: bool = False,
        max_backlog: int = MAX_BACKLOG,
        raw: RawSocket | None = None,
        max_buffer: int = MAX_BUFFER,
    ) -> None:
        self.moderator = moderator
        self.closed = False
        self.synced_v = 0
        # The room's notices up to this position have been written (or were already known).
        self.cursor = 0
        # How often a write found the socket blocked and needed a writer task.
        self.blocked_writes = 0
        self._send = send
        self._close = close
        self._max_backlog = max_backlog
        # A list, not a deque: at most `max_backlog` short, and an empty deque costs 600 bytes
        # on every idle viewer.
        self._backlog: list[dict[str, Any]] = []
        self._writer: asyncio.Task[None] | None = None
        self._ready = True
        self._early: list[tuple[dict[str, Any], int, bytes | None]] = []
        # Pushes (viewers' ticks, moderators' notices) go raw when they can; the rest is ASGI.
        self._raw = raw
        self._max_buffer = max_buffer

    @property
    def raw_path(self) -> bool:
        """Are this connection's ticks written straight to its transport (`live.realtime.rawframes`)?"""
        return self._raw is not None

    # --- versioned pushes ------------------------------------------------------------------

    def begin_sync(self) -> None:
        """Hold pushes until `synced` (a snapshot or replay is being prepared)."""
        self._ready = False
        self._early = []

    def synced(self, v: int, first: str | None) -> None:
        """Send the snapshot/replay `first` for version `v`, then the held pushes newer than it."""
        self.synced_v = v
        if first is not None:
            self.send(first)
        self._ready = True
        early, self._early = self._early, []
        for message, pushed_v, frame in early:
            if pushed_v > v:
                self.send_message(message, frame)

    def push(self, message: dict[str, Any], v: int, frame: bytes | None = None) -> None:
        """Send a push of version `v` unless the connection already has that version.

        `frame` is the same push as a whole WebSocket frame, for the raw path.
        """
        if not self._ready:
            if len(self._early) >= MAX_EARLY:
                self.drop(CloseCode.SLOW, "resync")
                return
            self._early.append((message, v, frame))
        elif v > self.synced_v:
            self.send_message(message, frame)

    def side(self, message: dict[str, Any], frame: bytes) -> None:
        """Send a side frame (`Side`) once the first frame is out; before, it is skipped."""
        if self._ready:
            self.send_message(message, frame)

    # --- writing ---------------------------------------------------------------------------

    def send(self, text: str) -> None:
        """Write one text frame now, or queue it behind a blocked write."""
        self.send_message({"type": "websocket.send", "text": text})

    def send_message(self, message: dict[str, Any], frame: bytes | None = None) -> None:
        """Write one ASGI message (shared between connections, never mutated), or its frame."""
        if self.closed:
            return
        if self._writer is None and frame is not None and self._raw is not None:
            self._write_raw(self._raw, frame)
            return
        if self._writer is not None:
            if len(self._backlog) >= self._max_backlog:
                self.drop(CloseCode.SLOW, "too slow; reconnect and resync")
                return
            self._backlog.append(message)
            return
        coro = self._send(message)
        # Start the send eagerly (what Python 3.12's eager tasks do): a writable socket
        # completes it at once; only a blocked one needs a task to finish it.
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        except Exception:  # noqa: BLE001  (whatever the server raises, the socket is gone)
            self.closed = True
            return
        self.blocked_writes += 1
        self._writer = asyncio.create_task(self._finish(coro, waiting))

    def _write_raw(self, raw: RawSocket, frame: bytes) -> None:
        # Nothing of the library's is queued (no writer): the frame goes after whole frames.
        if raw.buffered() > self._max_buffer:
            self.drop(CloseCode.SLOW, "too slow; reconnect and resync")
            raw.abort_later()
        elif not raw.write(frame):
            self.closed = True

    async def _finish(self, coro: Coroutine[Any, Any, None], waiting: Any) -> None:
        try:
            while True:
                if waiting is None:
                    await asyncio.sleep(0)
                else:
                    await asyncio.wait((waiting,))
                try:
                    waiting = coro.send(None)
                except StopIteration:
                    break
            while self._backlog and not self.closed:
                await self._send(self._backlog.pop(0))
        except asyncio.CancelledError:
            coro.close()
            raise
        except Exception:  # noqa: BLE001  (whatever the server raises, the socket is gone)
            self.closed = True
        finally:
            self._writer = None

    def drop(self, code: int, reason: str) -> None:
        """Stop writing to this connection and close it with `code`."""
        if self.closed:
            return
        self.closed = True
        self._backlog.clear()
        self._early = []
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
        # Keep a reference: the close runs on its own, the connection is already forgotten.
        self._closing = asyncio.create_task(self._close_quietly(code, reason))

    async def _close_quietly(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self._close(code, reason)

    async def aclose(self) -> None:
        """Cancel a pending writer (the connection is going away)."""
        self.closed = True
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer


class Room:
    """This process's connections to one event, and the public notices not yet sent to all.

    The notices are kept in arrival order (`pending`, starting at position `base`), and each
    viewer's `Conn.cursor` says how far it has been written: a tick (`Tick`) writes each
    viewer one frame of everything past its cursor. Notices every viewer has are dropped.
    The room listens to the event's two Q&A channels through the process's `Relay`, and to
    each feature's side channel (`Side`: captions), whose collector gives one frame a tick.
    """

    def __init__(self, event_id: int, coalesce: Coalesce, sides: Sequence[Side] = ()) -> None:
        self.event_id, self.coalesce = event_id, coalesce
        self.public_channel = qa_public_channel(event_id)
        self.mod_channel = qa_mod_channel(event_id)
        # The features' side channels (`Side`) and their collectors for this event.
        self.sides = {side.channel(event_id): side.collector(event_id) for side in sides}
        self.side_waiting = False
        self.viewers: set[Conn] = set()
        self.moderators: set[Conn] = set()
        # Notices some viewer may not have had yet, from position `base` on.
        self.pending: list[Entry] = []
        self.base = 0
        # Set when a public notice arrives: an idle room's tick task sleeps on it, not on a timer.
        self.woken = asyncio.Event()
        self.ready = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.frames = 0
        # The newest public version this room knows to be committed, None when unknown.
        self.public_v: int | None = None
        self._channels: set[str] = set()

    def __len__(self) -> int:
        return len(self.viewers) + len(self.moderators)

    @property
    def end(self) -> int:
        """The position after the newest notice."""
        return self.base + len(self.pending)

    # --- as a relay's listener (`live.hub.Listener`) ----------------------------------------

    def entry(self, channel: str, entry: Entry) -> None:
        """A notice: public ones wait for the next tick, moderators' go out at once."""
        collector = self.sides.get(channel)
        if collector is not None:
            collector.add(entry)
            self.side_waiting = True
            self.woken.set()
        elif channel == self.public_channel:
            self.add(entry)
        else:
            self.forward(entry)

    def lost(self, channel: str) -> None:
        self.resync_all(channel)

    def live(self, channel: str) -> None:
        """Once every hub channel is live, connections may read their snapshot."""
        self._channels.add(channel)
        if len(self._channels) == 2 + len(self.sides):
            self.ready.set()

    def flush(self) -> int:
        """Write the pending notices to every viewer in one go (a tick without slices).

        Returns how many viewers it wrote to (0 when nothing was pending).
        """
        tick = Tick(self)
        written = tick.write(len(tick.conns))
        tick.finish()
        return written

    def batch(self, start: int, end: int) -> tuple[dict[str, Any], int, bytes]:
        """The notices from position `start` to `end` as one message, its version and frame."""
        entries = self.pending[start - self.base:end - self.base]
        text = entries[0].data.decode() if len(entries) == 1 else self.coalesce(
            [e.data for e in entries])
        self.frames += 1
        return {"type": "websocket.send", "text": text}, max(e.v for e in entries), text_frame(text)

    def take_sides(self) -> list[tuple[dict[str, Any], bytes]]:
        """One frame per side with news since the last tick, framed once for everyone."""
        if not self.side_waiting:
            return []
        self.side_waiting = False
        frames = []
        for collector in self.sides.values():
            text = collector.take()
            if text is not None:
                self.frames += 1
                frames.append(({"type": "websocket.send", "text": text}, text_frame(text)))
        return frames

    def written_up_to(self, position: int) -> None:
        """Every viewer has the notices before `position`: forget them."""
        if position > self.base:
            del self.pending[:position - self.base]
            self.base = position

    def add(self, entry: Entry) -> None:
        """A public notice for the next tick (which it wakes, should the room be idle)."""
        self.pending.append(entry)
        self.known_public(entry.v)
        self.woken.set()

    def forward(self, entry: Entry) -> None:
        """Send a moderators' notice at once (framed once for all of them)."""
        if not self.moderators:
            return
        text = entry.data.decode()
        message, frame = {"type": "websocket.send", "text": text}, text_frame(text)
        for conn in list(self.moderators):
            conn.push(message, entry.v, frame)

    def known_public(self, v: int) -> None:
        """Version `v` is committed (read, or announced) while the room was subscribed.

        Every public notice after it then reaches the room, so a connection that joined
        and has `public_v` misses nothing: a reconnect can skip reading the version.
        Ignored while a hub subscription is down (notices may be passing unseen).
        """
        if len(self._channels) < 2 + len(self.sides):
            return
        if self.public_v is None or v > self.public_v:
            self.public_v = v

    def abandon_round(self) -> None:
        """A tick failed part-way: the viewers it did not bring up to date reconnect and
        resync (a replay brings them what they missed); the notices are forgotten."""
        end = self.end
        for conn in list(self.viewers):
            if conn.cursor < end:
                conn.drop(CloseCode.SLOW, "resync")
        self.written_up_to(end)

    def resync_all(self, channel: str) -> None:
        """Notices on `channel` were lost: every connection must reconnect and resync."""
        self.written_up_to(self.end)
        self.public_v = None
        self._channels.discard(channel)
        for conn in list(self.viewers | self.moderators):
            conn.drop(CloseCode.SLOW, "resync")


class Fanout:
    """Every room of this process, each with its tick task paced by its audience (`live.realtime.tick`)."""

    def __init__(
        self, hub: Hub, coalesce: Coalesce, tick_seconds: float = 0.15,
        min_tick_seconds: float = 0.05, sides: Sequence[Side] = (),
    ) -> None:
        self._relay, self.coalesce = Relay(hub), coalesce
        self.sides = tuple(sides)
        self.pace = TickPace(min_tick_seconds, tick_seconds)
        self._rooms: dict[int, Room] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for room in list(self._rooms.values()):
            await self._stop(room)
        await self._relay.aclose()

    def room(self, event_id: int) -> Room | None:
        """The room of an event, if this process has connections to it."""
        return self._rooms.get(event_id)

    @contextlib.asynccontextmanager
    async def join(self, event_id: int, conn: Conn) -> AsyncIterator[Room]:
        """Register `conn` for the event's pushes; the hub subscriptions are live on entry."""
        room = self._rooms.get(event_id)
        if room is None:
            room = self._rooms[event_id] = Room(event_id, self.coalesce, self.sides)
            self._relay.listen(room.public_channel, room)
            self._relay.listen(room.mod_channel, room)
            for channel in room.sides:
                self._relay.listen(channel, room)
            room.tasks = [
                asyncio.create_task(self._run_ticks(room), name=f"salen-tick-{event_id}"),
            ]
        conn.cursor = room.end
        (room.moderators if conn.moderator else room.viewers).add(conn)
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                await room.ready.wait()
            yield room
        finally:
            room.viewers.discard(conn)
            room.moderators.discard(conn)
            await conn.aclose()
            if not room and self._rooms.get(event_id) is room:
                del self._rooms[event_id]
                await self._stop(room)

    async def _stop(self, room: Room) -> None:
        self._rooms.pop(room.event_id, None)
        await self._relay.unlisten(room.public_channel, room)
        await self._relay.unlisten(room.mod_channel, room)
        for channel in room.sides:
            await self._relay.unlisten(channel, room)
        for side in self.sides:
            side.release(room.event_id)
        for task in room.tasks:
            task.cancel()
        for task in room.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run_ticks(self, room: Room) -> None:
        """Flush the room at most once per paced interval, and only when something is pending.

        An idle room's task waits for a notice rather than waking every interval (a wake-up
        costs CPU even with nothing to send); a notice then goes out once the interval since
        the end of the last tick has passed.
        """
        loop = asyncio.get_running_loop()
        ended = loop.time()
        while True:
            if not room.pending and not room.side_waiting:
                room.woken.clear()
                await room.woken.wait()
            wait = ended + self.pace.interval(len(room.viewers)) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                seconds, written = await self._tick(room)
            except Exception:
                log.exception("fan-out tick failed for event %s", room.event_id)
                room.abandon_round()
            else:
                self.pace.record(seconds, written)
            ended = loop.time()

    @staticmethod
    async def _tick(room: Room) -> tuple[float, int]:
        """One round, `TICK_SLICE` viewers at a time; its CPU seconds and frames written."""
        tick = Tick(room)
        seconds, written = 0.0, 0
        while True:
            began = time.thread_time()
            written += tick.write(TICK_SLICE)
            seconds += time.thread_time() - began
            if tick.finished:
                break
            await asyncio.sleep(0)
        tick.finish()
        return seconds, written
