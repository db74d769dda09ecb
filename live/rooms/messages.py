"""Group-work messages on the live socket, as typed structs (the conventions of `live.realtime.protocol`).

Client messages share the envelope `{"type", "id", ...}` and are tagged on `type`, so they
join `live.realtime.protocol.ClientMessage` as further members of the union. Replies are `RoomOk`
(tag `ok`, echoing `id`) or the protocol's `Error`. Pushes carry `type` and a version `v`:
the room's version for `room.*` pushes, the group session's for `rooms.*` pushes.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

RoomId = Annotated[int, msgspec.Meta(ge=1)]
NoteId = Annotated[int, msgspec.Meta(ge=1)]
Minutes = Annotated[int, msgspec.Meta(ge=1, le=600)]
# Generous wire bounds; the domain checks the real limits and answers with a code.
Text = Annotated[str, msgspec.Meta(max_length=4000)]
SectionKey = Annotated[str, msgspec.Meta(max_length=40)]


class _RoomClient(msgspec.Struct, tag_field="type", forbid_unknown_fields=True):
    id: int


class RoomJoin(_RoomClient, tag="room.join"):
    """Enter a room (None: the room I am placed in); replies with the room's snapshot."""

    room: RoomId | None = None


class NoteAdd(_RoomClient, tag="room.note.add"):
    """Add an item of input to a section of the room."""

    room: RoomId
    section: SectionKey
    text: Text


class NoteEdit(_RoomClient, tag="room.note.edit"):
    """Change an item made from version `base`; empty text deletes it.

    A stale edit (someone changed the item since `base`) is kept as a new item next to it
    when `keep_both` is true, and refused with `rooms.note_conflict` otherwise.
    """

    room: RoomId
    note: NoteId
    base: int
    text: Text
    keep_both: bool = True


class RoomTimer(_RoomClient, tag="room.timer"):
    """Moderators: set the timer to `minutes` from now, or `add` minutes to it."""

    minutes: Minutes | None = None
    add: Minutes | None = None


class RoomBroadcast(_RoomClient, tag="room.broadcast"):
    """Moderators: show a message in every room (or in one `room`)."""

    text: Text
    room: RoomId | None = None


class RoomClose(_RoomClient, tag="room.close"):
    """Moderators: close one room; its members go back to the plenary, its input stays."""

    room: RoomId


class CallModerator(_RoomClient, tag="room.call_moderator"):
    """Members: ask a moderator to come to the room."""

    room: RoomId


class RoomMove(_RoomClient, tag="room.move"):
    """Moderators: move a participant (by participant id) to another room."""

    participant: Annotated[str, msgspec.Meta(max_length=80)]
    room: RoomId


class RoomsOpen(_RoomClient, tag="rooms.open"):
    """Moderators: open the group work; online participants are told their room is ready."""

    minutes: Minutes | None = None


class RoomsReturn(_RoomClient, tag="rooms.return"):
    """Moderators: send everyone back to the plenary; every room closes, input is kept."""


RoomMessage = (RoomJoin | NoteAdd | NoteEdit | RoomTimer | RoomBroadcast | RoomClose
               | CallModerator | RoomMove | RoomsOpen | RoomsReturn)
ROOM_MESSAGES: tuple[type[_RoomClient], ...] = (
    RoomJoin, NoteAdd, NoteEdit, RoomTimer, RoomBroadcast, RoomClose, CallModerator, RoomMove,
    RoomsOpen, RoomsReturn,
)
MODERATOR_ROOM_MESSAGES: tuple[type[_RoomClient], ...] = (
    RoomTimer, RoomBroadcast, RoomClose, RoomMove, RoomsOpen, RoomsReturn,
)
ROOM_TYPES = frozenset(cls.__struct_config__.tag for cls in RoomMessage.__args__)


# --- server → client ---------------------------------------------------------------------


class NoteView(msgspec.Struct, omit_defaults=True, frozen=True):
    """One item of input; `version` is what an edit must name as its `base`."""

    id: int
    section: str
    text: str
    version: int
    author: str = ""
    deleted: bool = False


class MemberView(msgspec.Struct, omit_defaults=True, frozen=True):
    """Someone in a room."""

    participant: str
    name: str = ""
    online: bool = True


class SectionView(msgspec.Struct, frozen=True):
    """A section of the input, as the organiser named it."""

    key: str
    title: str


class RoomView(msgspec.Struct, omit_defaults=True, frozen=True):
    """A room with its members and input, as of the room's version `v`."""

    id: int
    v: int
    name: str
    theme: int | None
    theme_title: str
    brief: str
    online: bool
    location: str
    capacity: int
    closed: bool
    members: list[MemberView]
    notes: list[NoteView]
    sections: list[SectionView]
    url: str = ""


class SessionView(msgspec.Struct, omit_defaults=True, frozen=True):
    """The group work's state and timer; `now` lets clients correct their clock."""

    v: int
    state: str
    now: str
    ends_at: str | None = None


class RoomOk(msgspec.Struct, tag_field="type", tag="ok", omit_defaults=True):
    """Reply to a room message that succeeded."""

    id: int
    room: RoomView | None = None
    note: NoteView | None = None
    kept_as: NoteView | None = None
    session: SessionView | None = None


class RoomUpdate(msgspec.Struct, tag_field="type", tag="room.update", omit_defaults=True):
    """Push to a room's members and moderators: what changed in the room up to `v`."""

    room: int
    v: int
    notes: list[NoteView] = []
    members: list[MemberView] | None = None
    closed: bool | None = None
    help: str | None = None


class RoomsState(msgspec.Struct, tag_field="type", tag="rooms.state", omit_defaults=True):
    """Push to everyone on the event: the group work opened, returned, or the timer moved."""

    v: int
    state: str
    now: str
    ends_at: str | None = None


class RoomsBroadcast(msgspec.Struct, tag_field="type", tag="rooms.broadcast",
                     omit_defaults=True):
    """Push: a moderator's message to every room (or one `room`)."""

    v: int
    text: str
    room: int | None = None


class RoomsMoved(msgspec.Struct, tag_field="type", tag="rooms.moved"):
    """Push to one participant: they were moved to another room."""

    v: int
    participant: str
    room: int


RoomPush = RoomUpdate | RoomsState | RoomsBroadcast | RoomsMoved
_decoder = msgspec.json.Decoder(RoomMessage)
_push_decoder = msgspec.json.Decoder(RoomPush)
_encoder = msgspec.json.Encoder()


def decode_room(data: str | bytes) -> RoomMessage:
    """Decode one room message (raises msgspec errors; the dispatcher maps them to codes)."""
    message: RoomMessage = _decoder.decode(data)
    return message


def decode_push(data: bytes) -> RoomPush:
    """Decode a push as it travels through the hub."""
    push: RoomPush = _push_decoder.decode(data)
    return push


def encode(message: RoomOk | RoomPush) -> bytes:
    """Encode a server message as JSON bytes."""
    return _encoder.encode(message)
