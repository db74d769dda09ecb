"""One thread that runs calls handed over from the event loop, one at a time.

`WorkThread.call(fn, *args)` queues the call and waits for its result without blocking the
loop. It does what `loop.run_in_executor` with a one-thread `ThreadPoolExecutor` does, with
less in between: a `queue.SimpleQueue` carries the call, and the result is set straight on
the awaiting asyncio future (`call_soon_threadsafe`), without a `concurrent.futures.Future`
and its callbacks, which a moderator action would otherwise pay for every time.

Calls run in the order they were handed over, never two at once. The queue has no bound
and a call no timeout: a call that blocks holds up every call behind it. A call whose
awaiting task is cancelled still runs to the end (its result is dropped), as with an
executor: a transaction is never cut off half-way by the loop.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

Call = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


class WorkThread:
    """A thread of its own for blocking calls (here: one SQLite connection's transactions)."""

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[Call | None] = queue.SimpleQueue()
        # A daemon: should the process end without `aclose`, a transaction cut off here is
        # rolled back by the database (SQLite's journal), and the exit is not held up.
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()
        self._closed = False

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on the thread; its result, or its exception raised here."""
        if self._closed:
            raise RuntimeError("the work thread is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put((loop, future, fn, args))
        return await future

    async def aclose(self, last: Callable[[], object] | None = None) -> None:
        """Run `last` (if any) on the thread, then end it once the queued calls are done."""
        if self._closed:
            return
        if last is not None:
            await self.call(last)
        self._closed = True
        self._calls.put(None)
        await asyncio.to_thread(self._thread.join)

    def _work(self) -> None:
        while (item := self._calls.get()) is not None:
            loop, future, fn, args = item
            try:
                result = fn(*args)
            except BaseException as exc:  # noqa: BLE001  (handed to the awaiting task)
                _settle_later(loop, future, exc, failed=True)
            else:
                _settle_later(loop, future, result, failed=False)


def _settle_later(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], value: Any, *, failed: bool
) -> None:
    try:
        loop.call_soon_threadsafe(_settle, future, value, failed)
    except RuntimeError:
        pass  # the loop is closed: nobody waits for this result any more


def _settle(future: asyncio.Future[Any], value: Any, failed: bool) -> None:
    if future.done():  # the awaiting task was cancelled
        return
    if failed:
        future.set_exception(value)
    else:
        future.set_result(value)
