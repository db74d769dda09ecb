"""Periodic timers (the server's main loop, the keepalive's sweep, the slower ones) share one beat."""

from __future__ import annotations

import asyncio
import math

import pytest
import uvicorn

from live.realtime import beat
from live.realtime.beat import next_beat, sleep_beats, sleep_until
from live.realtime.keepalive import Keepalive
from live.server import Server
from tests.realtime.test_keepalive import keepalive_app, raw_client
from tests.support.liveserver import serve_app


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def test_next_beat_is_the_next_whole_step() -> None:
    assert next_beat(Clock(12.25)) == 13.0  # type: ignore[arg-type]
    assert next_beat(Clock(13.0)) == 14.0  # type: ignore[arg-type]  # strictly after now
    assert next_beat(Clock(7.3), 0.5) == 7.5  # type: ignore[arg-type]


async def test_sleep_until_wakes_on_time_and_can_be_cancelled() -> None:
    loop = asyncio.get_running_loop()
    when = loop.time() + 0.05
    await sleep_until(when)
    assert loop.time() >= when
    sleeper = asyncio.create_task(sleep_until(loop.time() + 10))
    await asyncio.sleep(0)
    sleeper.cancel()
    await asyncio.gather(sleeper, return_exceptions=True)
    assert sleeper.cancelled()


async def test_timers_of_different_periods_ask_for_the_same_beats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`sleep_beats(step)` sleeps until the next whole multiple of `step` on the loop's clock,
    so a timer of 30 s or 0.3 s wakes on one of the once-a-second (or 0.1 s) timer's beats."""
    asked: list[float] = []

    async def record(when: float) -> None:
        asked.append(when)

    monkeypatch.setattr(beat, "sleep_until", record)
    loop = asyncio.get_running_loop()
    steps = (0.1, 0.3, 1.0, 30.0)
    before = loop.time()
    for step in steps:
        await sleep_beats(step)
    after = loop.time()
    for step, when in zip(steps, asked, strict=True):
        assert abs(when / step - round(when / step)) < 1e-6, (step, when)
        assert before < when <= after + step, (step, when)
    assert all(abs(w / 0.1 - round(w / 0.1)) < 1e-6 for w in asked)  # all on the finest beat


class RecordingServer(Server):
    def __init__(self) -> None:
        super().__init__(uvicorn.Config("tests.support.ws_app:app"))
        self.ticks: list[float] = []

    async def on_tick(self, counter: int) -> bool:
        self.ticks.append(asyncio.get_running_loop().time())
        return self.should_exit


def record_sweeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """When each keepalive's sweep runs, from now on."""
    sweeps: list[float] = []
    sweep = Keepalive.sweep

    def recording(self: Keepalive) -> None:
        sweeps.append(asyncio.get_running_loop().time())
        sweep(self)

    monkeypatch.setattr(Keepalive, "sweep", recording)
    return sweeps


async def test_main_loop_and_keepalive_wake_on_the_same_beat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Started half a second apart, both still wake on the whole second, together: one
    wake-up of the loop a second for both, not two. (Half a second apart before; the
    bounds leave a quarter of a second for a busy machine to wake the loop late.)"""
    loop = asyncio.get_running_loop()
    server = RecordingServer()
    sweeps = record_sweeps(monkeypatch)  # of the keepalive pinging every 2 s, a slot a second
    async with (
        serve_app(keepalive_app(), lifespan="off", ws_ping_interval=2) as url,
        raw_client(url.replace("http", "ws") + "/", answer_pings=True) as client,
    ):
        await sleep_until(math.floor(loop.time()) + 1.5)  # mid-beat
        main = asyncio.create_task(server.main_loop())
        await client.read_for(2.7)
        server.should_exit = True
        await asyncio.wait_for(main, 2)
    beats = server.ticks[1:]  # the first runs at once, on start
    assert len(beats) >= 2 and len(sweeps) >= 2, (beats, sweeps)
    for when in beats:
        assert when - math.floor(when) < 0.25, beats
    later = [when for when in sweeps if when > server.ticks[0]]
    assert len(later) >= 2, (sweeps, server.ticks)
    for sweep in later:
        assert min(abs(sweep - when) for when in server.ticks) < 0.25, (sweeps, beats)
    assert client.pings >= 1
