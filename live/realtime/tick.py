"""How long an event room waits between two ticks: from a latency target, the cost of a
tick and the CPU the rest of the process leaves.

A tick writes one frame to each of the room's N viewers on this process, a slice at a time
(`live.realtime.fanout`). Its CPU cost is N × c, where c, the cost of one viewer's write, is
a moving average (`TickPace`) taken on the thread's CPU clock; the share u of the core the
rest of the process takes (other rooms, moderators' actions, the database's threads) is a
moving average too (`Load`). A tick then lasts B = N × c / (1 − u) on the wall.

The arithmetic. A tick of length B, then a wait W, then the next tick. A change that arrives
just after a tick began misses the viewers already written; they get it in the next tick,
B (the rest of this tick) + W + B (the next tick, in whatever order it takes its viewers)
later at the most, so a change reaches every viewer within W + 2B. (The viewers not yet
written get it in this tick, between slices, so most changes arrive sooner: the bound is
kept, not the typical delay.) To hold that to the target T
(`Settings.live_latency_target_ms`), W ≤ T − 2B. Each cycle B + W the room's ticks take
N × c of CPU, so keeping them to a share a of the core needs W ≥ N × c / a − B, with
a = share − u (never below `MIN_SHARE`); with u = 0 that is B × (1 − a) / a. (B is the
tick's wall length: a busy process stretches it, and its CPU is still N × c.)

The rule (`pacing`): a room waits as long as the target allows but no longer than keeps its
ticks to `EASY_SHARE` of the core, and at least what keeps them to `FULL_SHARE`: a room
whose target is easy ticks as often as half the core allows (a small room: at the floor),
more often the less the rest of the process takes; a room that needs more gets up to 85 %
of the core to meet its target; beyond that the target is
missed, the wait is the one that keeps the room's ticks at 85 % (less what the rest of the
process takes), so ticks grow longer smoothly with the audience and the load, and the
observer (`live.ops.metrics`) is told the pacing is over its target. The wait is never
below `Settings.tick_min_seconds` (changes in a burst share a frame) nor above
`Settings.tick_seconds` (a ceiling below the floor wins: tests ask for fast ticks so).

Other processes on the same core (a second worker, nginx, Redis: the documented deployment)
take a share too, which the process's CPU clock cannot show. During a tick the process
always has work, so wall time the tick took beyond the process's CPU time is time the core
gave to someone else: that share (`Load.outside`) counts in u as well. Without it each of
two workers on one core would take half of it for its ticks and leave nothing to nginx.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

# Share of the core a room's ticks take when its target allows (the rest stays free).
EASY_SHARE = 0.5
# Share of the core (with the rest of the process) a room's ticks may take to meet its target.
FULL_SHARE = 0.85
# However loaded the process, a room's ticks may take this much of the core.
MIN_SHARE = 0.2
# Seconds per viewer assumed before any tick was measured (the bare-`websockets` figure).
DEFAULT_COST = 14e-6
# Ticks to fewer viewers than this are not measured (their fixed costs dominate).
MIN_MEASURED = 64
# Weight of the newest measurement in the moving averages.
SMOOTHING = 0.2


class Pacing(NamedTuple):
    """The wait before a room's next tick and what it promises."""

    wait: float  # seconds from the end of one tick to the start of the next
    tick: float  # the tick's expected length on the wall (B)
    worst: float  # the longest a change waits for its last viewer: wait + 2 × tick
    over: bool  # worst > the target: the core cannot meet it (degraded)


def cpu_wait(cost: float, share: float, tick: float | None = None) -> float:
    """The wait after a tick of `cost` CPU-seconds that lasted `tick` on the wall (by
    default `cost`) which keeps the room's ticks to `share` of the core."""
    return max(cost / share - (cost if tick is None else tick), 0.0)


def pacing(cost: float, target: float, rest: float, floor: float, ceiling: float) -> Pacing:
    """The wait after a tick costing `cost` CPU-seconds, where the rest of the process takes
    `rest` of the core and a change should reach every viewer within `target` seconds.

    See the module's doc: W = max(cpu_wait(FULL), min(cpu_wait(EASY), T − 2B)),
    within [floor, ceiling] (the ceiling wins if they cross).
    """
    rest = min(max(rest, 0.0), 1.0)
    tick = cost / max(1.0 - rest, MIN_SHARE)
    easy = max(EASY_SHARE - rest, MIN_SHARE)
    full = max(FULL_SHARE - rest, MIN_SHARE)
    wait = max(cpu_wait(cost, full, tick), min(cpu_wait(cost, easy, tick), target - 2 * tick))
    wait = ceiling if ceiling <= floor else min(max(wait, floor), ceiling)
    worst = wait + 2 * tick
    return Pacing(wait, tick, worst, worst > target)


class Load:
    """The share of the core taken by other things than a room's ticks: by the rest of its
    process (`inside`) and by other processes (`outside`); `rest` is their sum.

    `update` is given, at the end of each of the room's ticks, the process's CPU clock, the
    wall clock and the tick's own CPU seconds; the share over the span since the previous
    tick is folded into a moving average. `during` is given the process's CPU seconds and the
    wall seconds of one tick: the wall time not spent on the process's CPU went elsewhere.
    """

    __slots__ = ("_cpu", "_wall", "inside", "outside")

    def __init__(self) -> None:
        self.inside = 0.0
        self.outside = 0.0
        self._cpu: float | None = None
        self._wall = 0.0

    @property
    def rest(self) -> float:
        return min(self.inside + self.outside, 1.0)

    def during(self, cpu: float, wall: float) -> float:
        """A tick took `wall` seconds on the wall while its process used `cpu` seconds of
        CPU; returns the new average share of other processes."""
        if wall > 0:
            share = 1.0 - cpu / wall
            self.outside += (min(max(share, 0.0), 1.0) - self.outside) * SMOOTHING
        return self.outside

    def update(self, cpu: float, wall: float, own: float) -> float:
        """The process's CPU clock `cpu` and the wall clock `wall` after a tick of `own`
        CPU-seconds; returns the new average share of the rest."""
        if self._cpu is not None and wall > self._wall:
            share = (cpu - self._cpu - own) / (wall - self._wall)
            self.inside += (min(max(share, 0.0), 1.0) - self.inside) * SMOOTHING
        self._cpu, self._wall = cpu, wall
        return self.inside


class TickPace:
    """The per-viewer cost of a tick on this process (a moving average) and the waits it gives."""

    __slots__ = ("ceiling", "cost", "floor", "observer", "target")

    def __init__(self, floor: float, ceiling: float, target: float = 0.2,
                 cost: float = DEFAULT_COST) -> None:
        self.floor = floor
        self.ceiling = ceiling
        self.target = target
        self.cost = cost
        # Told of every tick (CPU seconds, frames, the pacing it followed): the app's
        # metrics (`live.ops.metrics`).
        self.observer: Callable[[float, int, Pacing], None] | None = None

    def pacing(self, viewers: int, rest: float = 0.0) -> Pacing:
        """The pacing of a room with `viewers` when the rest of the process takes `rest`."""
        return pacing(viewers * self.cost, self.target, rest, self.floor, self.ceiling)

    def record(self, seconds: float, viewers: int, paced: Pacing | None = None) -> None:
        """A tick wrote to `viewers` in `seconds` of CPU, after waiting as `paced` says."""
        if self.observer is not None:
            self.observer(seconds, viewers, paced or self.pacing(viewers))
        if viewers >= MIN_MEASURED:
            self.cost += (seconds / viewers - self.cost) * SMOOTHING
