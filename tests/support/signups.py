"""A process that registers many people at once, for tests of quotas across processes.

    python -m tests.support.signups DATABASE_URL SLUG PEOPLE_JSON OUT READY GO

PEOPLE_JSON is a list of {name, email, organisation, occurrence, theme?}. The process
touches READY, waits for GO to exist, then sends every registration concurrently through
`live.registration.service.register` and writes one JSON line per person to OUT:
{"email", "status"} or {"email", "code"}.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from live.db import create_engine, sessionmaker
from live.errors import SalenError
from live.models.registration import Attendance
from live.registration import service
from live.registration.validate import Submission


async def one(db: Any, slug: str, person: dict[str, str]) -> dict[str, str]:
    submission = Submission(
        occurrence=person["occurrence"], attendance=Attendance.IN_PERSON, name=person["name"],
        email=person["email"], organisation=person["organisation"], theme=person.get("theme"),
    )
    try:
        outcome = await service.register(db, slug, submission)
    except SalenError as error:
        return {"email": person["email"], "code": error.code, "message": error.message}
    return {"email": person["email"], "status": str(outcome.receipt.status)}


async def main(url: str, slug: str, people: Path, out: Path, ready: Path, go: Path) -> None:
    engine = create_engine(url)
    db = sessionmaker(engine)
    everyone = json.loads(people.read_text())
    ready.touch()
    while not go.exists():
        await asyncio.sleep(0.01)
    results = await asyncio.gather(*(one(db, slug, p) for p in everyone))
    out.write_text("".join(json.dumps(r) + "\n" for r in results))
    await engine.dispose()


if __name__ == "__main__":
    url, slug, *paths = sys.argv[1:7]
    asyncio.run(main(url, slug, *(Path(p) for p in paths)))
