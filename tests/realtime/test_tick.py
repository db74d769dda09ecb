"""Tick pacing: a room's wait between ticks from its audience and the measured cost per viewer."""

from __future__ import annotations

import pytest

from live.realtime.tick import DEFAULT_COST, MIN_MEASURED, SMOOTHING, TickPace, tick_interval

FLOOR = 0.05
CEILING = 0.15


def test_wait_grows_with_the_square_of_the_tick() -> None:
    """Between the floor and the ceiling: ceiling × (tick / half the ceiling)²."""
    # 5,000 viewers at 8 µs: a 40 ms tick, 150 ms × (40 / 75)² ≈ 43 ms -> the floor.
    assert tick_interval(5000, 8e-6, FLOOR, CEILING) == FLOOR
    # 6,000 viewers at 10 µs: a 60 ms tick, 150 ms × (60 / 75)² = 96 ms.
    assert tick_interval(6000, 10e-6, FLOOR, CEILING) == pytest.approx(0.096)
    # Twice the tick, four times the wait (below the ceiling).
    assert tick_interval(2000, 25e-6, 0.0, 1.0) == pytest.approx(4 * tick_interval(1000, 25e-6, 0.0, 1.0))


def test_tick_plus_wait_keeps_the_issues_bound() -> None:
    """With the default floor and ceiling, tick + wait ≥ 1.25 × tick for ticks up to 500 ms."""
    for viewers in range(0, 50_001, 500):
        tick = viewers * 10e-6
        assert tick + tick_interval(viewers, 10e-6, FLOOR, CEILING) >= 1.25 * tick


def test_few_viewers_tick_at_the_floor() -> None:
    """A room with a handful of viewers (or none) waits the floor, not almost nothing."""
    assert tick_interval(0, 10e-6, FLOOR, CEILING) == FLOOR
    assert tick_interval(100, 10e-6, FLOOR, CEILING) == FLOOR


def test_a_big_room_ticks_at_the_ceiling() -> None:
    """Ten thousand viewers at 8 µs (an 80 ms tick, over half the ceiling) wait the ceiling."""
    assert tick_interval(10_000, 8e-6, FLOOR, CEILING) == CEILING
    assert tick_interval(1_000_000, 14e-6, FLOOR, CEILING) == CEILING


def test_a_ceiling_below_the_floor_wins() -> None:
    """Asking for a short tick (SALEN_TICK_SECONDS below the floor) gets it at every size."""
    pace = TickPace(FLOOR, 0.01)
    assert pace.interval(1) == 0.01
    assert pace.interval(100_000) == 0.01


def test_pace_starts_from_the_default_cost() -> None:
    """Before any tick is measured the cost is the conservative constant."""
    pace = TickPace(FLOOR, CEILING)
    assert pace.cost == DEFAULT_COST
    assert pace.interval(5000) == tick_interval(5000, DEFAULT_COST, FLOOR, CEILING)


def test_pace_follows_the_measured_cost() -> None:
    """A tick that took 5 µs per viewer pulls the moving average towards 5 µs."""
    pace = TickPace(FLOOR, CEILING, cost=10e-6)
    pace.record(5e-6 * 1000, 1000)
    assert pace.cost == pytest.approx(10e-6 + (5e-6 - 10e-6) * SMOOTHING)
    for _ in range(200):
        pace.record(5e-6 * 1000, 1000)
    assert pace.cost == pytest.approx(5e-6)
    assert pace.interval(10_000) == pytest.approx(tick_interval(10_000, 5e-6, FLOOR, CEILING))


def test_small_ticks_are_not_measured() -> None:
    """A tick to a few viewers is mostly fixed cost: it leaves the average alone."""
    pace = TickPace(FLOOR, CEILING, cost=10e-6)
    pace.record(0.01, MIN_MEASURED - 1)
    pace.record(0.0, 0)
    assert pace.cost == 10e-6
