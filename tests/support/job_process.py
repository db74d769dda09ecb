"""A process with a job scheduler on a shared database, for tests of once-across-processes.

    python -m tests.support.job_process DATABASE_URL OUT READY GO

Registers the periodic job `proc.tick` (first due in an hour), moves its clock two hours
ahead, touches READY, waits for GO to exist, then tries `run_due` five times. Each run
of the job appends this scheduler's name to OUT.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path

from live.db import create_engine, sessionmaker
from live.jobs import JobRun, Scheduler
from live.models.base import utcnow


async def main(url: str, out: Path, ready: Path, go: Path) -> None:
    engine = create_engine(url)
    jobs = Scheduler(sessionmaker(engine))

    async def tick(run: JobRun) -> None:
        with out.open("a") as f:
            f.write(f"{jobs.name}\n")
        await asyncio.sleep(0.1)  # hold the claim while the other process tries

    await jobs.every("proc.tick", dt.timedelta(hours=1), tick)
    jobs.clock = lambda: utcnow() + dt.timedelta(hours=2)
    ready.touch()
    while not go.exists():
        await asyncio.sleep(0.01)
    for _ in range(5):
        await jobs.run_due()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], *(Path(a) for a in sys.argv[2:5])))
