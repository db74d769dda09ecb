"""What the group work's rows look like to clients, and the reads every action shares."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from live.bounds import parse_id
from live.errors import NotFound
from live.models import Event, Theme, utcnow
from live.models.registration import Registration
from live.models.rooms import BreakoutRoom, GroupSession, RoomMember, RoomNote
from live.rooms import domain
from live.rooms.domain import State
from live.rooms.messages import MemberView, NoteView, RoomView, SectionView, SessionView


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def note_view(note: RoomNote) -> NoteView:
    """A note row as clients see it."""
    return NoteView(id=note.id, section=note.section, text="" if note.deleted else note.text,
                    version=note.version, author=note.author, deleted=note.deleted)


def session_view(group: GroupSession, now: dt.datetime | None = None) -> SessionView:
    """The state and timer of a group session."""
    return SessionView(v=group.v, state=group.state, now=(now or utcnow()).isoformat(),
                       ends_at=iso(group.ends_at) if group.state == State.OPEN else None)


def registration_id(participant: str) -> int | None:
    prefix, _, number = participant.partition(":")
    return parse_id(number) if prefix == "reg" else None


def new_member(group: GroupSession, room: BreakoutRoom, person: domain.Person) -> RoomMember:
    return RoomMember(session_id=group.id, room_id=room.id, participant=person.key,
                      registration_id=registration_id(person.key), name=person.name,
                      online=person.online, placed_by="auto")


async def room_of(session: AsyncSession, group: GroupSession, room_id: int) -> BreakoutRoom:
    room = await session.get(BreakoutRoom, room_id)
    if room is None or room.session_id != group.id:
        raise NotFound("No such room.", code="rooms.no_room")
    return room


async def membership(session: AsyncSession, group: GroupSession, participant: str) -> int | None:
    result: int | None = await session.scalar(select(RoomMember.room_id).where(
        RoomMember.session_id == group.id, RoomMember.participant == participant))
    return result


async def own_theme(session: AsyncSession, group: GroupSession, participant: str,
                     current: int | None) -> int | None:
    """The theme placement holds this participant to: their room's, else their registration's."""
    if current is not None:
        room = await session.get(BreakoutRoom, current)
        return room.theme_id if room is not None else None
    reg_id = registration_id(participant)
    registration: Registration | None = None
    if reg_id is not None:
        registration = await session.get(Registration, reg_id)
    if registration is None or registration.event_id != group.event_id:
        return None
    return registration.theme_id


async def members(session: AsyncSession, room_id: int) -> list[MemberView]:
    rows = await session.scalars(select(RoomMember).where(RoomMember.room_id == room_id)
                                 .order_by(RoomMember.id))
    return [MemberView(participant=m.participant, name=m.name, online=m.online) for m in rows]


async def room_view(session: AsyncSession, group: GroupSession, room: BreakoutRoom) -> RoomView:
    theme = await session.get(Theme, room.theme_id) if room.theme_id else None
    notes = await session.scalars(select(RoomNote).where(
        RoomNote.room_id == room.id, RoomNote.deleted.is_(False))
        .order_by(RoomNote.position, RoomNote.id))
    return RoomView(
        id=room.id, v=room.v, name=room.name, theme=room.theme_id,
        theme_title=theme.title if theme else "", brief=theme.brief if theme else "",
        online=room.online, location=room.location, capacity=room.capacity,
        closed=room.closed or group.state != State.OPEN,
        members=await members(session, room.id), notes=[note_view(n) for n in notes],
        sections=[SectionView(key=s["key"], title=s["title"]) for s in group.sections])


async def event_by_slug(session: AsyncSession, slug: str) -> Event:
    """The event with this slug, or NotFound."""
    event = await session.scalar(select(Event).where(Event.slug == slug))
    if event is None:
        raise NotFound("No such event.", code="not_found")
    return event
