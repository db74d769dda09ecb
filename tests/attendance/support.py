"""Shared set-up for the attendance tests: an event with registrants in every state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.models import Event, Occurrence, Registration
from live.models.registration import Attendance, Status
from tests.support.registration import Seeded, seed


@dataclass(frozen=True)
class People:
    """The seeded event and its registrations by name."""

    seeded: Seeded
    starts_at: dt.datetime
    room: Registration
    online: Registration
    waiting: Registration
    cancelled: Registration


def person(seeded: Seeded, name: str, attendance: Attendance, status: Status,
           diet: str = "") -> Registration:
    return Registration(
        event_id=seeded.event_id, occurrence_id=seeded.elverum, attendance=attendance,
        status=status, name=name, email=f"{name.lower()}@example.no", diet=diet,
        waitlist_seq=1 if status == Status.WAITLISTED else None, locale="nb",
        theme_id=seeded.theme_ids[0],
    )


async def people(db: async_sessionmaker[AsyncSession]) -> People:
    """The konf event (Elverum in 30 days) with one of each: room, online, waiting, cancelled;
    Otta has no deadline."""
    seeded = await seed(db)
    rows = [
        person(seeded, "Kari", Attendance.IN_PERSON, Status.CONFIRMED, diet="Glutenfri"),
        person(seeded, "Ola", Attendance.ONLINE, Status.CONFIRMED),
        person(seeded, "Per", Attendance.IN_PERSON, Status.WAITLISTED),
        person(seeded, "Siri", Attendance.IN_PERSON, Status.CANCELLED),
    ]
    async with db() as session, session.begin():
        await session.execute(update(Event).where(Event.id == seeded.event_id).values(
            contact_email="arrangor@example.no"))
        await session.execute(update(Occurrence).where(Occurrence.id == seeded.otta).values(
            registration_deadline=None))  # only Elverum's deadline passes
        session.add_all(rows)
    async with db() as session:
        event = await session.get_one(Event, seeded.event_id)
        await session.refresh(event, ["occurrences"])
        starts = next(o.starts_at for o in event.occurrences if o.id == seeded.elverum)
    return People(seeded, starts, *rows)
