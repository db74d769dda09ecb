"""The room message handlers of one live connection, and the room pushes it receives.

`RoomsFeature` is what `live/app.py` registers with the endpoint of `/ws/events/{slug}`
(`live.realtime.connection`): it routes each `live.rooms.messages` client message to the
`RoomHandlers` method for its type, and each connection gets a `RoomHandlers`. A handler
returns a `RoomOk` (errors are raised as `SalenError`s, which the dispatcher turns into
`error` replies in its one place); the pushes of the connection's event, room and (for
moderators) the moderators' channel are written through the `send` callable as they
arrive. Room traffic is small (a group of up to about ten people), so pushes go out at
once rather than in ticks.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec

from live.errors import Forbidden
from live.hub import Hub
from live.models import utcnow
from live.realtime.channels import (
    is_room_channel,
    room_channel,
    rooms_event_channel,
    rooms_mod_channel,
)
from live.realtime.connection import Feature, Session
from live.realtime.dispatch import Route, route
from live.rooms.feeds import Feeds
from live.rooms.messages import (
    MODERATOR_ROOM_MESSAGES,
    CallModerator,
    NoteAdd,
    NoteEdit,
    RoomBroadcast,
    RoomClose,
    RoomJoin,
    RoomMessage,
    RoomMove,
    RoomOk,
    RoomsOpen,
    RoomsReturn,
    RoomsState,
    RoomTimer,
    RoomView,
    SessionView,
    encode,
)
from live.rooms.runtime import RoomsLive
from live.rooms.service import RoomsService, Who
from live.rooms.video import RoomVideo

log = logging.getLogger(__name__)

Send = Callable[[str], None]


def room_url(slug: str, room_id: int) -> str:
    """The participant page of a room."""
    return f"/e/{slug}/rooms/{room_id}"


class RoomHandlers:
    """Room messages and pushes for one connection to one event."""

    def __init__(self, service: RoomsService, hub: Hub, *, event_id: int, slug: str, who: Who,
                 send: Send, video: RoomVideo | None = None, feeds: Feeds | None = None) -> None:
        self.service, self.hub, self.video = service, hub, video
        self.event_id, self.slug, self.who, self.send = event_id, slug, who, send
        self.room_id: int | None = None
        # The process's shared subscriptions (a private set when none is given).
        self.feeds = feeds if feeds is not None else Feeds(hub)
        self._feeds: set[str] = set()

    async def start(self) -> None:
        """Follow the event's group-work notices (and, for moderators, every room).

        Then push `rooms.state` once, so a page learns whether its room is already open.
        """
        await self._follow(rooms_event_channel(self.event_id))
        if self.who.moderator:
            await self._follow(rooms_mod_channel(self.event_id))
        state = await self._session_view()
        if state is not None:
            self.send(encode(RoomsState(v=state.v, state=state.state, now=state.now,
                                        ends_at=state.ends_at)).decode())

    async def _session_view(self) -> SessionView | None:
        """The group work's state: read once for everyone joining until it changes."""
        channel = rooms_event_channel(self.event_id)
        known, view = self.feeds.recall(channel)
        if known:
            now = utcnow().isoformat()  # the clock correction must stay current
            return None if view is None else msgspec.structs.replace(view, now=now)
        generation = self.feeds.generation(channel)
        view = await self.service.session_view(self.event_id)
        self.feeds.remember(channel, generation, view)
        return view

    async def _follow(self, channel: str) -> None:
        if channel not in self._feeds:
            self._feeds.add(channel)
            await self.feeds.follow(channel, self.send)

    async def _unfollow(self, channel: str) -> None:
        if channel in self._feeds:
            self._feeds.discard(channel)
            await self.feeds.unfollow(channel, self.send)

    async def aclose(self) -> None:
        """Stop every feed (the connection is going away)."""
        for channel in list(self._feeds):
            await self._unfollow(channel)

    async def handle(self, msg: RoomMessage) -> RoomOk:
        """Perform one room message, checked as the dispatcher checks it (for tests)."""
        if isinstance(msg, MODERATOR_ROOM_MESSAGES) and not self.who.moderator:
            raise Forbidden("Only moderators may do this.")
        return await HANDLERS[type(msg)](self, msg)

    # --- one handler per message type ----------------------------------------------------

    async def _join(self, msg: RoomJoin) -> RoomOk:
        target = msg.room
        if target is None:
            placed = await self.service.assignment(self.event_id, self.who.participant)
            target = placed.id if placed is not None else None
        if target is not None and not self.who.moderator:
            # Subscribe first: a change between the snapshot and the subscription is not lost.
            await self._switch_room(target)
        try:
            view = await self.service.join(self.event_id, self.who, target)
        except Exception:
            if not self.who.moderator:
                await self._switch_room(self.room_id)
            raise
        if not self.who.moderator:
            self.room_id = view.id
        session = await self.service.session_view(self.event_id)
        view = _with_url(view, room_url(self.slug, view.id))
        return RoomOk(id=msg.id, room=view, session=session)

    async def _switch_room(self, room_id: int | None) -> None:
        for channel in [c for c in self._feeds if is_room_channel(c)]:
            if room_id is None or channel != room_channel(room_id):
                await self._unfollow(channel)
        if room_id is not None:
            await self._follow(room_channel(room_id))

    async def _add(self, msg: NoteAdd) -> RoomOk:
        note = await self.service.add_note(self.event_id, self.who, msg.room, msg.section,
                                           msg.text, key=msg.key)
        return RoomOk(id=msg.id, note=note)

    async def _edit(self, msg: NoteEdit) -> RoomOk:
        note, kept = await self.service.edit_note(self.event_id, self.who, msg.room, msg.note,
                                                  msg.base, msg.text, msg.keep_both)
        return RoomOk(id=msg.id, note=note, kept_as=kept)

    async def _timer(self, msg: RoomTimer) -> RoomOk:
        session = await self.service.set_timer(self.event_id, minutes=msg.minutes, add=msg.add)
        return RoomOk(id=msg.id, session=session)

    async def _broadcast(self, msg: RoomBroadcast) -> RoomOk:
        await self.service.broadcast(self.event_id, msg.text, msg.room)
        return RoomOk(id=msg.id)

    async def _close(self, msg: RoomClose) -> RoomOk:
        await self.service.close_room(self.event_id, msg.room)
        if self.video is not None:
            await self.video.close_room(msg.room)
        return RoomOk(id=msg.id)

    async def _call(self, msg: CallModerator) -> RoomOk:
        await self.service.call_moderator(self.event_id, self.who, msg.room)
        return RoomOk(id=msg.id)

    async def _move(self, msg: RoomMove) -> RoomOk:
        await self.service.move(self.event_id, msg.participant, msg.room)
        return RoomOk(id=msg.id)

    async def _open(self, msg: RoomsOpen) -> RoomOk:
        session = await self.service.open(self.event_id, msg.minutes)
        return RoomOk(id=msg.id, session=session)

    async def _return(self, msg: RoomsReturn) -> RoomOk:
        session = await self.service.return_to_plenary(self.event_id)
        if self.video is not None:
            for room in await self.service.rooms(self.event_id):
                await self.video.close_room(room.id)
        return RoomOk(id=msg.id, session=session)


