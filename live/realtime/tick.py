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
"""

from __future__ import annotations

from collections.abc import Callable

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
