"""A small job scheduler: each job runs once across processes, coordinated by the database.

A job is a row of `jobs` with a unique `key` and the name (`kind`) of a handler that each
process registers in code. Periodic jobs (`every`) come back `every_seconds` after each run;
once-jobs (`once`) run at their time and are then marked done, their row kept as a record.

A process runs a job only after claiming it with one conditional UPDATE:

    UPDATE jobs SET claimed_at = :now, claimed_by = :me
     WHERE key = :key AND due_at <= :now AND done_at IS NULL
       AND (claimed_at IS NULL OR claimed_at < :now - lease)

The database lets exactly one such UPDATE match (SQLite has one writer; PostgreSQL re-checks
the WHERE on the locked row), so two processes never run the same due job twice. A process
that dies mid-job leaves its claim behind; another process takes the job over once the claim
is older than `lease`, so a handler must finish well within it and should be idempotent
(it may run again after a crash). A failing handler is retried with backoff.

Not a task queue: no priorities or fan-out; the loop polls the table every `poll` seconds
(30: jobs are minutes apart; `wake()` looks at once), so a job runs up to `poll` late.
`clock` and `backoff` are injectable so that tests move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.models.base import utcnow
from live.models.plumbing import Job
from live.realtime.beat import next_beat

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
Backoff = Callable[[int], dt.timedelta]


@dataclass(frozen=True)
class JobRun:
    """What a handler is told: which job, its payload, the scheduler's now, and the attempt."""

    key: str
    payload: dict[str, Any]
    now: dt.datetime
    attempt: int


Handler = Callable[[JobRun], Awaitable[None]]


def default_backoff(attempts: int) -> dt.timedelta:
    """1, 5, 15 minutes, 1 hour, then every 6 hours."""
    steps = (60, 300, 900, 3600, 6 * 3600)
    return dt.timedelta(seconds=steps[min(max(attempts, 1), len(steps)) - 1])