def _with_url(view: RoomView, url: str) -> RoomView:
    return msgspec.structs.replace(view, url=url)


# The handler of each room message type: one table for the process, not a dict of bound
# methods held by every connection.
HANDLERS: dict[type[Any], Callable[[RoomHandlers, Any], Awaitable[RoomOk]]] = {
    RoomJoin: RoomHandlers._join, NoteAdd: RoomHandlers._add, NoteEdit: RoomHandlers._edit,
    RoomTimer: RoomHandlers._timer, RoomBroadcast: RoomHandlers._broadcast,
    RoomClose: RoomHandlers._close, CallModerator: RoomHandlers._call,
    RoomMove: RoomHandlers._move, RoomsOpen: RoomHandlers._open, RoomsReturn: RoomHandlers._return,
}


class RoomsFeature(Feature[RoomHandlers]):
    """The group work's routes and hooks on the live socket, for one process."""

    def __init__(self, rooms: RoomsLive) -> None:
        self.rooms = rooms

    def routes(self) -> Sequence[Route[RoomHandlers]]:
        return tuple(
            route(cls, handler, moderator=cls in MODERATOR_ROOM_MESSAGES)
            for cls, handler in HANDLERS.items()
        )

    async def open(self, session: Session) -> RoomHandlers:
        rooms = self.rooms
        who = Who(session.participant.id, session.participant.name, moderator=session.moderator)
        return RoomHandlers(
            rooms.service, rooms.hub, event_id=session.event_id, slug=session.slug, who=who,
            send=session.conn.send, video=rooms.video, feeds=rooms.feeds,
        )

    async def start(self, state: RoomHandlers) -> None:
        await state.start()  # after the snapshot, which comes first

    async def close(self, state: RoomHandlers) -> None:
        await state.aclose()
