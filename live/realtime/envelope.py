"""The envelope every message on `/ws/events/{slug}` shares, whatever feature it belongs to.

A client message is a struct deriving from `Envelope`: a JSON object tagged on `type`,
carrying the client's `id`, no unknown fields. Each gets exactly one reply deriving from
`Ok` (tag `ok`, echoing the `id`; a feature adds its own fields) or an `Error`. `Decoder`
decodes the tagged union of whatever types were registered (`live.realtime.dispatch`) and
names what was wrong with a frame in a `ProtocolError` code. It refuses, before decoding,
a frame over `MAX_FRAME_BYTES` (`too_large`) or nested deeper than `live.bounds.MAX_DEPTH`
(`too_deep`), and after decoding text holding a NUL or a lone surrogate (`invalid_text`);
ids and numbers are bounded by the structs' own types (`live.bounds`). `Ping` and `Resync`
belong to the connection itself. docs/protocol.md describes the same thing for people.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Annotated, Any, Union

import msgspec

from live.bounds import MAX_ID, Count, Int64, TextError, check_strings, too_deep
from live.errors import BadRequest

# A frame longer than this is refused before parsing (question length is checked later,
# against the event's own limit, so that over-long text gets `qa.too_long`).
MAX_FRAME_BYTES = 16_384


class CloseCode(enum.IntEnum):
    """Close codes the server uses, besides the standard 1000/1001/1011."""

    NOT_FOUND = 4004  # no such event (or Q&A not enabled on it)
    SLOW = 4008  # the client could not keep up; reconnect and resync
    FLOOD = 4029  # too many messages from this connection or address
    SHUTDOWN = 4503  # the server is going away; reconnect and resync
    TRY_AGAIN = 1013  # the database refused for now (locked, unreachable); reconnect later
    KEY_REPLACED = 4401  # the captioner link was replaced by a new one: do not reconnect


# A client's idempotency key for a creating action (`live.idempotency`).
IdempotencyKey = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class Envelope(msgspec.Struct, tag_field="type", forbid_unknown_fields=True):
    """The base of every client message: `type` (the struct's tag) and the client's `id`."""

    id: Int64


class Ping(Envelope, tag="ping"):
    """Keep-alive; answered with `ok`."""


class Resync(Envelope, tag="resync"):
    """Bring me up to date from version `since` (replay), or send a snapshot when None."""

    since: Count | None = None


class Ok(msgspec.Struct, tag_field="type", tag="ok", omit_defaults=True):
    """Reply to a client message that succeeded; features derive theirs with more fields."""

    id: int


class Error(msgspec.Struct, tag_field="type", tag="error", omit_defaults=True):
    """Reply to a client message that failed; `code` is machine-readable."""

    id: int | None
    code: str
    message: str
    fields: dict[str, str] = {}


class ProtocolError(BadRequest):
    """The frame is not a valid client message; `message_id` is echoed when it was readable."""

    def __init__(self, message: str, *, code: str, message_id: int | None) -> None:
        super().__init__(message, code=code)
        self.message_id = message_id


class _Probe(msgspec.Struct):
    type: Any = None
    id: Any = None


_probe = msgspec.json.Decoder(_Probe)


class Decoder:
    """Decodes and validates client frames of the given message types in one call."""

    def __init__(self, types: Iterable[type[Envelope]]) -> None:
        self.types = tuple(types)
        self.tags = frozenset(cls.__struct_config__.tag for cls in self.types)
        union: Any = Union[self.types]  # noqa: UP007  (a union built at run time)
        self._decoder = msgspec.json.Decoder(union)

    def decode(self, data: str | bytes) -> Envelope:
        """One client message, or `ProtocolError` with a code saying what was wrong."""
        if len(data) > MAX_FRAME_BYTES:
            raise ProtocolError("Message too large.", code="too_large", message_id=None)
        if too_deep(data):
            raise ProtocolError("Message nested too deeply.", code="too_deep", message_id=None)
        try:
            message: Envelope = self._decoder.decode(data)
        except msgspec.ValidationError as exc:
            raise self._explain(data, exc) from None
        except msgspec.DecodeError:
            raise ProtocolError("Not a JSON object.", code="bad_json", message_id=None) from None
        # A NUL or a surrogate can only arrive as a \u escape: frames without one skip the walk.
        if _has_escape(data):
            try:
                check_strings(message)
            except TextError as exc:
                raise ProtocolError(str(exc), code="invalid_text", message_id=message.id) from None
        return message

    def _explain(self, data: str | bytes, exc: msgspec.ValidationError) -> ProtocolError:
        try:
            probe = _probe.decode(data)
        except msgspec.ValidationError:
            return ProtocolError("Not a JSON object.", code="bad_json", message_id=None)
        readable = type(probe.id) is int and -MAX_ID - 1 <= probe.id <= MAX_ID
        message_id = probe.id if readable else None
        if not isinstance(probe.type, str) or probe.type not in self.tags:
            return ProtocolError(
                f"Unknown message type {probe.type!r}.", code="unknown_type", message_id=message_id
            )
        return ProtocolError(str(exc), code="invalid_message", message_id=message_id)


def _has_escape(data: str | bytes) -> bool:
    return b"\\u" in data if isinstance(data, bytes) else "\\u" in data


_encoder = msgspec.json.Encoder()


def encode(message: msgspec.Struct) -> bytes:
    """Encode a server message (a reply or a push) as JSON bytes."""
    return _encoder.encode(message)