def _insert(session: AsyncSession) -> Any:
    """An INSERT that skips rows whose unique key exists (both dialects spell it the same)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Job)


@dataclass
class Scheduler:
    """Registers handlers, claims due jobs in the database and runs them; see the module."""

    db: async_sessionmaker[AsyncSession]
    clock: Clock = utcnow
    backoff: Backoff = default_backoff
    poll: float = 30.0
    lease: dt.timedelta = dt.timedelta(minutes=10)
    batch: int = 20
    name: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    )
    _handlers: dict[str, Handler] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def handle(self, kind: str, handler: Handler) -> None:
        """Run `handler` for once-jobs of `kind` (scheduled by `once`)."""
        self._handlers[kind] = handler

    async def every(self, key: str, interval: dt.timedelta, handler: Handler) -> None:
        """Run `handler` every `interval`, in one process at a time, the first time one
        interval after the job was first registered in the database."""
        seconds = max(1, int(interval.total_seconds()))
        self._handlers[key] = handler
        async with self.db() as session, session.begin():
            statement = _insert(session).values(
                key=key,
                kind=key,
                payload={},
                every_seconds=seconds,
                due_at=self.clock() + dt.timedelta(seconds=seconds),
                attempts=0,
                last_error="",
            )
            await session.execute(statement.on_conflict_do_nothing(index_elements=["key"]))
            await session.execute(update(Job).where(Job.key == key).values(every_seconds=seconds))

    async def once(
        self,
        key: str,
        kind: str,
        at: dt.datetime,
        payload: dict[str, Any] | None = None,
        *,
        session: AsyncSession | None = None,
    ) -> None:
        """Schedule `kind` at `at` under `key`; a key already scheduled is left as it is.

        Pass the caller's `session` to schedule inside its transaction.
        """
        async with contextlib.AsyncExitStack() as stack:
            if session is None:
                session = await stack.enter_async_context(self.db())
                await stack.enter_async_context(session.begin())
            statement = _insert(session).values(
                key=key, kind=kind, payload=payload or {}, due_at=at, attempts=0, last_error=""
            )
            await session.execute(statement.on_conflict_do_nothing(index_elements=["key"]))

    async def run_due(self) -> int:
        """Claim and run every due job this process has a handler for; returns how many ran."""
        now = self.clock()
        async with self.db() as session:
            rows = (
                await session.execute(
                    select(Job.key, Job.kind)
                    .where(Job.due_at <= now, Job.done_at.is_(None))
                    .where(Job.kind.in_(list(self._handlers)))
                    .where(or_(Job.claimed_at.is_(None), Job.claimed_at < now - self.lease))
                    .order_by(Job.due_at)
                    .limit(self.batch)
                )
            ).all()
        ran = 0
        for key, kind in rows:
            if await self._claim(key, now):
                await self._run(key, kind, now)
                ran += 1
        return ran

    async def _claim(self, key: str, now: dt.datetime) -> bool:
        async with self.db() as session, session.begin():
            result = await session.execute(
                update(Job)
                .where(Job.key == key, Job.due_at <= now, Job.done_at.is_(None))
                .where(or_(Job.claimed_at.is_(None), Job.claimed_at < now - self.lease))
                .values(claimed_at=now, claimed_by=self.name)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def _run(self, key: str, kind: str, now: dt.datetime) -> None:
        async with self.db() as session:
            job = await session.scalar(select(Job).where(Job.key == key))
        if job is None:
            return
        run = JobRun(key, dict(job.payload or {}), now, job.attempts + 1)
        try:
            await self._handlers[kind](run)
        except Exception as error:  # noqa: BLE001  (a failing job is retried; the loop goes on)
            log.warning("job %s failed (attempt %d): %r", key, run.attempt, error)
            await self._finish(key, job.every_seconds, now, error, run.attempt)
        else:
            await self._finish(key, job.every_seconds, now, None, 0)

    async def _finish(
        self, key: str, every: int | None, now: dt.datetime, error: Exception | None, attempts: int
    ) -> None:
        values: dict[str, Any] = {"claimed_at": None, "claimed_by": None, "attempts": attempts}
        if error is not None:
            wait = self.backoff(attempts)
            if every is not None:
                wait = min(wait, dt.timedelta(seconds=every))
            values |= {"due_at": now + wait, "last_error": repr(error)[:500]}
        elif every is not None:
            values |= {"due_at": now + dt.timedelta(seconds=every), "last_error": ""}
            values["last_run_at"] = now
        else:
            values |= {"done_at": now, "last_run_at": now, "last_error": ""}
        async with self.db() as session, session.begin():
            await session.execute(
                update(Job).where(Job.key == key, Job.claimed_by == self.name).values(**values)
            )

    def wake(self) -> None:
        """Look for due jobs now instead of at the next poll."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            # Wait first: start-up stays quiet, and a restart does not run everything at once.
            with contextlib.suppress(TimeoutError):
                # On the shared beat (`live.realtime.beat`): no wake-up of its own.
                async with asyncio.timeout_at(next_beat(asyncio.get_running_loop(), self.poll)):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.run_due()
            except Exception as error:  # noqa: BLE001  (the database may be briefly unreachable)
                log.warning("job scheduler: %r", error)

    def start(self) -> None:
        """Start polling in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="salen-jobs")

    async def stop(self) -> None:
        """Stop polling; a job running now is cancelled (its claim lapses after `lease`)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:  # hand back what this process held, so that a restart need not wait for `lease`
            async with self.db() as session, session.begin():
                await session.execute(
                    update(Job)
                    .where(Job.claimed_by == self.name)
                    .values(claimed_at=None, claimed_by=None)
                )
        except Exception as error:  # noqa: BLE001  (the database may be gone; the lease covers it)
            log.warning("job scheduler: could not release claims: %r", error)


@contextlib.asynccontextmanager
async def open_jobs(
    db: async_sessionmaker[AsyncSession], **options: Any
) -> AsyncIterator[Scheduler]:
    """A started scheduler for the app's lifespan; features register their jobs on it."""
    scheduler = Scheduler(db, **options)
    scheduler.start()
    try:
        yield scheduler
    finally:
        await scheduler.stop()
