"""How long an event room waits between two ticks, from its audience and the measured cost.

A tick writes one frame to each of the room's N viewers on this process, at a cost of about
c seconds per viewer (the writes' own CPU time, measured on the thread's clock, so it
follows the machine). It is written in slices with turns of the event loop between them
(`live.realtime.fanout.Tick`), so a question or a moderator's action arriving meanwhile is handled at
once and reaches the viewers not yet written in the same tick; those already written hear of
it one wait and one tick later. The thread's clock, not the wall's: two processes sharing a
core (bench/, through Redis) had each paced itself by the other's work as well, taking the
whole ceiling with half the core idle (2 × 5,000 viewers, R = 10: p99 ~340 ms; ~255 ms now).
So the wait after a tick grows with the tick's length t = N × c, and faster than it: a tick
lasting `FULL_SHARE` of the ceiling or more is followed by the whole ceiling
(`Settings.tick_seconds`), a shorter one by the ceiling × (t / (FULL_SHARE × ceiling))²,
never less than the floor (`Settings.tick_min_seconds`). A room of a few thousand viewers
thus hears of changes much sooner than at the ceiling, while a room of 10,000 (t ≈ 100 ms
here) keeps the ceiling: with a linear 1.25 × t (the issue's arithmetic) its wait fell to
about 100 ms, which is where a 100 ms tick had put the question latency over its goal.
The issue's bound (tick plus wait at least 1.25 × t, a room's ticks taking at most 80 % of
the core) holds for every tick up to 600 ms with the default floor and ceiling.
"""

from __future__ import annotations

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

    __slots__ = ("ceiling", "cost", "floor")

    def __init__(self, floor: float, ceiling: float, cost: float = DEFAULT_COST) -> None:
        self.floor = floor
        self.ceiling = ceiling
        self.cost = cost

    def interval(self, viewers: int) -> float:
        """Seconds a room with `viewers` waits after its tick before the next one."""
        return tick_interval(viewers, self.cost, self.floor, self.ceiling)

    def record(self, seconds: float, viewers: int) -> None:
        """A tick wrote to `viewers` in `seconds`."""
        if viewers >= MIN_MEASURED:
            self.cost += (seconds / viewers - self.cost) * SMOOTHING
