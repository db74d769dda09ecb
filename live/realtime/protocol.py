"""The WebSocket wire protocol of `/ws/events/{slug}`: every message type as a typed struct.

Client messages are one tagged union (`ClientMessage`, tag field `type`) decoded and
validated in one call by `decode_client`. Server messages are `Ok`, `Error` (replies that
echo the client's `id`) and the pushes `Snapshot` and `Update`, which carry the event's
version `v`. docs/protocol.md describes the same thing for people.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

import msgspec

from live.errors import BadRequest
from live.qa.domain import QaStatus
from live.rooms.messages import RoomMessage, RoomOk

# A frame longer than this is refused before parsing (question length is checked later,
# against the event's own limit, so that over-long text gets `qa.too_long`).
MAX_FRAME_BYTES = 16_384

QuestionId = Annotated[int, msgspec.Meta(ge=1)]
Position = Annotated[int, msgspec.Meta(ge=0)]
Name = Annotated[str, msgspec.Meta(max_length=200)]


class CloseCode(enum.IntEnum):
    """Close codes the server uses, besides the standard 1000/1001/1011."""

    NOT_FOUND = 4004  # no such event (or Q&A not enabled on it)
    SLOW = 4008  # the client could not keep up; reconnect and resync
    FLOOD = 4029  # too many messages from this connection or address
    SHUTDOWN = 4503  # the server is going away; reconnect and resync


PUBLIC_STATUSES = frozenset({QaStatus.APPROVED, QaStatus.ON_AIR, QaStatus.ANSWERED})
GONE_STATUSES = frozenset({QaStatus.REJECTED, QaStatus.MERGED})


# --- client → server ---------------------------------------------------------------------


class _Client(msgspec.Struct, tag_field="type", forbid_unknown_fields=True):
    id: int


class Ping(_Client, tag="ping"):
    """Keep-alive; answered with `ok`."""


class Resync(_Client, tag="resync"):
    """Bring me up to date from version `since` (replay), or send a snapshot when None."""

    since: int | None = None


class Ask(_Client, tag="qa.ask"):
    """Ask a question; moderators use it for questions from the floor."""

    text: str
    name: Name = ""
    organisation: Name = ""
    anonymous: bool = False
    item: int | None = None


class Vote(_Client, tag="qa.vote"):
    """Upvote a question once per participant."""

    question: QuestionId


class Unvote(_Client, tag="qa.unvote"):
    """Take back one's upvote."""

    question: QuestionId


class Approve(_Client, tag="qa.approve"):
    """Make a pending (or rejected) question public."""

    question: QuestionId


class Reject(_Client, tag="qa.reject"):
    """Hide a question from viewers."""

    question: QuestionId


class Edit(_Client, tag="qa.edit"):
    """Change a question's text; the first original is kept."""

    question: QuestionId
    text: str


class Merge(_Client, tag="qa.merge"):
    """Fold `question` into `into`; votes carry over, each voter counted once."""

    question: QuestionId
    into: QuestionId


class Enqueue(_Client, tag="panel.enqueue"):
    """Put a question on the panel queue at `position` (default: the end)."""

    question: QuestionId
    position: Position | None = None


class Dequeue(_Client, tag="panel.dequeue"):
    """Take a question off the panel queue (it stays approved)."""

    question: QuestionId


class Move(_Client, tag="panel.move"):
    """Move a queued question to `position` (0 = next)."""

    question: QuestionId
    position: Position


class Now(_Client, tag="panel.now"):
    """Mark a question as the one the panel answers now."""

    question: QuestionId


class Done(_Client, tag="panel.done"):
    """Mark a question (default: the one on air) as answered."""

    question: QuestionId | None = None


class Configure(_Client, tag="qa.settings"):
    """Change the event's Q&A settings (or open/close one programme item)."""

    premoderation: bool | None = None
    anonymous: bool | None = None
    max_length: Annotated[int, msgspec.Meta(ge=10, le=5000)] | None = None
    open: bool | None = None
    item: int | None = None


ClientMessage = (
    Ping
    | Resync
    | Ask
    | Vote
    | Unvote
    | Approve
    | Reject
    | Edit
    | Merge
    | Enqueue
    | Dequeue
    | Move
    | Now
    | Done
    | Configure
    | RoomMessage  # group work: live/rooms/messages.py, docs/rooms.md
)
MODERATOR_MESSAGES: tuple[type[_Client], ...] = (
    Approve,
    Reject,
    Edit,
    Merge,
    Enqueue,
    Dequeue,
    Move,
    Now,
    Done,
    Configure,
)
CLIENT_TYPES = frozenset(cls.__struct_config__.tag for cls in ClientMessage.__args__)


class _Probe(msgspec.Struct):
    type: Any = None
    id: Any = None


class ProtocolError(BadRequest):
    """The frame is not a valid client message; `message_id` is echoed when it was readable."""

    def __init__(self, message: str, *, code: str, message_id: int | None) -> None:
        super().__init__(message, code=code)
        self.message_id = message_id


_decoder = msgspec.json.Decoder(ClientMessage)
_probe = msgspec.json.Decoder(_Probe)


