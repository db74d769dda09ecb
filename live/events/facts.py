"""What the cached public pages are keyed by, each read in one database query per view.

The event page changes when the event is saved (`Event.updated_at`, which `save_event`
sets on every save, children included), when someone registers or cancels (confirmed
counts), when a recording is published and when the group work opens or its report is
published. The archive changes when a recording is published, changed or withdrawn, or an
event with a published recording is saved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from live.errors import NotFound
from live.models import (
    Attendance,
    Event,
    GroupSession,
    Occurrence,
    Recording,
    RecordingState,
    Registration,
    RegistrationStatus,
)


def _confirmed(attendance: Attendance):  # type: ignore[no-untyped-def]
    return (
        select(func.count()).select_from(Registration)
        .where(Registration.occurrence_id == Occurrence.id,
               Registration.attendance == attendance,
               Registration.status == RegistrationStatus.CONFIRMED)
        .correlate(Occurrence).scalar_subquery()
    )


_LATEST_RECORDING = (
    select(Recording.id)
    .where(Recording.event_id == Event.id, Recording.state == RecordingState.PUBLISHED)
    .order_by(Recording.started_at.desc(), Recording.id.desc()).limit(1)
    .correlate(Event).scalar_subquery()
)

# One row per occurrence (one row with NULLs when the event has none).
_EVENT = (
    select(Event.id, Event.updated_at, _LATEST_RECORDING, GroupSession.state,
           GroupSession.report_published, Occurrence.id,
           _confirmed(Attendance.IN_PERSON), _confirmed(Attendance.ONLINE))
    .outerjoin(GroupSession, GroupSession.event_id == Event.id)
    .outerjoin(Occurrence, Occurrence.event_id == Event.id)
    .where(Event.slug == bindparam("slug"))
)

_ARCHIVE = (
    select(func.count(Recording.id), func.sum(Recording.id), func.max(Recording.updated_at),
           func.max(Event.updated_at))
    .join(Event, Event.id == Recording.event_id)
    .where(Recording.state == RecordingState.PUBLISHED, Event.published.is_(True))
)


@dataclass(frozen=True, slots=True)
class GroupWork:
    """What the event page shows of the group work."""

    state: str
    report_published: bool


@dataclass(frozen=True, slots=True)
class EventFacts:
    """An event's version and everything else its page shows that changes without an edit."""

    event_id: int
    updated_at: dt.datetime
    recording_id: int | None
    group_work: GroupWork | None
    counts: tuple[tuple[int, int, int], ...]  # (occurrence id, confirmed in person, online)

    def taken(self) -> dict[int, dict[str, int]]:
        """Confirmed places per occurrence and mode: {occurrence id: {"in_person": n, "online": n}}."""
        return {occ: {"in_person": room, "online": online} for occ, room, online in self.counts}


async def event_facts(session: AsyncSession, slug: str) -> EventFacts:
    """The facts for the event at `slug`; NotFound if there is none."""
    rows = (await session.execute(_EVENT, {"slug": slug})).all()
    if not rows:
        raise NotFound("No event with that address.", code="event.not_found")
    event_id, updated_at, recording_id, group_state, report, *_ = rows[0]
    group = GroupWork(group_state, bool(report)) if group_state is not None else None
    counts = tuple((occ, room, online) for *_, occ, room, online in rows if occ is not None)
    return EventFacts(event_id, updated_at, recording_id, group, counts)


async def archive_version(session: AsyncSession) -> tuple[object, ...]:
    """Changes whenever the list of published recordings, or what it shows, changes."""
    return tuple((await session.execute(_ARCHIVE)).one())
