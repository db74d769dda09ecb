"""The attendance export (CSV and Excel), and attendance deleted with the event's registrations."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from live.attendance import service
from live.attendance.online import Change, write
from live.db import create_engine, sessionmaker
from live.models import (
    CheckIn,
    Event,
    Occurrence,
    OnlineAttendance,
    OnlineAudience,
    SentReminder,
)
from live.models.base import utcnow
from live.registration.purge import purge
from tests.attendance.support import People, people
from tests.support.app import ADMIN, http_client

DB = async_sessionmaker[AsyncSession]
NINE = dt.datetime(2027, 1, 9, 8, 2, tzinfo=dt.UTC)  # 09:02 in Oslo


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[DB]:
    engine = create_engine(database_url)
    yield sessionmaker(engine)
    await engine.dispose()


async def attended(db: DB) -> People:
    """Kari checked in at 09:02, Ola watched 10 minutes online, 4 anonymous viewers."""
    seeded = await people(db)
    event = seeded.seeded.event_id
    await service.check_in(db, event, registration_id=seeded.room.id, now=NINE)
    await write(db, [Change(event, seeded.online.id, 1, 10, NINE),
                     Change(event, None, 4, 37, NINE)], NINE)
    return seeded


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_export_lists_who_came_in_the_room_and_online(db: DB, app: Starlette) -> None:
    """CSV, XLSX and the participant list: check-in time, online join and minutes per person."""
    await attended(db)
    async with http_client(app) as client:
        as_csv = await client.get("/api/events/konf/attendance.csv", headers=ADMIN)
        as_xlsx = await client.get("/api/events/konf/attendance.xlsx", headers=ADMIN)
        refused = await client.get("/api/events/konf/attendance.csv")
        client.cookies.set("salen_lang", "en")
        listing = await client.get("/admin/events/konf/registrations", headers=ADMIN)
    assert "In the room, 09:02" in listing.text and "Online, 10 minutes" in listing.text
    assert refused.status_code == 401
    assert as_csv.headers["content-disposition"] == 'attachment; filename="konf-attendance.csv"'
    lines = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    by_name = {line[1]: line for line in lines[1:] if len(line) > 3}
    assert by_name["Kari"][7:9] == ["yes", "2027-01-09T09:02+01:00"]
    assert by_name["Ola"][7:] == ["no", "", "2027-01-09T09:02+01:00", "10"]
    assert by_name["Per"][7:] == ["no", "", "", ""]  # waiting list: listed, did not come
    assert "Siri" not in by_name  # cancelled
    totals = {line[1]: line[2] for line in lines if line[:1] == ["total"]}
    assert totals == {"checked_in": "1", "online_registrants": "1",
                      "online_registrant_minutes": "10", "online_anonymous_joins": "4",
                      "online_anonymous_minutes": "37"}
    book = load_workbook(io.BytesIO(as_xlsx.content))
    sheet = [list(row) for row in book["Attendance"].iter_rows(values_only=True)]
    assert sheet[0][7:9] == ["checked_in", "checked_in_at"]
    assert [row[7] for row in sheet[1:] if row[1] == "Kari"] == ["yes"]
    assert ["online_anonymous_joins", 4] in [list(r) for r in book["Totals"].iter_rows(
        values_only=True)]


async def count(db: DB, table: type) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_attendance_goes_with_the_registrations_after_the_retention_period(db: DB) -> None:
    """Purging an event long past deletes its check-ins, online rows and reminder records."""
    seeded = await attended(db)
    async with db() as session, session.begin():
        session.add(SentReminder(key="day_before:x", occurrence_id=seeded.seeded.elverum,
                                 registration_id=seeded.room.id, sent_at=NINE))
    assert await purge(db, dt.timedelta(days=90)) == 0  # the event is ahead: nothing goes
    assert (await count(db, CheckIn), await count(db, OnlineAttendance)) == (1, 1)
    async with db() as session, session.begin():
        await session.execute(update(Occurrence).where(
            Occurrence.event_id == seeded.seeded.event_id).values(
            starts_at=utcnow() - dt.timedelta(days=101), ends_at=utcnow() - dt.timedelta(days=100)))
    assert await purge(db, dt.timedelta(days=90)) == 4
    for table in (CheckIn, OnlineAttendance, SentReminder):
        assert await count(db, table) == 0, table
    assert await count(db, OnlineAudience) == 1  # counts without names stay
    assert await count(db, Event) == 1
