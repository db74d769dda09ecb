"""Fan-out of hub notices to this process's WebSocket connections, in ticks for viewers.

Frames, not events, are the cost of a large audience, so viewers get at most one frame per
tick: every public notice that arrived during the tick is merged into one `update` (newest
state per question, panel and settings), encoded once, and the same text is written to every
viewer of the event. Nothing is sent when nothing changed. Each room waits between its ticks
as its latency target, the measured cost of its ticks and the load of the rest of the
process allow (`live.realtime.tick`); a room with nothing pending does not wake up at all.
Moderators (few) get every notice at once. A feature may add a side channel per event
(`Side`, live captions): each tick takes one frame of its news and writes it to every
connection, moderators included.

A tick to thousands of viewers is written in slices with a turn of the event loop between
them (`Tick`): a moderator's action read meanwhile is in the frame of every viewer not yet
written, so a change waits about one tick plus the pause, not two.

Each connection's writes never wait for a slow client (`live.realtime.conn`).

When the hub loses the other processes (`Listener.lost`: Redis is away, or a subscription
lagged) no connection is dropped: the room keeps delivering what its own process publishes,
and once the channel is live again it reads from the database, through the syncing
feature's `catch_up`, everything after the newest version up to which it had heard every
notice (`live.realtime.catchup`), and sends that as one more notice. Clients apply pushes by version,
so a change heard twice is harmless and every client converges on the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Self

from live.hub import Entry, Hub, Relay
from live.realtime.catchup import Catcher, CatchUp
from live.realtime.channels import qa_mod_channel, qa_public_channel
from live.realtime.conn import Conn
from live.realtime.envelope import CloseCode
from live.realtime.rawframes import text_frame
from live.realtime.sides import Side
from live.realtime.tick import MIN_MEASURED, Load, TickPace

log = logging.getLogger(__name__)

# Viewers written to between two turns of the event loop within a tick: a question or a
# moderator's action waits for one slice, not for the whole tick.
TICK_SLICE = 64
# Seconds a new connection waits for the hub subscriptions.
SUBSCRIBE_TIMEOUT = 10.0

# Several notices of one channel as the text of one frame (newest state per item wins).
Coalesce = Callable[[Sequence[bytes]], str]
# An event's (public, moderators') channel names: the Q&A's unless a fan-out is given others.
Channels = Callable[[int], tuple[str, str]]


def qa_channels(event_id: int) -> tuple[str, str]:
    """The Q&A's public and moderators' channels of an event."""
    return qa_public_channel(event_id), qa_mod_channel(event_id)


class Room:
    """This process's connections to one event, and the public notices not yet sent to all.

    The notices are kept in arrival order (`pending`, starting at position `base`), and each
    viewer's `Conn.cursor` says how far it has been written: a tick (`Tick`) writes each
    viewer one frame of everything past its cursor. Notices every viewer has are dropped.
    The room listens to the event's two Q&A channels through the process's `Relay`, and to
    each feature's side channel (`Side`: captions), whose collector gives one frame a tick.
    """

    def __init__(
        self, event_id: int, coalesce: Coalesce, catch_up: CatchUp | None = None,
        channels: Channels | None = None, sides: Sequence[Side] = (),
    ) -> None:
        self.event_id, self.coalesce = event_id, coalesce
        self.public_channel, self.mod_channel = (channels or qa_channels)(event_id)
        # The features' side channels (`Side`) and their collectors for this event.
        self.sides = {side.channel(event_id): side.collector(event_id) for side in sides}
        self._side_of = {side.channel(event_id): side for side in sides}
        # Side channels that were live once: going live again means catching up.
        self._sides_heard: set[str] = set()
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
        self.catcher = Catcher(self, catch_up)

    def __len__(self) -> int:
        return len(self.viewers) + len(self.moderators)

    @property
    def end(self) -> int:
        """The position after the newest notice."""
        return self.base + len(self.pending)

    # --- as a relay's listener (`live.hub.Listener`) ----------------------------------------

    def entry(self, channel: str, entry: Entry) -> None:
        """A notice: public ones and side ones wait for the next tick, moderators' go out at
        once."""
        collector = self.sides.get(channel)
        if collector is not None:
            collector.add(entry)
            self.side_waiting = True
            self.woken.set()
            return
        self.catcher.saw(channel, entry)
        if channel == self.public_channel:
            self.add(entry)
        else:
            self.forward(entry)

    def is_live(self, channel: str) -> bool:
        """Is the hub subscription to `channel` live?"""
        return channel in self._channels

    def lost(self, channel: str) -> None:
        """Notices of other processes may pass unseen: caught up when the channel is live."""
        self._channels.discard(channel)
        if channel == self.public_channel:
            self.public_v = None

    def live(self, channel: str) -> None:
        """Once every hub channel is live, connections may read their snapshot; what a Q&A
        channel missed before is read from the database (a side channel has no versions: what
        it missed is read back by its `Side.catch_up`)."""
        self._channels.add(channel)
        if len(self._channels) == 2 + len(self.sides):
            self.ready.set()
        if channel in self.sides:
            if channel in self._sides_heard:
                self._own(asyncio.create_task(
                    self._side_catch_up(channel), name=f"salen-side-catch-up-{self.event_id}"))
            self._sides_heard.add(channel)
            return
        task = self.catcher.due(channel)
        if task is not None:
            self._own(task)

    def _own(self, task: asyncio.Task[None]) -> None:
        """A task the room cancels when it closes."""
        self.tasks = [*(t for t in self.tasks if not t.done()), task]

    async def _side_catch_up(self, channel: str) -> None:
        try:
            await self._side_of[channel].catch_up(self.event_id)
        except Exception as exc:  # noqa: BLE001  (the database may be away too)
            log.warning("event %s: %s could not catch up (%r)", self.event_id, channel, exc)
            return
        self.side_waiting = True
        self.woken.set()

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


class Tick:
    """One round of a room's news to its viewers, written a slice at a time.

    Each viewer gets one frame of the notices past its cursor, merged, and its cursor moves
    to the end. Between slices the event loop runs, so a moderator's action read meanwhile,
    once announced, is in the frames of the viewers not yet written in this same round; the
    ones written before it get it next round (their cursors are behind), and nobody gets more
    than one frame a round. A connection that joins during the round starts at the end: its
    snapshot or replay, read after it joined, holds everything before.
    """

    __slots__ = ("_batches", "_end", "_sides", "conns", "done", "room", "start")

    def __init__(self, room: Room) -> None:
        self.room = room
        self.conns = list(room.viewers)
        self.start = room.end
        self.done = 0
        # The side frames (`Side`) of this round: every viewer and moderator gets them.
        self._sides = room.take_sides()
        self._end = self.start
        # Frames of this round by cursor (one, unless notices arrived during the round).
        self._batches: dict[int, tuple[dict[str, Any], int, bytes]] = {}

    @property
    def finished(self) -> bool:
        """Has every viewer of the round had its turn?"""
        return self.done >= len(self.conns)

    def write(self, count: int) -> int:
        """Write to the next `count` viewers; returns how many were sent a frame."""
        room = self.room
        end = room.end
        if end != self._end:
            self._batches, self._end = {}, end
        batches = self._batches
        sides = self._sides
        if sides and self.done == 0:
            for moderator in list(room.moderators):
                for message, frame in sides:
                    moderator.side(message, frame)
        written = 0
        for conn in self.conns[self.done:self.done + count]:
            for message, frame in sides:
                conn.side(message, frame)
            cursor = conn.cursor
            if cursor >= end:
                written += bool(sides)
                continue
            batch = batches.get(cursor)
            if batch is None:
                batch = batches[cursor] = room.batch(cursor, end)
            conn.push(*batch)
            conn.cursor = end
            written += 1
        self.done += count
        return written

    def finish(self) -> None:
        """The round is over: every viewer has what was pending when it began."""
        self.room.written_up_to(self.start)


class Fanout:
    """Every room of this process, each with its tick task paced by a latency target
    (`live.realtime.tick`)."""

    def __init__(
        self, hub: Hub, coalesce: Coalesce, tick_seconds: float = 1.0,
        min_tick_seconds: float = 0.02, latency_target: float = 0.2,
        catch_up: CatchUp | None = None, channels: Channels | None = None,
        sides: Sequence[Side] = (),
    ) -> None:
        self._relay, self.coalesce, self._catch_up = Relay(hub), coalesce, catch_up
        self.channels, self.sides = channels, tuple(sides)
        self.pace = TickPace(min_tick_seconds, tick_seconds, latency_target)
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
        room = await self.enter(event_id, conn)
        try:
            yield room
        finally:
            await self.leave(room, conn)

    async def enter(self, event_id: int, conn: Conn) -> Room:
        """`join` without its context manager, for state that lives as long as a socket
        (a suspended generator per viewer costs memory): every `enter` that returns is
        paired with a `leave` of the room it returned."""
        room = self._rooms.get(event_id)
        if room is None:
            room = self._rooms[event_id] = Room(
                event_id, self.coalesce, self._catch_up, self.channels, self.sides)
            room.tasks = [
                asyncio.create_task(self._run_ticks(room), name=f"salen-tick-{event_id}"),
            ]
            # After the tick task: a channel going live may add its catch-up task.
            self._relay.listen(room.public_channel, room)
            self._relay.listen(room.mod_channel, room)
            for channel in room.sides:
                self._relay.listen(channel, room)
        conn.cursor = room.end
        (room.moderators if conn.moderator else room.viewers).add(conn)
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                await room.ready.wait()
        except TimeoutError:
            # The hub never holds a subscription up this long; serve rather than hang.
            log.warning("event %s: hub subscriptions not ready; serving anyway", event_id)
        except BaseException:
            await self.leave(room, conn)
            raise
        return room

    async def leave(self, room: Room, conn: Conn) -> None:
        """`conn` leaves `room`; the room stops with its last connection."""
        room.viewers.discard(conn)
        room.moderators.discard(conn)
        await conn.aclose()
        if not room and self._rooms.get(room.event_id) is room:
            del self._rooms[room.event_id]
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
        costs CPU even with nothing to send); a notice then goes out once the wait since
        the end of the last tick has passed. After each tick the process's CPU clock tells
        how much of the core the rest of the process took meanwhile, and the tick's wall
        time against it how much other processes took (`Load`).
        """
        loop = asyncio.get_running_loop()
        ended = loop.time()
        load = Load()
        load.update(time.process_time(), ended, 0.0)
        while True:
            if not room.pending and not room.side_waiting:
                room.woken.clear()
                await room.woken.wait()
            paced = self.pace.pacing(len(room.viewers), load.rest)
            wait = ended + paced.wait - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            seconds, written, began, cpu = 0.0, 0, loop.time(), time.process_time()
            try:
                seconds, written = await self._tick(room)
            except Exception:
                log.exception("fan-out tick failed for event %s", room.event_id)
                room.abandon_round()
            else:
                self.pace.record(seconds, written, paced)
            ended, now_cpu = loop.time(), time.process_time()
            if written >= MIN_MEASURED:
                load.during(now_cpu - cpu, ended - began)
            load.update(now_cpu, ended, seconds)

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
