"""Online attendance: tallies per connection, written in batches, named only through the link."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from websockets.asyncio.client import connect

from live.attendance.online import Attendance
from live.db import create_engine, sessionmaker
from live.identity import Identities, Participant, registration_participant
from live.models import OnlineAttendance, OnlineAudience
from tests.attendance.support import people
from tests.support.liveserver import serve_app

DB = async_sessionmaker[AsyncSession]
START = dt.datetime(2027, 1, 9, 9, 0, tzinfo=dt.UTC)


class Clocks:
    """A monotonic clock and a wall clock the test moves together."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def monotonic(self) -> float:
        return self.seconds

    def wall(self) -> dt.datetime:
        return START + dt.timedelta(seconds=self.seconds - 1000.0)

    def move(self, minutes: float) -> None:
        self.seconds += minutes * 60


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[DB]:
    engine = create_engine(database_url)
    yield sessionmaker(engine)
    await engine.dispose()


async def rows(db: DB) -> tuple[list[OnlineAttendance], list[OnlineAudience]]:
    async with db() as session:
        return (list(await session.scalars(select(OnlineAttendance))),
                list(await session.scalars(select(OnlineAudience))))


async def test_minutes_are_written_in_steps_in_one_batch(db: DB) -> None:
    """Two tabs of one registrant count once, in 5-minute steps; anonymous viewers add up."""
    seeded = await people(db)
    event, ola = seeded.seeded.event_id, seeded.online.id
    clocks = Clocks()
    attendance = Attendance(db, clock=clocks.monotonic, wall=clocks.wall)
    tab1 = attendance.join((event, ola))
    clocks.move(1)
    tab2 = attendance.join((event, ola))
    anon = [attendance.join((event, None)) for _ in range(3)]
    assert await attendance.flush() == 2  # the join is written at once, with 0 minutes
    [named], [crowd] = await rows(db)
    assert (named.minutes, named.joined_at, crowd.joins, crowd.minutes) == (0, START, 3, 0)
    clocks.move(6)  # 7 minutes for Ola (two tabs, counted once): one 5-minute step
    attendance.leave((event, ola), tab2)
    attendance.leave((event, None), anon[0])
    assert await attendance.flush() == 2
    [named], [crowd] = await rows(db)
    assert (named.minutes, crowd.joins, crowd.minutes) == (5, 3, 18)  # 6 + 6 + 6 anonymous
    clocks.move(2)  # Ola: 9 minutes, still in the first step: nothing to write for them
    assert await attendance.flush() == 1
    clocks.move(1)
    attendance.leave((event, ola), tab1)  # 10 minutes
    for start in anon[1:]:
        attendance.leave((event, None), start)
    assert await attendance.flush() == 2
    [named], [crowd] = await rows(db)
    assert (named.minutes, crowd.minutes) == (10, 24)
    assert attendance.tallies == {}  # nothing left open: nothing kept


async def test_a_failed_flush_keeps_its_numbers_for_the_next(db: DB, database_url: str) -> None:
    """The database away at a flush loses nothing: the next flush writes it all."""
    seeded = await people(db)
    clocks = Clocks()
    engine = create_engine(database_url)
    broken = Attendance(sessionmaker(engine), clock=clocks.monotonic, wall=clocks.wall)
    start = broken.join((seeded.seeded.event_id, seeded.online.id))
    clocks.move(12)
    broken.leave((seeded.seeded.event_id, seeded.online.id), start)
    await engine.dispose()
    broken.db = sessionmaker(create_engine("sqlite+aiosqlite:////nonexistent/dir/x.db"))
    with pytest.raises(Exception):  # noqa: B017  (whatever the driver raises)
        await broken.flush()
    broken.db = db
    assert await broken.flush() == 1
    [named], _ = await rows(db)
    assert named.minutes == 10


async def test_a_registration_of_another_event_is_not_credited(db: DB) -> None:
    """A browser remembered from another event's link is not written to this event's rows."""
    seeded = await people(db)
    attendance = Attendance(db)
    attendance.join((seeded.seeded.event_id + 1000, seeded.online.id))
    attendance.join((seeded.seeded.event_id, 999_999))  # deleted meanwhile
    await attendance.flush()
    assert await rows(db) == ([], [])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_live_page_socket_records_the_registrant_and_counts_the_rest(
    db: DB, app: Starlette
) -> None:
    """A socket with the registrant's identity is named; an anonymous one only counted."""
    seeded = await people(db)
    identities = Identities("test-secret")
    ola = identities.token(Participant(registration_participant(seeded.online.id), "Ola"))
    async with serve_app(app) as url:
        base = url.replace("http://", "ws://") + "/ws/events/konf"
        async with connect(f"{base}?p={ola}") as named, connect(base) as anonymous:
            for socket in (named, anonymous):
                assert json.loads(await socket.recv())["type"] == "snapshot"
    # The server's lifespan ended: its last flush wrote what the two connections did.
    [row], [crowd] = await rows(db)
    assert (row.registration_id, row.event_id, row.minutes) == (
        seeded.online.id, seeded.seeded.event_id, 0)
    assert (crowd.event_id, crowd.joins) == (seeded.seeded.event_id, 1)
