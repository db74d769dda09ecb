"""A socket that speaks only the room messages: `/ws/events/{slug}/rooms`.

The room messages are meant for the one live endpoint (`live.ws`), where `RoomHandlers`
plugs into the dispatcher; this endpoint serves the same messages and pushes on their own,
with the same envelope, so room pages work (and are tested) on an app without Q&A. On
connect it sends a `rooms.state` push with the group work's state and timer (as
`RoomHandlers.start` does on the live endpoint).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import msgspec
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from live.auth import event_roles
from live.errors import NotFound, SalenError
from live.fanout import Conn
from live.models import Role
from live.protocol import MAX_FRAME_BYTES, CloseCode, Error, Ok, Ping, ProtocolError
from live.protocol import encode as encode_reply
from live.rooms.handlers import RoomHandlers
from live.rooms.messages import ROOM_TYPES, RoomOk, decode_room, encode
from live.rooms.runtime import RoomsLive
from live.rooms.service import Who, event_by_slug

log = logging.getLogger(__name__)


class _Probe(msgspec.Struct):
    type: object = None
    id: object = None


_probe = msgspec.json.Decoder(_Probe)
_ping = msgspec.json.Decoder(Ping)


def decode(data: str | bytes) -> object:
    """A room message or a ping, or `ProtocolError` with the protocol's codes."""
    if len(data) > MAX_FRAME_BYTES:
        raise ProtocolError("Message too large.", code="too_large", message_id=None)
    try:
        probe = _probe.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError):
        raise ProtocolError("Not a JSON object.", code="bad_json", message_id=None) from None
    message_id = probe.id if type(probe.id) is int else None
    try:
        if probe.type == "ping":
            return _ping.decode(data)
        if probe.type not in ROOM_TYPES:
            raise ProtocolError(f"Unknown message type {probe.type!r}.", code="unknown_type",
                                message_id=message_id)
        return decode_room(data)
    except msgspec.ValidationError as exc:
        raise ProtocolError(str(exc), code="invalid_message", message_id=message_id) from None


async def reply_to(handlers: RoomHandlers, data: str | bytes) -> bytes:
    """One frame in, one reply out: every error becomes an `error` reply here."""
    message_id: int | None = None
    try:
        msg = decode(data)
        message_id = getattr(msg, "id", None)
        if isinstance(msg, Ping):
            return encode_reply(Ok(id=msg.id))
        reply: RoomOk = await handlers.handle(msg)  # type: ignore[arg-type]
        return encode(reply)
    except ProtocolError as exc:
        return encode_reply(Error(id=exc.message_id, code=exc.code, message=exc.message))
    except SalenError as exc:
        return encode_reply(Error(id=message_id, code=exc.code, message=exc.message,
                                  fields=exc.fields))
    except Exception:
        log.exception("room message %s failed", message_id)
        return encode_reply(Error(id=message_id, code="internal", message="Something went wrong."))


async def serve(websocket: WebSocket) -> None:
    """Run one room connection from accept to close."""
    rooms: RoomsLive = websocket.state.rooms
    await websocket.accept()
    try:
        async with rooms.db() as session:
            event = await event_by_slug(session, websocket.path_params["slug"])
    except NotFound:
        await websocket.close(CloseCode.NOT_FOUND, "no such event")
        return
    roles = await event_roles(websocket, event)
    participant = rooms.identities.load_or_new(websocket.query_params.get("p"))
    who = Who(participant.id, participant.name, moderator=Role.MODERATOR in roles)
    # Replies and pushes share one non-blocking writer with a bounded backlog.
    conn = Conn(websocket.send, _closer(websocket), moderator=who.moderator)
    handlers = RoomHandlers(rooms.service, rooms.hub, event_id=event.id, slug=event.slug,
                            who=who, send=conn.send, video=rooms.video)
    try:
        await handlers.start()
        while not conn.closed:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            reply = await reply_to(handlers, message.get("text") or message.get("bytes") or b"")
            conn.send(reply.decode())
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        await handlers.aclose()
        await conn.aclose()


def _closer(websocket: WebSocket) -> Callable[[int, str], Awaitable[None]]:
    async def close(code: int, reason: str) -> None:
        await websocket.close(code, reason)

    return close


def rooms_ws_route(path: str = "/ws/events/{slug}/rooms") -> WebSocketRoute:
    """The route of the room socket."""
    return WebSocketRoute(path, serve, name="ws_rooms")
