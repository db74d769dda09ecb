"""`Finisher`: turns ended and orphaned recordings into MP4s, retrying while storage fails.

A recording is *pending* from the moment its stream ends (or, for an orphan whose
recording process died, from the moment its lock is taken; see `stream.recovery`) until
its MP4 has been handed to `on_finished`; then the `.ts` and its lock file are removed, so
nothing is finalised twice. An attempt that fails because the folder is full or read-only
keeps the recording pending with a `Problem` that the stream's state shows; the finisher
tries again every `retry_seconds`, or at once when an organiser asks (`retry_now`). Any
other failure (a recording with nothing playable in it) is logged and left on disk, tried
again only at the next start-up. The periodic sweep also picks up recordings left by a
process that died while this one runs, so a restart within seconds loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from stream.finalise import finalise_recording
from stream.recovery import Problem, RecordingLock, recorded_start, storage_problem

log = logging.getLogger(__name__)
FinishedCallback = Callable[[str, Path, datetime], Awaitable[None] | None]
Spawn = Callable[[Awaitable[None]], None]
FAILED = Problem("recording.failed", "The recording could not be turned into a video file.")


@dataclasses.dataclass(eq=False)
class Pending:
    """One recording waiting to be finalised."""

    name: str
    ts: Path
    started_at: datetime
    lock: RecordingLock | None
    problem: Problem | None = None  # shown until the recording is handed over
    running: bool = False
    failures: int = 0


class Finisher:
    """Finalising of one process's recordings: pending ones, retries, and their problems."""

    def __init__(
        self, root: Path, on_finished: FinishedCallback | None, spawn: Spawn, retry_seconds: float
    ) -> None:
        self.root = root
        self.on_finished = on_finished
        self.retry_seconds = retry_seconds
        self._spawn = spawn
        self._pending: dict[Path, Pending] = {}
        self._given_up: set[Path] = set()
        self._failed: dict[str, Problem] = {}
        self._wake = asyncio.Event()
        self.ended_at: dict[str, datetime] = {}

    # -- what the stream state shows ----------------------------------------------------

    def busy(self, name: str) -> bool:
        """Is a recording of `name` still waiting to be finalised?"""
        return any(p.name == name for p in self._pending.values())

    def problem(self, name: str) -> Problem | None:
        """Why finalising a recording of `name` is stuck, if it is."""
        stuck = [p.problem for p in self._pending.values() if p.name == name and p.problem]
        return stuck[0] if stuck else self._failed.get(name)

    def failures(self, name: str) -> int:
        """Failed attempts so far at the pending recordings of `name`."""
        return sum(p.failures for p in self._pending.values() if p.name == name)

    def forget_failure(self, name: str) -> None:
        """A new stream of `name` starts: an old failure is no longer news."""
        self._failed.pop(name, None)

    # -- adding work --------------------------------------------------------------------

    def add(
        self, name: str, ts: Path, started_at: datetime, lock: RecordingLock | None,
        problem: Problem | None = None,
    ) -> None:
        """A stream ended: finalise its recording now (`problem`: what went wrong while live)."""
        item = Pending(name, ts, started_at, lock, problem)
        self._pending[ts] = item
        self._start(item)

    def sweep(self) -> None:
        """Claim every recording whose process is gone (its lock is free) and finalise it."""
        for ts in sorted(self.root.glob("streams/*/*.ts")):
            if ts in self._pending or ts in self._given_up or ts.with_suffix(".mp4").exists():
                continue
            try:
                lock = RecordingLock.take(ts)
            except OSError as exc:  # no lock file can be made here now: try next time
                log.debug("cannot lock %s: %s", ts, exc)
                continue
            if lock is None:
                continue  # alive in another process
            if not ts.exists():  # finished by its owner in the meantime
                lock.release(remove=True)
                continue
            started = recorded_start(ts)
            log.info("stream %s: recording %s was left by a process that ended", ts.parent.name, ts)
            self.add(ts.parent.name, ts, started, lock)

    def retry_now(self, name: str) -> bool:
        """An organiser asks: try again at once. False if nothing of `name` is pending here."""
        if not self.busy(name):
            return False
        self._wake.set()
        return True

    # -- the work -----------------------------------------------------------------------

    async def run(self) -> None:
        """Sweep for orphans and retry stuck recordings, until cancelled."""
        while True:
            self._wake.clear()
            with contextlib.suppress(OSError):
                self.sweep()
            for item in list(self._pending.values()):
                self._start(item)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.retry_seconds)

    async def drain(self) -> None:
        """Shutdown: one more attempt for each recording; locks of the stuck ones are let go,
        so the next process (or the next `LiveStreams` here) takes them over."""
        for item in list(self._pending.values()):
            if not item.running:
                await self._attempt(item)
        for item in list(self._pending.values()):
            if item.lock is not None:
                item.lock.release(remove=False)
        self._pending.clear()

    def _start(self, item: Pending) -> None:
        if not item.running:
            item.running = True
            self._spawn(self._attempt(item))

    async def _attempt(self, item: Pending) -> None:
        item.running = True
        try:
            await self._finalise(item)
        except Exception as exc:
            problem = storage_problem(exc)
            if problem is None:
                log.exception("stream %s: finalising %s failed", item.name, item.ts)
                self._given_up.add(item.ts)
                self._failed[item.name] = FAILED
                self._done(item, remove=False)
            else:
                if not item.failures:
                    log.warning("stream %s: finalising %s failed, will retry: %s (%s)",
                                item.name, item.ts, problem.message, self.root)
                item.problem = problem
                item.failures += 1
            return
        finally:
            item.running = False
        self._failed.pop(item.name, None)
        self._done(item, remove=True)

    async def _finalise(self, item: Pending) -> None:
        if not item.ts.exists():
            return
        mp4 = item.ts.with_suffix(".mp4")
        if not mp4.exists():
            await asyncio.to_thread(finalise_recording, item.ts)
            log.info("stream %s: recording finalised as %s", item.name, mp4)
        if self.on_finished is not None:
            result = self.on_finished(item.name, mp4, item.started_at)
            if inspect.isawaitable(result):
                await result
        item.ts.unlink(missing_ok=True)  # handed over: never finalised again

    def _done(self, item: Pending, *, remove: bool) -> None:
        self._pending.pop(item.ts, None)
        if item.lock is not None:
            item.lock.release(remove=remove)
        self.ended_at[item.name] = datetime.now(UTC)
