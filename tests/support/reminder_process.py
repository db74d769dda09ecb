"""A process that runs the reminder job on a shared database, for once-across-processes tests.

    python -m tests.support.reminder_process DATABASE_URL NOW SMTP_URL OUTBOX_DIR READY GO

Wires the scheduler, the outbox and the reminders as the app's lifespan does, with a clock
fixed at NOW (ISO 8601), touches READY, waits for GO to exist, moves the clock one scan
interval on (the job is first due one interval after it was registered), tries `run_due`
five times and exits.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path

from live.attendance.reminders import SCAN_EVERY, open_reminders
from live.db import create_engine, sessionmaker
from live.jobs import Scheduler
from live.outbox import open_outbox
from live.settings import Settings


async def main(url: str, now: str, smtp_url: str, outbox: str, ready: Path, go: Path) -> None:
    engine = create_engine(url)
    db = sessionmaker(engine)
    settings = Settings.from_env(
        {}, database_url=url, secret_key="s", smtp_url=smtp_url, outbox_dir=Path(outbox),
        base_url="http://testserver",
    )
    moment = dt.datetime.fromisoformat(now)
    jobs = Scheduler(db, clock=lambda: moment)
    mail = await open_outbox(settings, db, jobs)
    await open_reminders(settings, db, jobs, mail)
    ready.touch()
    while not go.exists():
        await asyncio.sleep(0.01)
    jobs.clock = lambda: moment + SCAN_EVERY
    for _ in range(5):
        await jobs.run_due()
    await engine.dispose()


if __name__ == "__main__":
    url, now, smtp_url, outbox = sys.argv[1:5]
    asyncio.run(main(url, now, smtp_url, outbox, Path(sys.argv[5]), Path(sys.argv[6])))
