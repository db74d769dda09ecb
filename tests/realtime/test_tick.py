"""Tick pacing: a room's wait between ticks from a latency target, the measured cost of a
tick and the load of the rest of the process and of other processes on the core (pure
functions, no sockets; one test measures a real busy process sharing the core)."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from live.ops.metrics import Metrics
from live.realtime.tick import (
    DEFAULT_COST,
    EASY_SHARE,
    FULL_SHARE,
    MIN_MEASURED,
    SMOOTHING,
    Load,
    Pacing,
    TickPace,
    cpu_wait,
    pacing,
)

FLOOR = 0.02
CEILING = 1.0
TARGET = 0.2


def wait(cost: float, rest: float = 0.0, target: float = TARGET) -> float:
    return pacing(cost, target, rest, FLOOR, CEILING).wait


def test_a_small_room_ticks_at_the_floor() -> None:
    """A tick of a few milliseconds (1,000 viewers) is followed by the floor, not more."""
    assert wait(0.005) == FLOOR
    assert wait(0.0) == FLOOR


def test_an_easy_target_keeps_the_ticks_to_half_the_core() -> None:
    """A 40 ms tick (5,000 viewers, small frames) with room in the target waits 40 ms: half the core."""
    assert wait(0.040) == pytest.approx(cpu_wait(0.040, EASY_SHARE)) == pytest.approx(0.040)


def test_a_tight_target_takes_more_of_the_core() -> None:
    """A 90 ms tick (5,000 viewers, 1 KB frames) waits T − 2B = 20 ms, so the worst case is the target."""
    paced = pacing(0.090, TARGET, 0.0, FLOOR, CEILING)
    assert paced.wait == pytest.approx(0.020)
    assert paced.worst == pytest.approx(TARGET)
    assert not paced.over
    assert 0.090 / (0.090 + paced.wait) <= FULL_SHARE


def test_beyond_the_target_the_wait_keeps_the_ticks_to_the_full_share_and_says_so() -> None:
    """A 180 ms tick cannot meet 200 ms: it waits what keeps its ticks to 85 % and is over target."""
    paced = pacing(0.180, TARGET, 0.0, FLOOR, CEILING)
    assert paced.wait == pytest.approx(cpu_wait(0.180, FULL_SHARE))
    assert paced.worst == pytest.approx(paced.wait + 2 * 0.180)
    assert paced.over


def test_the_wait_degrades_smoothly_as_ticks_grow() -> None:
    """From 1 ms to 1 s of tick the wait never jumps: a 1 % longer tick moves it by little."""
    cost, previous = 0.001, wait(0.001)
    while cost < 1.0:
        cost *= 1.01
        now = wait(cost)
        assert abs(now - previous) <= 0.02 * cost + 1e-9
        previous = now


def test_an_idle_core_ticks_more_often_than_a_loaded_one() -> None:
    """The same tick waits longer when the rest of the process takes 40 % of the core."""
    for cost in (0.030, 0.090, 0.180):
        assert wait(cost, rest=0.0) < wait(cost, rest=0.4)


def test_a_loaded_core_stretches_the_tick_on_the_wall() -> None:
    """With the rest taking half the core a tick of 50 ms CPU lasts 100 ms on the wall."""
    paced = pacing(0.050, TARGET, 0.5, FLOOR, CEILING)
    assert paced.tick == pytest.approx(0.100)
    assert paced.worst == pytest.approx(paced.wait + 0.200)


def test_the_ceiling_bounds_the_wait_and_wins_below_the_floor() -> None:
    """However long the tick the wait stays at most the ceiling; a ceiling under the floor is the wait."""
    assert pacing(9.0, TARGET, 0.0, FLOOR, CEILING).wait == CEILING
    assert pacing(9.0, TARGET, 0.0, FLOOR, CEILING).over
    assert pacing(0.001, TARGET, 0.0, FLOOR, 0.01).wait == 0.01
    assert pacing(5.0, TARGET, 0.0, FLOOR, 0.01).wait == 0.01


def test_a_busy_process_still_gives_the_room_its_share_of_the_core() -> None:
    """Votes taking 75 % of the core stretch a 100 ms tick to 400 ms on the wall; the room
    still gets its 20 % (100 ms of CPU every 500 ms), not 20 % of the stretched tick."""
    paced = pacing(0.100, TARGET, 0.75, FLOOR, CEILING)
    assert paced.tick == pytest.approx(0.400)
    assert paced.wait == pytest.approx(0.100)
    assert 0.100 / (paced.tick + paced.wait) == pytest.approx(0.2)
    assert paced.over


def test_load_is_the_share_of_the_core_outside_the_rooms_ticks() -> None:
    """1 s of wall, 0.5 s of process CPU of which 0.2 s the tick: the rest took 30 %, averaged."""
    load = Load()
    assert load.update(10.0, 100.0, 0.0) == 0.0  # the first mark only sets the clocks
    assert load.update(10.5, 101.0, 0.2) == pytest.approx(0.3 * SMOOTHING)
    for second in range(2, 200):
        load.update(10.0 + 0.5 * second, 100.0 + second, 0.2)
    assert load.rest == pytest.approx(0.3)


def test_pace_starts_from_the_default_cost_and_follows_the_measured_one() -> None:
    """Before any tick the cost is the constant; ticks at 5 µs a viewer pull it to 5 µs."""
    pace = TickPace(FLOOR, CEILING, TARGET)
    assert pace.cost == DEFAULT_COST
    assert pace.pacing(5000).wait == wait(5000 * DEFAULT_COST)
    for _ in range(200):
        pace.record(5e-6 * 1000, 1000)
    assert pace.cost == pytest.approx(5e-6)
    assert pace.pacing(10_000, 0.2).wait == pytest.approx(wait(10_000 * 5e-6, rest=0.2))


def test_small_ticks_are_not_measured() -> None:
    """A tick to a few viewers is mostly fixed cost: it leaves the average alone."""
    pace = TickPace(FLOOR, CEILING, TARGET, cost=10e-6)
    pace.record(0.01, MIN_MEASURED - 1)
    pace.record(0.0, 0)
    assert pace.cost == 10e-6


def test_the_observer_hears_the_pacing_and_the_metrics_count_ticks_over_target() -> None:
    """A tick paced over its target shows in /metrics: the counter, the wait and the worst delay."""
    metrics, seen = Metrics(), []
    pace = TickPace(FLOOR, CEILING, TARGET)
    pace.observer = lambda seconds, frames, paced: (seen.append(paced), metrics.tick(seconds, frames, paced))
    over = pace.pacing(10_000, 0.0)._replace(over=True, wait=0.5, worst=0.9)
    pace.record(0.1, 10_000, over)
    pace.record(0.001, 10, pace.pacing(10))
    assert seen[0] is over and isinstance(seen[1], Pacing) and not seen[1].over
    sample = metrics.registry.get_sample_value
    assert sample("salen_tick_over_target_total") == 1
    assert sample("salen_tick_frames_total") == 10_010
    assert sample("salen_tick_wait_seconds") == FLOOR
    assert sample("salen_tick_worst_delay_seconds") == pytest.approx(seen[1].worst)


def test_load_counts_the_share_other_processes_took_during_ticks() -> None:
    """Ticks that took twice their process's CPU on the wall: others took half the core, and
    that half joins the process's own rest, within one core."""
    load = Load()
    for _ in range(200):
        load.during(0.05, 0.1)
    assert load.outside == pytest.approx(0.5)
    load.inside = 0.3
    assert load.rest == pytest.approx(0.8)
    load.inside = 0.7
    assert load.rest == 1.0
    load.during(0.2, 0.1)  # threads on other cores: nothing taken from this one
    assert load.outside < 0.5