def decode_client(data: str | bytes) -> ClientMessage:
    """Decode and validate one client frame, or raise `ProtocolError` with a code."""
    if len(data) > MAX_FRAME_BYTES:
        raise ProtocolError("Message too large.", code="too_large", message_id=None)
    try:
        message: ClientMessage = _decoder.decode(data)
        return message
    except msgspec.ValidationError as exc:
        try:
            probe = _probe.decode(data)
        except msgspec.ValidationError:
            raise ProtocolError("Not a JSON object.", code="bad_json", message_id=None) from None
        message_id = probe.id if type(probe.id) is int else None
        if not isinstance(probe.type, str) or probe.type not in CLIENT_TYPES:
            raise ProtocolError(
                f"Unknown message type {probe.type!r}.", code="unknown_type", message_id=message_id
            ) from None
        raise ProtocolError(str(exc), code="invalid_message", message_id=message_id) from None
    except msgspec.DecodeError:
        raise ProtocolError("Not a JSON object.", code="bad_json", message_id=None) from None


# --- server → client ---------------------------------------------------------------------


class QuestionView(msgspec.Struct, omit_defaults=True, frozen=True):
    """One question as a client sees it; `v` is the version of its last change."""

    id: int
    v: int
    status: QaStatus
    text: str = ""
    name: str = ""
    organisation: str = ""
    votes: int = 0
    item: int | None = None
    floor: bool = False
    merged_into: int | None = None
    asked_at: str | None = None
    approved_at: str | None = None
    on_air_at: str | None = None
    answered_at: str | None = None
    # Moderators only:
    original_text: str | None = None
    by: str | None = None
    action: str | None = None

    def public(self) -> QuestionView:
        """What viewers may see: a tombstone for gone questions, nothing of pending ones."""
        if self.status in GONE_STATUSES:
            return QuestionView(
                id=self.id, v=self.v, status=self.status, merged_into=self.merged_into
            )
        return msgspec.structs.replace(self, original_text=None, by=None, action=None)


class PanelView(msgspec.Struct, frozen=True):
    """The panel queue in order, and the question on air."""

    v: int
    queue: list[int]
    now: int | None = None


class SettingsView(msgspec.Struct, frozen=True):
    """The event's Q&A settings."""

    v: int
    premoderation: bool
    anonymous: bool
    max_length: int
    open: bool
    closed_items: list[int] = []


class Update(msgspec.Struct, tag_field="type", tag="update", omit_defaults=True):
    """A push: everything that changed up to version `v`; items carry their own `v`."""

    v: int
    questions: list[QuestionView] = []
    panel: PanelView | None = None
    settings: SettingsView | None = None


class You(msgspec.Struct, omit_defaults=True):
    """Who the server thinks this connection is."""

    participant: str
    roles: list[str]
    name: str = ""


class Snapshot(msgspec.Struct, tag_field="type", tag="snapshot", omit_defaults=True):
    """The full state as of version `v`; sent on connect and on resync."""

    v: int
    questions: list[QuestionView]
    panel: PanelView
    settings: SettingsView
    you: You | None = None
    mine: list[QuestionView] = []
    voted: list[int] = []


class Ok(msgspec.Struct, tag_field="type", tag="ok", omit_defaults=True):
    """Reply to a client message that succeeded."""

    id: int
    question: QuestionView | None = None
    panel: PanelView | None = None


class Error(msgspec.Struct, tag_field="type", tag="error", omit_defaults=True):
    """Reply to a client message that failed; `code` is machine-readable."""

    id: int | None
    code: str
    message: str
    fields: dict[str, str] = {}


Reply = Ok | RoomOk | Error
Push = Snapshot | Update
_encoder = msgspec.json.Encoder()
_update_decoder = msgspec.json.Decoder(Update)


def encode(message: Reply | Push) -> bytes:
    """Encode a server message as JSON bytes."""
    return _encoder.encode(message)


def decode_update(data: bytes) -> Update:
    """Decode an `Update` as it travels through the hub."""
    return _update_decoder.decode(data)


def merge_updates(updates: list[Update]) -> Update:
    """Coalesce several updates into one: per question, panel and settings the newest wins."""
    questions: dict[int, QuestionView] = {}
    panel: PanelView | None = None
    settings: SettingsView | None = None
    for update in updates:
        for q in update.questions:
            if q.id not in questions or questions[q.id].v < q.v:
                questions[q.id] = q
        if update.panel is not None and (panel is None or panel.v < update.panel.v):
            panel = update.panel
        if update.settings is not None and (settings is None or settings.v < update.settings.v):
            settings = update.settings
    v = max(u.v for u in updates)
    return Update(v=v, questions=list(questions.values()), panel=panel, settings=settings)


def public_update(update: Update) -> Update | None:
    """The part of a moderator update that viewers may see, or None when there is none."""
    questions = [q.public() for q in update.questions if q.status != QaStatus.PENDING]
    if not questions and update.panel is None and update.settings is None:
        return None
    return Update(v=update.v, questions=questions, panel=update.panel, settings=update.settings)
