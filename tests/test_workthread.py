"""The thread behind `ThreadWriter`: results, errors, order, cancellation and closing."""

from __future__ import annotations

import asyncio
import threading

import pytest

from live.workthread import WorkThread


async def test_calls_run_on_its_thread_in_order_and_return_their_results() -> None:
    work = WorkThread("test-work")
    seen: list[tuple[int, str]] = []

    def record(i: int) -> int:
        seen.append((i, threading.current_thread().name))
        return i * i

    try:
        results = await asyncio.gather(*(work.call(record, i) for i in range(20)))
    finally:
        await work.aclose()
    assert results == [i * i for i in range(20)]
    assert seen == [(i, "test-work") for i in range(20)]


async def test_an_exception_reaches_the_caller_and_the_thread_goes_on() -> None:
    work = WorkThread("test-work")

    def fail() -> None:
        raise LookupError("no such row")

    try:
        with pytest.raises(LookupError, match="no such row"):
            await work.call(fail)
        assert await work.call(lambda: "still here") == "still here"
    finally:
        await work.aclose()


async def test_a_cancelled_caller_does_not_cut_its_call_short() -> None:
    work = WorkThread("test-work")
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def slow() -> str:
        started.set()
        release.wait(5)
        finished.append("committed")
        return "late"

    try:
        task = asyncio.create_task(work.call(slow))
        assert await asyncio.to_thread(started.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        # The next call runs after the cancelled one has finished whole.
        assert await work.call(lambda: list(finished)) == ["committed"]
    finally:
        release.set()
        await work.aclose()


async def test_aclose_runs_the_last_call_on_the_thread_then_refuses_more() -> None:
    work = WorkThread("test-work")
    closed_on: list[str] = []
    await work.aclose(lambda: closed_on.append(threading.current_thread().name))
    assert closed_on == ["test-work"]
    assert not work._thread.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        await work.call(lambda: None)
    await work.aclose()  # a second close does nothing
