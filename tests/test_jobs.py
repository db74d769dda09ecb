"""The job scheduler: once across processes sharing a database, retries, stale claims."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.app import create_app
from live.db import create_engine, sessionmaker
from live.jobs import JobRun, Scheduler
from live.models import Job
from live.models.base import utcnow
from tests.support.app import make_settings

START = dt.datetime(2027, 1, 4, 8, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parent.parent


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield sessionmaker(engine)
    await engine.dispose()


async def job(db: async_sessionmaker[AsyncSession], key: str) -> Job:
    async with db() as session:
        found = await session.scalar(select(Job).where(Job.key == key))
        assert found is not None
        return found


async def test_a_job_runs_once_across_two_apps(database_url: str, tmp_path: Path) -> None:
    """Two apps on one database, both polling: a periodic and a once-job each run once."""
    runs: list[str] = []

    def recorder(name: str) -> Callable[[JobRun], Awaitable[None]]:
        async def handler(run: JobRun) -> None:
            runs.append(f"{run.key}@{name}")
            await asyncio.sleep(0)  # let the other app try its claim meanwhile

        return handler

    apps = []
    for name in ("a", "b"):  # each its own folders, as two servers would have
        (tmp_path / name).mkdir()
        apps.append(create_app(make_settings(database_url, tmp_path / name)))
    async with (
        apps[0].router.lifespan_context(apps[0]) as one,
        apps[1].router.lifespan_context(apps[1]) as two,
    ):
        schedulers: list[Scheduler] = [one["jobs"], two["jobs"]]
        for name, jobs in zip(("a", "b"), schedulers, strict=True):
            await jobs.every("test.tick", dt.timedelta(hours=1), recorder(name))
            jobs.handle("test.once", recorder(name))
            await jobs.once("test.once:1", "test.once", utcnow())
            jobs.clock = lambda: utcnow() + dt.timedelta(hours=2)  # the tick's first time passed
        await asyncio.gather(*(jobs.run_due() for jobs in schedulers for _ in range(3)))
    assert sorted(run.split("@")[0] for run in runs) == ["test.once:1", "test.tick"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_failing_job_is_retried_after_its_backoff(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """A once-job that raises is tried again after the backoff, not before, then done."""
    clock, attempts = Clock(), []
    jobs = Scheduler(db, clock=clock, backoff=lambda n: dt.timedelta(minutes=n))

    async def flaky(run: JobRun) -> None:
        attempts.append(run.attempt)
        if run.attempt == 1:
            raise OSError("not yet")

    jobs.handle("flaky", flaky)
    await jobs.once("flaky:1", "flaky", START, {"x": 1})
    assert await jobs.run_due() == 1
    assert (await job(db, "flaky:1")).last_error == "OSError('not yet')"
    assert await jobs.run_due() == 0  # its backoff has not passed
    clock.now += dt.timedelta(minutes=1)
    assert await jobs.run_due() == 1
    done = await job(db, "flaky:1")
    assert attempts == [1, 2] and done.done_at == clock.now and done.payload == {"x": 1}
    assert await jobs.run_due() == 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_dead_processs_claim_is_taken_over_after_the_lease(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """A job claimed by a dead process runs elsewhere once its claim is older than the lease."""
    clock, runs = Clock(), []
    jobs = Scheduler(db, clock=clock, lease=dt.timedelta(minutes=10))

    async def tick(run: JobRun) -> None:
        runs.append(run.now)

    await jobs.every("tick", dt.timedelta(minutes=1), tick)
    async with db() as session, session.begin():
        await session.execute(
            update(Job).where(Job.key == "tick").values(claimed_at=START, claimed_by="dead")
        )
    clock.now += dt.timedelta(minutes=5)
    assert await jobs.run_due() == 0
    clock.now += dt.timedelta(minutes=6)
    assert await jobs.run_due() == 1 and runs == [clock.now]
    assert (await job(db, "tick")).due_at == clock.now + dt.timedelta(minutes=1)


def test_a_job_runs_once_across_two_processes(database_url: str, tmp_path: Path) -> None:
    """Two OS processes on one database, released together: the due job runs in one only."""
    out, go = tmp_path / "runs.txt", tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(2)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.job_process",
                database_url,
                str(out),
                str(r),
                str(go),
            ],
            cwd=ROOT,
            env=env,
        )
        for r in ready
    ]
    try:
        for _ in range(1200):  # both have registered the job (start-up takes a moment)
            if all(r.exists() for r in ready) or any(c.poll() is not None for c in children):
                break
            time.sleep(0.05)
        go.touch()
        codes = [c.wait(120) for c in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    assert codes == [0, 0]
    assert len(out.read_text().splitlines()) == 1
