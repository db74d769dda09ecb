"""Group commit: the answers that arrive for an event while its previous batch runs go
together into the next one.

The contract, for `GroupCommit.submit(event, item)`:

- A lone item runs at once (no timer anywhere); items queue only behind a running batch
  of the same event, and the next batch takes every queued item (up to `limit`).
- `run(event, items)` handles one batch (for polls: one transaction, one announcement) and
  returns one outcome per item: its result, or the error raised for that item alone. If
  `run` itself raises, every item of the batch gets that error.
- `submit` returns (or raises) its own item's outcome once `run` has returned: for polls
  after the commit and the announcement. A caller cancelled before its batch starts is
  left out of it.

Why: an answer's own transaction (version bump, commit, two publishes) cost more than its
writes; in a busy room the answers arriving during one commit share the next.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

I = TypeVar("I")  # an item
R = TypeVar("R")

Run = Callable[[int, list[I]], Awaitable[Sequence[R | Exception]]]


@dataclasses.dataclass(slots=True)
class _Waiting(Generic[I, R]):
    item: I
    future: asyncio.Future[R]


class GroupCommit(Generic[I, R]):
    """Items per event run in batches by `run`, one batch at a time per event.

    `lock(event)` is held around each batch, so other actions of the event (moderators')
    take turns with the batches. `batches` and `items` count what ran (for metrics).
    """

    def __init__(self, run: Run[I, R], lock: Callable[[int], asyncio.Lock],
                 limit: int = 500) -> None:
        self._run, self._lock, self._limit = run, lock, limit
        self._queues: dict[int, list[_Waiting[I, R]]] = {}
        self._drains: dict[int, asyncio.Task[None]] = {}
        self.batches = 0
        self.items = 0

    async def submit(self, event_id: int, item: I) -> R:
        """`item`'s outcome, once the batch that took it has run."""
        waiting = _Waiting[I, R](item, asyncio.get_running_loop().create_future())
        self._queues.setdefault(event_id, []).append(waiting)
        if event_id not in self._drains:
            self._drains[event_id] = asyncio.get_running_loop().create_task(
                self._drain(event_id), name=f"polls-answers-{event_id}")
        return await waiting.future

    async def _drain(self, event_id: int) -> None:
        """Run the event's queued items in batches until none is left."""
        queue = self._queues[event_id]
        batch: list[_Waiting[I, R]] = []
        try:
            while queue:
                async with self._lock(event_id):
                    batch = [w for w in queue[:self._limit] if not w.future.done()]
                    del queue[:self._limit]
                    if batch:
                        await self._one(event_id, batch)
                    batch = []
        finally:
            # Cancelled (the process stops): nobody waits for an answer that will not come.
            for waiting in [*batch, *queue]:
                waiting.future.cancel()
            del self._drains[event_id]
            del self._queues[event_id]

    async def _one(self, event_id: int, batch: list[_Waiting[I, R]]) -> None:
        self.batches += 1
        self.items += len(batch)
        outcomes: Sequence[R | Exception]
        try:
            outcomes = await self._run(event_id, [w.item for w in batch])
        except Exception as error:  # noqa: BLE001  (the batch failed: each item gets the error)
            outcomes = [error] * len(batch)
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if waiting.future.done():
                continue  # its caller gave up meanwhile
            if isinstance(outcome, Exception):
                waiting.future.set_exception(outcome)
            else:
                waiting.future.set_result(outcome)

    def aclose(self) -> None:
        """Cancel the batches' tasks and the queued items (the process is stopping)."""
        for task in self._drains.values():
            task.cancel()  # a task not started yet never reaches its `finally`
        for queue in self._queues.values():
            for waiting in queue:
                waiting.future.cancel()
