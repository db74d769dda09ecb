"""Group-work messages on the live socket, as typed structs.

Client messages derive from the shared envelope (`live.realtime.envelope.Envelope`:
`{"type", "id", ...}`, tagged on `type`); `live.rooms.handlers` registers a handler for
each. Replies are `RoomOk` (an envelope `Ok` echoing `id`) or the envelope's `Error`.
Pushes carry `type` and a version `v`: the room's version for `room.*` pushes, the group
session's for `rooms.*` pushes.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from live.bounds import Count, Id
from live.realtime.envelope import Envelope, IdempotencyKey, Ok

# Ids and versions within the database's 64-bit range (`live.bounds`).
RoomId = Id
NoteId = Id
Minutes = Annotated[int, msgspec.Meta(ge=1, le=600)]
# Generous wire bounds; the domain checks the real limits and answers with a code.
Text = Annotated[str, msgspec.Meta(max_length=4000)]
SectionKey = Annotated[str, msgspec.Meta(max_length=40)]


class RoomJoin(Envelope, tag="room.join"):
    """Enter a room (None: the room I am placed in); replies with the room's snapshot."""

    room: RoomId | None = None


class NoteAdd(Envelope, tag="room.note.add"):
    """Add an item of input to a section of the room."""

    room: RoomId
    section: SectionKey
    text: Text
    key: IdempotencyKey | None = None


class NoteEdit(Envelope, tag="room.note.edit"):
    """Change an item made from version `base`; empty text deletes it.

    A stale edit (someone changed the item since `base`) is kept as a new item next to it
    when `keep_both` is true, and refused with `rooms.note_conflict` otherwise.
    """

    room: RoomId
    note: NoteId
    base: Count
    text: Text
    keep_both: bool = True


class RoomTimer(Envelope, tag="room.timer"):
    """Moderators: set the timer to `minutes` from now, or `add` minutes to it."""

    minutes: Minutes | None = None
    add: Minutes | None = None


class RoomBroadcast(Envelope, tag="room.broadcast"):
    """Moderators: show a message in every room (or in one `room`)."""

    text: Text
    room: RoomId | None = None


class RoomClose(Envelope, tag="room.close"):
    """Moderators: close one room; its members go back to the plenary, its input stays."""

    room: RoomId


class CallModerator(Envelope, tag="room.call_moderator"):
    """Members: ask a moderator to come to the room."""

    room: RoomId


class RoomMove(Envelope, tag="room.move"):
    """Moderators: move a participant (by participant id) to another room."""

    participant: Annotated[str, msgspec.Meta(max_length=80)]
    room: RoomId


class RoomsOpen(Envelope, tag="rooms.open"):
    """Moderators: open the group work; online participants are told their room is ready."""

    minutes: Minutes | None = None


class RoomsReturn(Envelope, tag="rooms.return"):
    """Moderators: send everyone back to the plenary; every room closes, input is kept."""


RoomMessage = (RoomJoin | NoteAdd | NoteEdit | RoomTimer | RoomBroadcast | RoomClose
               | CallModerator | RoomMove | RoomsOpen | RoomsReturn)
ROOM_MESSAGES: tuple[type[Envelope], ...] = (
    RoomJoin, NoteAdd, NoteEdit, RoomTimer, RoomBroadcast, RoomClose, CallModerator, RoomMove,
    RoomsOpen, RoomsReturn,
)
MODERATOR_ROOM_MESSAGES: tuple[type[Envelope], ...] = (
    RoomTimer, RoomBroadcast, RoomClose, RoomMove, RoomsOpen, RoomsReturn,
)


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


class RoomOk(Ok, omit_defaults=True):
    """Reply to a room message that succeeded."""

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


class RoomsResync(msgspec.Struct, tag_field="type", tag="rooms.resync"):
    """Group-work notices may have been missed (the hub was away): read the state again
    (a room page joins its room again)."""


RoomPush = RoomUpdate | RoomsState | RoomsBroadcast | RoomsMoved
_push_decoder = msgspec.json.Decoder(RoomPush)
_encoder = msgspec.json.Encoder()


def decode_push(data: bytes) -> RoomPush:
    """Decode a push as it travels through the hub."""
    push: RoomPush = _push_decoder.decode(data)
    return push


def encode(message: RoomOk | RoomPush) -> bytes:
    """Encode a server message as JSON bytes."""
    return _encoder.encode(message)
