"""Places in each occurrence and mode: the counts the writes decide by, and the snapshot the
form and the API show before anyone submits.

Places left are counted by `live.events.domain.places_left`, the event page's count too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.errors import NotFound
from live.events.domain import capacity, places_left
from live.models.base import utcnow
from live.models.events import Event, Occurrence
from live.models.registration import Attendance, Registration, Status
from live.registration import rules

Slot = tuple[int, Attendance]


async def occurrences_of(session: AsyncSession, event: Event) -> list[Occurrence]:
    """The event's occurrences (in no particular order)."""
    rows = await session.scalars(select(Occurrence).where(Occurrence.event_id == event.id))
    return list(rows)


async def slot_counts(session: AsyncSession, slot: Slot) -> tuple[int, int]:
    """(confirmed, waitlisted) in one occurrence and mode."""
    rows = await session.execute(
        select(Registration.status, func.count())
        .where(Registration.occurrence_id == slot[0], Registration.attendance == slot[1])
        .group_by(Registration.status)
    )
    counts = {Status(status): n for status, n in rows}
    return counts.get(Status.CONFIRMED, 0), counts.get(Status.WAITLISTED, 0)


@dataclass(frozen=True)
class Places:
    """What the form shows for one occurrence and mode before anyone submits."""

    occurrence_id: int
    occurrence_slug: str
    attendance: Attendance
    offered: bool
    open: bool
    capacity: int | None
    places_left: int | None
    waiting: int

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "occurrence": self.occurrence_id,
            "occurrence_slug": self.occurrence_slug,
            "attendance": str(self.attendance),
            "offered": self.offered,
            "open": self.open,
            "capacity": self.capacity,
            "places_left": self.places_left,
            "waiting": self.waiting,
        }


async def availability(
    db: async_sessionmaker[AsyncSession], slug: str, *, now: dt.datetime | None = None,
    unpublished: bool = False,
) -> list[Places]:
    """Places left per occurrence and mode (a snapshot; the write decides for real).

    An unpublished event is NotFound unless `unpublished` (the caller checked who may see it).
    """
    now = now or utcnow()
    async with db() as session:
        event = await session.scalar(select(Event).where(Event.slug == slug))
        if event is None or not (event.published or unpublished):
            raise NotFound("No such event.", code="event.not_found")
        result = []
        for occurrence in sorted(await occurrences_of(session, event), key=lambda o: o.starts_at):
            deadline = occurrence.registration_deadline
            is_open = event.registration_open and (deadline is None or now <= deadline)
            for attendance in Attendance:
                cap = capacity(occurrence, attendance)
                confirmed, waiting = await slot_counts(session, (occurrence.id, attendance))
                result.append(
                    Places(
                        occurrence.id,
                        occurrence.slug,
                        attendance,
                        rules.offered(attendance, cap, occurrence.online),
                        is_open,
                        cap,
                        places_left(occurrence, attendance, confirmed),
                        waiting,
                    )
                )
        return result
