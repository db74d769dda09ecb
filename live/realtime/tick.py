"""How long an event room waits between two ticks, from its audience and the cost per viewer.

A tick writes one frame to each of the room's N viewers on this process. `TickPace` keeps
a moving average of the cost c of one viewer's write, taken on the thread's CPU clock, not
the wall's, so that other work on a shared core (another Salen process, redis-server) is
not counted as this room's. The wait after a tick of t = N × c grows faster than t: a tick
lasting `FULL_SHARE` of the ceiling or more is followed by the whole ceiling
(`Settings.tick_seconds`), a shorter one by ceiling × (t / (FULL_SHARE × ceiling))², never
less than the floor (`Settings.tick_min_seconds`). A room of a few viewers hears of changes
soon; a room of thousands keeps the ceiling, so its writes leave the loop time for
questions and moderators' actions. With the default floor and ceiling, tick plus wait is at
least 1.25 × t and a room's ticks take at most 80 % of the core for every tick up to 600 ms.
Nothing here shortens a tick: it grows with the audience, and so does the latency at the
ceiling (one tick plus the wait).

`Tick` is one round of a room's news (`live.realtime.fanout.Room`) to its viewers, written
a slice at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from live.realtime.fanout import Room

# A tick this share of the ceiling or longer is followed by the whole ceiling.
FULL_SHARE = 0.5
# Seconds per viewer assumed before any tick was measured (the bare-`websockets` figure).
DEFAULT_COST = 14e-6
# Ticks to fewer viewers than this are not measured (their fixed costs dominate).
MIN_MEASURED = 64
# Weight of the newest measurement in the moving average.
SMOOTHING = 0.2


def tick_interval(viewers: int, cost: float, floor: float, ceiling: float) -> float:
    """Seconds to wait after a tick to `viewers` at `cost` seconds each.

    ceiling × (t / (FULL_SHARE × ceiling))² for a tick of t = viewers × cost, at least
    `floor` and at most `ceiling` (which wins if they cross).
    """
    if ceiling <= floor:
        return ceiling
    wait = ceiling * (viewers * cost / (FULL_SHARE * ceiling)) ** 2
    return min(max(wait, floor), ceiling)


class TickPace:
    """The per-viewer cost of a tick on this process (a moving average) and the waits it gives."""

    __slots__ = ("ceiling", "cost", "floor", "observer")

    def __init__(self, floor: float, ceiling: float, cost: float = DEFAULT_COST) -> None:
        self.floor = floor
        self.ceiling = ceiling
        self.cost = cost
        # Told of every tick (seconds, frames): the app's metrics (`live.ops.metrics`).
        self.observer: Callable[[float, int], None] | None = None

    def interval(self, viewers: int) -> float:
        """Seconds a room with `viewers` waits after its tick before the next one."""
        return tick_interval(viewers, self.cost, self.floor, self.ceiling)

    def record(self, seconds: float, viewers: int) -> None:
        """A tick wrote to `viewers` in `seconds`."""
        if self.observer is not None:
            self.observer(seconds, viewers)
        if viewers >= MIN_MEASURED:
            self.cost += (seconds / viewers - self.cost) * SMOOTHING


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
