"""Group work persisted through SQLAlchemy and announced on the hub after each commit.

Every change runs in one transaction that first increments the group session's version
(`UPDATE group_sessions SET v = v + 1`, the row lock that serialises writers of one event on
PostgreSQL and SQLite alike); the changed room takes that version too. After the commit the
change goes to the hub: room changes on the room's channel (members and moderators only)
and on the moderators' channel, session changes (open, return, timer, broadcast) on the
event's channel. Clients resynchronise from a snapshot (`RoomsService.room_view`), not by
replay: a room is small.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from live import idempotency
from live.errors import Conflict, Forbidden, Invalid, NotFound
from live.hub import Entry, Hub
from live.identity import registration_participant
from live.models import Theme, utcnow
from live.models.registration import Attendance, Registration, Status
from live.models.rooms import BreakoutRoom, GroupSession, RoomMember, RoomNote
from live.realtime.channels import room_channel, rooms_event_channel, rooms_mod_channel
from live.rooms import domain, views
from live.rooms.domain import Placement, State
from live.rooms.messages import (
    NoteView,
    RoomPush,
    RoomsBroadcast,
    RoomsMoved,
    RoomsState,
    RoomUpdate,
    RoomView,
    SessionView,
    encode,
)

T = TypeVar("T")




@dataclasses.dataclass(frozen=True)
class Who:
    """Who acts: the participant id, a display name, and whether they moderate the event."""

    participant: str
    name: str = ""
    moderator: bool = False


@dataclasses.dataclass
class _Tx:
    session: AsyncSession
    group: GroupSession
    v: int
    now: dt.datetime
    pushes: list[tuple[str, RoomPush]] = dataclasses.field(default_factory=list)

    def push(self, channel: str, message: RoomPush) -> None:
        self.pushes.append((channel, message))

    def room_changed(self, room: BreakoutRoom, update: RoomUpdate) -> None:
        room.v = self.v
        self.push(room_channel(room.id), update)
        self.push(rooms_mod_channel(self.group.event_id), update)


class RoomsService:
    """The group work of every event, for one process: set-up, placement, rooms, input."""

    def __init__(self, db: async_sessionmaker[AsyncSession], hub: Hub) -> None:
        self._db = db
        self._hub = hub

    # --- set-up ----------------------------------------------------------------------------

    async def configure(self, event_id: int, *, placement: Placement, room_size: int,
                        sections: Sequence[dict[str, str]] | None = None,
                        venue_rooms: Sequence[str] = (), item_id: int | None = None
                        ) -> GroupSession:
        """Create or change the event's group session (its rooms stay as they are).

        Given `sections` keep the keys of those they rename (`domain.keep_section_keys`);
        without, the group gets the default sections.
        """
        domain.check_room_size(room_size)
        async with self._db() as session, session.begin():
            group = await session.scalar(
                select(GroupSession).where(GroupSession.event_id == event_id))
            if group is None:
                group = GroupSession(event_id=event_id, state=State.CLOSED, v=0)
                session.add(group)
            group.placement = Placement(placement)
            group.room_size = room_size
            # sections given (the set-up form): a renamed one keeps its key, so the input
            # filed under it stays with it; none given: the defaults, as they are
            group.sections = (
                domain.keep_section_keys(group.sections or [], [dict(s) for s in sections])
                if sections else [dict(s) for s in domain.DEFAULT_SECTIONS])
            group.venue_rooms = [v.strip() for v in venue_rooms if v.strip()]
            group.item_id = item_id
        return group

    async def group(self, event_id: int) -> GroupSession | None:
        """The event's group session, if the organiser set one up."""
        async with self._db() as session:
            result: GroupSession | None = await session.scalar(
                select(GroupSession).where(GroupSession.event_id == event_id))
            return result

    async def people(self, session: AsyncSession, event_id: int) -> list[domain.Person]:
        """Confirmed registrations of the event as people to place."""
        rows = await session.scalars(
            select(Registration).where(Registration.event_id == event_id,
                                       Registration.status == Status.CONFIRMED)
            .options(selectinload(Registration.organisation)).order_by(Registration.id))
        return [domain.Person(
            key=registration_participant(r.id), name=r.name, theme=r.theme_id,
            organisation=r.organisation_id,
            region=r.organisation.region if r.organisation is not None else "",
            online=r.attendance == Attendance.ONLINE) for r in rows]

    async def plan_rooms(self, event_id: int) -> list[BreakoutRoom]:
        """Replace the rooms with a fresh plan from the registrations (only before opening)."""

        async def body(tx: _Tx) -> list[BreakoutRoom]:
            if tx.group.state == State.OPEN:
                raise Conflict("Rooms cannot be re-planned while they are open.",
                               code="rooms.bad_state")
            written = await tx.session.scalar(
                select(func.count()).select_from(RoomNote)
                .join(BreakoutRoom, BreakoutRoom.id == RoomNote.room_id)
                .where(BreakoutRoom.session_id == tx.group.id))
            if written:
                # Planning replaces the rooms, and with them their input: never after work began.
                raise Conflict("The rooms already hold input; move people by hand instead.",
                               code="rooms.has_input")
            themes = list(await tx.session.scalars(
                select(Theme).where(Theme.event_id == event_id).order_by(Theme.position)))
            people = await self.people(tx.session, event_id)
            planned = domain.plan(people, [(t.id, t.title) for t in themes],
                                  Placement(tx.group.placement), tx.group.room_size,
                                  tx.group.venue_rooms)
            for old in await tx.session.scalars(
                    select(BreakoutRoom).where(BreakoutRoom.session_id == tx.group.id)):
                await tx.session.delete(old)
            await tx.session.flush()
            by_key = {p.key: p for p in people}
            rooms = []
            for position, plan in enumerate(planned):
                room = BreakoutRoom(session_id=tx.group.id, theme_id=plan.theme,
                                    position=position, name=plan.name, location=plan.location,
                                    online=plan.online, capacity=plan.capacity, v=tx.v)
                tx.session.add(room)
                await tx.session.flush()
                for key in plan.members:
                    tx.session.add(views.new_member(tx.group, room, by_key[key]))
                rooms.append(room)
            return rooms

        return await self._act(event_id, body)

    # --- reading ---------------------------------------------------------------------------

    async def session_view(self, event_id: int) -> SessionView | None:
        """The group work's state and timer, or None when the event has none."""
        group = await self.group(event_id)
        return None if group is None else views.session_view(group)

    async def assignment(self, event_id: int, participant: str) -> BreakoutRoom | None:
        """The room this participant is placed in."""
        async with self._db() as session:
            result: BreakoutRoom | None = await session.scalar(
                select(BreakoutRoom).join(RoomMember, RoomMember.room_id == BreakoutRoom.id)
                .join(GroupSession, GroupSession.id == RoomMember.session_id)
                .where(GroupSession.event_id == event_id,
                       RoomMember.participant == participant))
            return result

    async def rooms(self, event_id: int) -> list[RoomView]:
        """Every room with members and input (moderators' overview, reports)."""
        async with self._db() as session:
            group = await self._group(session, event_id)
            rows = await session.scalars(select(BreakoutRoom).where(
                BreakoutRoom.session_id == group.id).order_by(BreakoutRoom.position))
            return [await views.room_view(session, group, room) for room in rows]

    async def room_view(self, event_id: int, who: Who, room_id: int) -> RoomView:
        """One room, for its members and moderators only."""
        async with self._db() as session:
            group = await self._group(session, event_id)
            room = await views.room_of(session, group, room_id)
            if not who.moderator and await views.membership(session, group, who.participant) != room.id:
                raise Forbidden("Only the room's members may see it.", code="rooms.not_member")
            return await views.room_view(session, group, room)

    async def _group(self, session: AsyncSession, event_id: int) -> GroupSession:
        group = await session.scalar(select(GroupSession).where(GroupSession.event_id == event_id))
        if group is None:
            raise NotFound("This event has no group work.", code="rooms.no_session")
        return group

    # --- the transaction around every change -----------------------------------------------

    async def _act(self, event_id: int, body: Callable[[_Tx], Awaitable[T]]) -> T:
        """Run `body` under the session's lock; publish its pushes after the commit."""
        async with self._db() as session, session.begin():
            bump = (update(GroupSession).where(GroupSession.event_id == event_id)
                    .values(v=GroupSession.v + 1))
            if (await session.execute(bump)).rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound("This event has no group work.", code="rooms.no_session")
            group = await self._group(session, event_id)
            await session.refresh(group)
            tx = _Tx(session=session, group=group, v=group.v, now=utcnow())
            result = await body(tx)
        for channel, message in tx.pushes:
            await self._hub.publish(channel, Entry(tx.v, 0, encode(message)))
        return result

    # --- participants ----------------------------------------------------------------------

    async def join(self, event_id: int, who: Who, room_id: int | None) -> RoomView:
        """Enter a room (None: one's own); places the participant when the rules allow."""

        async def body(tx: _Tx) -> RoomView:
            current = await views.membership(tx.session, tx.group, who.participant)
            target = room_id if room_id is not None else current
            if target is None:
                raise NotFound("You have not been placed in a room yet.", code="rooms.unplaced")
            room = await views.room_of(tx.session, tx.group, target)
            if who.moderator and current is None:
                return await views.room_view(tx.session, tx.group, room)
            if tx.group.state != State.OPEN:
                raise Conflict("The group work is not open.", code="rooms.not_open")
            if current != room.id:
                await self._enter(tx, who, room, current)
            return await views.room_view(tx.session, tx.group, room)

        return await self._act(event_id, body)

    async def _enter(self, tx: _Tx, who: Who, room: BreakoutRoom, current: int | None) -> None:
        mode = Placement(tx.group.placement)
        own_theme = await views.own_theme(tx.session, tx.group, who.participant, current)
        if mode != Placement.FREE and own_theme is None and current is None:
            raise Forbidden("You are not placed in group work.", code="rooms.not_placed")
        count = await tx.session.scalar(select(func.count()).select_from(RoomMember).where(
            RoomMember.room_id == room.id)) or 0
        domain.check_join(mode, domain.RoomInfo(room.id, room.theme_id, room.capacity, count,
                                                room.closed),
                          own_theme=own_theme, already_member=False)
        await self._place(tx, who.participant, who.name, room, current, placed_by="self")

    async def _place(self, tx: _Tx, participant: str, name: str, room: BreakoutRoom,
                     current: int | None, placed_by: str) -> None:
        member = await tx.session.scalar(select(RoomMember).where(
            RoomMember.session_id == tx.group.id, RoomMember.participant == participant))
        if member is None:
            reg_id = views.registration_id(participant)
            registration = None if reg_id is None else await tx.session.get(Registration, reg_id)
            member = RoomMember(session_id=tx.group.id, participant=participant, name=name,
                                registration_id=registration.id if registration else None)
            tx.session.add(member)
        member.room_id, member.placed_by, member.online = room.id, placed_by, room.online
        if name:
            member.name = name
        await tx.session.flush()
        if current is not None and current != room.id:
            old = await views.room_of(tx.session, tx.group, current)
            tx.room_changed(old, RoomUpdate(room=old.id, v=tx.v,
                                            members=await views.members(tx.session, old.id)))
            tx.push(room_channel(old.id), RoomsMoved(v=tx.v, participant=participant,
                                                     room=room.id))
        tx.room_changed(room, RoomUpdate(room=room.id, v=tx.v,
                                         members=await views.members(tx.session, room.id)))

    async def add_note(self, event_id: int, who: Who, room_id: int, section: str,
                       text: str, key: str | None = None) -> NoteView:
        """Add an item to a section of the room's input (once per idempotency `key`)."""
        text = domain.clean_text(text)

        async def body(tx: _Tx) -> NoteView:
            if key is not None:
                done = await idempotency.recall_async(
                    tx.session, event_id, who.participant, key, "room.note.add")
                if done is not None and done.result_id is not None:
                    first = await tx.session.get(RoomNote, done.result_id)
                    if first is not None:
                        return views.note_view(first)
            room = await self._writable(tx, who, room_id)
            domain.check_section(tx.group.sections, section)
            count = await tx.session.scalar(select(func.count()).select_from(RoomNote).where(
                RoomNote.room_id == room.id)) or 0
            if count >= domain.NOTES_PER_ROOM:
                raise Conflict("This room has as many items as it may hold.",
                               code="rooms.too_many_notes")
            note = _new_note(tx, room, section, text, who, position=count)
            await tx.session.flush()
            if key is not None:
                await idempotency.remember_async(
                    tx.session, event_id, who.participant, key, "room.note.add", note.id)
            view = views.note_view(note)
            tx.room_changed(room, RoomUpdate(room=room.id, v=tx.v, notes=[view]))
            return view

        return await self._act(event_id, body)

    async def edit_note(self, event_id: int, who: Who, room_id: int, note_id: int, base: int,
                        text: str, keep_both: bool = True) -> tuple[NoteView, NoteView | None]:
        """Edit one item made from version `base`; a stale edit is kept apart or refused."""
        text = domain.clean_text(text, allow_empty=True)

        async def body(tx: _Tx) -> tuple[NoteView, NoteView | None]:
            room = await self._writable(tx, who, room_id)
            note = await tx.session.get(RoomNote, note_id)
            if note is None or note.room_id != room.id:
                raise NotFound("No such item in this room.", code="rooms.no_note")
            current = "" if note.deleted else note.text
            outcome = domain.resolve_edit(current, note.version, base, text, keep_both)
            if outcome == domain.EditOutcome.UNCHANGED:
                return views.note_view(note), None
            kept = None
            if outcome == domain.EditOutcome.KEEP_BOTH:
                kept = _new_note(tx, room, note.section, text, who, position=note.position)
            else:
                applied = await tx.session.execute(
                    update(RoomNote).where(RoomNote.id == note.id, RoomNote.version == base)
                    .values(text=text or note.text, deleted=not text, version=base + 1,
                            author=who.name or note.author, updated_at=tx.now, room_v=tx.v))
                if applied.rowcount == 0:  # type: ignore[attr-defined]
                    raise domain.NoteConflict(current, note.version)
                await tx.session.refresh(note)
            await tx.session.flush()
            shown = [views.note_view(note)] + ([views.note_view(kept)] if kept else [])
            tx.room_changed(room, RoomUpdate(room=room.id, v=tx.v, notes=shown))
            return shown[0], (shown[1] if kept else None)

        return await self._act(event_id, body)

    async def _writable(self, tx: _Tx, who: Who, room_id: int) -> BreakoutRoom:
        room = await views.room_of(tx.session, tx.group, room_id)
        if not who.moderator:
            if await views.membership(tx.session, tx.group, who.participant) != room.id:
                raise Forbidden("Only the room's members may write here.",
                                code="rooms.not_member")
            if tx.group.state != State.OPEN or room.closed:
                raise Conflict("This room is closed; its input is kept.", code="rooms.closed")
        return room

    async def call_moderator(self, event_id: int, who: Who, room_id: int) -> None:
        """A member asks for a moderator; moderators get a `room.update` with `help`."""

        async def body(tx: _Tx) -> None:
            room = await self._writable(tx, who, room_id)
            room.help_requested_at = tx.now
            tx.room_changed(room, RoomUpdate(room=room.id, v=tx.v,
                                             help=who.name or who.participant))

        await self._act(event_id, body)

    # --- moderators ------------------------------------------------------------------------

    async def open(self, event_id: int, minutes: int | None = None) -> SessionView:
        """Open the group work (rooms reopen); everyone on the event is told."""

        async def body(tx: _Tx) -> SessionView:
            tx.group.state = domain.transition(tx.group.state, State.OPEN)
            tx.group.ends_at = domain.timer_end(tx.now, None, minutes=minutes)
            await tx.session.execute(update(BreakoutRoom).where(
                BreakoutRoom.session_id == tx.group.id).values(closed=False))
            return self._state_changed(tx)

        return await self._act(event_id, body)

    async def return_to_plenary(self, event_id: int) -> SessionView:
        """Close every room and send everyone back to the plenary; the input is kept."""

        async def body(tx: _Tx) -> SessionView:
            tx.group.state = domain.transition(tx.group.state, State.RETURNED)
            tx.group.ends_at = None
            await tx.session.execute(update(BreakoutRoom).where(
                BreakoutRoom.session_id == tx.group.id).values(closed=True))
            return self._state_changed(tx)

        return await self._act(event_id, body)

    def _state_changed(self, tx: _Tx) -> SessionView:
        view = views.session_view(tx.group, tx.now)
        tx.push(rooms_event_channel(tx.group.event_id),
                RoomsState(v=tx.v, state=view.state, now=view.now, ends_at=view.ends_at))
        return view

    async def set_timer(self, event_id: int, *, minutes: int | None = None,
                        add: int | None = None) -> SessionView:
        """Set the timer to `minutes` from now, or extend it by `add` minutes."""

        async def body(tx: _Tx) -> SessionView:
            if tx.group.state != State.OPEN:
                raise Conflict("The group work is not open.", code="rooms.not_open")
            ends = domain.timer_end(tx.now, tx.group.ends_at, minutes=minutes, add=add)
            if ends is None:
                raise Conflict("Give minutes or add.", code="rooms.bad_minutes")
            tx.group.ends_at = ends
            return self._state_changed(tx)

        return await self._act(event_id, body)

    async def broadcast(self, event_id: int, text: str, room_id: int | None = None) -> None:
        """Show a message in every room, or in one."""
        text = text.strip()
        if not text or len(text) > domain.BROADCAST_MAX_CHARS:
            raise Invalid(
                f"A message holds 1 to {domain.BROADCAST_MAX_CHARS} characters.",
                code="rooms.bad_broadcast")

        async def body(tx: _Tx) -> None:
            message = RoomsBroadcast(v=tx.v, text=text, room=room_id)
            if room_id is None:
                tx.push(rooms_event_channel(event_id), message)
                return
            room = await views.room_of(tx.session, tx.group, room_id)
            tx.push(room_channel(room.id), message)
            tx.push(rooms_mod_channel(event_id), message)

        await self._act(event_id, body)

    async def close_room(self, event_id: int, room_id: int) -> None:
        """Close one room: its members go back to the plenary; the input is kept."""

        async def body(tx: _Tx) -> None:
            room = await views.room_of(tx.session, tx.group, room_id)
            room.closed = True
            tx.room_changed(room, RoomUpdate(room=room.id, v=tx.v, closed=True))

        await self._act(event_id, body)

    async def move(self, event_id: int, participant: str, room_id: int, name: str = "") -> None:
        """Place a participant in a room by hand (no theme or capacity rule applies)."""

        async def body(tx: _Tx) -> None:
            room = await views.room_of(tx.session, tx.group, room_id)
            current = await views.membership(tx.session, tx.group, participant)
            await self._place(tx, participant, name, room, current, placed_by="moderator")

        await self._act(event_id, body)

    async def set_published(self, event_id: int, published: bool) -> None:
        """Publish (or withdraw) the reports on the event page."""

        async def body(tx: _Tx) -> None:
            tx.group.report_published = published

        await self._act(event_id, body)




def _new_note(tx: _Tx, room: BreakoutRoom, section: str, text: str, who: Who,
              position: int) -> RoomNote:
    note = RoomNote(room_id=room.id, section=section, text=text, version=1,
                    author=who.name, position=position, created_at=tx.now, updated_at=tx.now,
                    room_v=tx.v)
    tx.session.add(note)
    return note