def test_a_core_shared_with_a_busy_process_makes_the_room_wait_longer() -> None:
    """A room whose ticks share the core with another process paces as if its process were
    busy: the outside share is measured during the ticks and lengthens the wait."""
    core = min(os.sched_getaffinity(0))
    busy = multiprocessing.get_context("spawn").Process(target=_spin, args=(core,), daemon=True)
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    busy.start()
    try:
        load = Load()
        for _ in range(20):
            wall, cpu = _burn(0.02)
            load.during(cpu, wall)
    finally:
        busy.kill()
        os.sched_setaffinity(0, before)
    assert load.outside > 0.2
    alone, shared = pacing(0.02, 0.2, 0.0, 0.01, 1.0), pacing(0.02, 0.2, load.rest, 0.01, 1.0)
    assert shared.wait > alone.wait and shared.tick > alone.tick


def _spin(core: int) -> None:
    os.sched_setaffinity(0, {core})
    while True:
        pass


def _burn(cpu_seconds: float) -> tuple[float, float]:
    """Spin for `cpu_seconds` of this process's CPU; the wall and CPU seconds it took."""
    wall0, cpu0 = time.monotonic(), time.process_time()
    while time.process_time() - cpu0 < cpu_seconds:
        pass
    return time.monotonic() - wall0, time.process_time() - cpu0
