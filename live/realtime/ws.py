"""The WebSocket endpoint `/ws/events/{slug}`: connect, sync, then one message at a time.

On connect the server sends a `snapshot` (or, with `?since=V`, replays what was missed).
Each client message gets exactly one reply, `ok` or `error`; `Session.handle` is the one
place where errors become error replies. Floods are limited, then closed with
`CloseCode.FLOOD`. The wire format is in `live.realtime.protocol` and docs/protocol.md.
"""

from __future__ import annotations

import dataclasses
import gc
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from live.db import Writer, open_reader, open_writer
from live.errors import Forbidden, NotFound, SalenError, TooMany
from live.hub import Entry, Hub
from live.identity import Identities, Participant
from live.models import Event, Role
from live.qa.service import Actor, QaService, mod_channel, public_channel
from live.realtime.fanout import Conn, Fanout
from live.realtime.keepalive import Keepalive
from live.realtime.protocol import (
    MODERATOR_MESSAGES,
    Approve,
    Ask,
    ClientMessage,
    CloseCode,
    Configure,
    Dequeue,
    Done,
    Edit,
    Enqueue,
    Error,
    Merge,
    Move,
    Now,
    Ok,
    Ping,
    ProtocolError,
    Reject,
    Resync,
    Unvote,
    Update,
    Vote,
    You,
    decode_client,
    decode_update,
    encode,
    merge_updates,
)
from live.realtime.rawframes import raw_socket, trim_accepted
from live.rooms.handlers import RoomHandlers
from live.rooms.messages import ROOM_MESSAGES, RoomMessage, RoomOk
from live.rooms.service import Who
from live.settings import Settings

log = logging.getLogger(__name__)

# Allocations between young collections (Python's default is 700).
GC_THRESHOLD = 20_000
# Seconds an event row read on connect serves later connections (a reconnecting crowd
# reads it once): an unpublished event or a new moderator token counts for new
# connections after at most this long.
EVENT_TTL = 2.0
EVENT_CACHE_SIZE = 1000
# Replays remembered for clients that reconnect from the same version (a dropped crowd).
REPLAY_CACHE_SIZE = 256

RoleResolver = Callable[[HTTPConnection, Event], Awaitable[frozenset[Role]]]


@dataclasses.dataclass(frozen=True)
class Limits:
    """Flood limits: token buckets per connection, per address, and for questions."""

    messages_per_second: float = 30.0
    message_burst: int = 60
    address_per_second: float = 150.0
    address_burst: int = 300
    questions_per_minute: float = 3.0
    question_burst: int = 3
    # Refused messages a connection may send before it is closed with FLOOD.
    strikes: int = 50


class Bucket:
    """A token bucket: `take()` is False when the rate is exceeded."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.stamp = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def full(self) -> bool:
        return self.tokens + (time.monotonic() - self.stamp) * self.rate >= self.burst


class Live:
    """Everything the endpoint needs in one process: the Q&A service, fan-out and limits."""

    def __init__(
        self,
        settings: Settings,
        db: async_sessionmaker[AsyncSession],
        hub: Hub,
        fanout: Fanout,
        limits: Limits,
        writer: Writer,
        keepalive: Keepalive,
        reader: Writer | None = None,
    ) -> None:
        self.settings, self.db, self.hub, self.fanout, self.limits = (
            settings,
            db,
            hub,
            fanout,
            limits,
        )
        self.qa = QaService(db, hub, writer, reader)
        self.keepalive = keepalive
        self.identities = Identities(settings.secret_key)
        self._addresses: dict[str, Bucket] = {}
        self._events: dict[str, tuple[float, Event]] = {}
        self._replays: dict[tuple[str, int, int], tuple[int, str]] = {}

    def address_bucket(self, address: str) -> Bucket:
        """The shared bucket of one client address (forgotten once idle)."""
        if len(self._addresses) > 10_000:
            self._addresses = {a: b for a, b in self._addresses.items() if not b.full()}
        bucket = self._addresses.get(address)
        if bucket is None:
            bucket = self._addresses[address] = Bucket(
                self.limits.address_per_second, self.limits.address_burst
            )
        return bucket

    def replay(self, channel: str, since: int, entries: list[Entry]) -> tuple[int, str]:
        """The version and frame of one update bringing a client from `since` through
        `entries` (the channel's unbroken history after it, in version order).

        Framed once for every client that reconnects from the same version: a dropped
        crowd mostly does, and decoding, merging and encoding the history once per viewer
        made the reconnect storm of 10,000 take 8.6 s instead of 6.4-6.5 s (bench/). Each
        version has one entry per channel, so the two ends name the history.
        """
        key = (channel, since, entries[-1].v)
        found = self._replays.get(key)
        if found is None:
            if len(self._replays) >= REPLAY_CACHE_SIZE:
                self._replays.clear()
            merged = merge_updates([decode_update(e.data) for e in entries])
            found = self._replays[key] = (merged.v, encode(merged).decode())
        return found

    async def find_event(self, slug: str) -> Event | None:
        """The event with this slug, as read at most `EVENT_TTL` seconds ago."""
        now = time.monotonic()
        cached = self._events.get(slug)
        if cached is not None and now - cached[0] < EVENT_TTL:
            return cached[1]
        async with self.db() as session:
            event: Event | None = await session.scalar(select(Event).where(Event.slug == slug))
        if event is not None:
            if len(self._events) >= EVENT_CACHE_SIZE:
                self._events.clear()
            self._events[slug] = (now, event)
        return event


@asynccontextmanager
async def open_live(
    settings: Settings, db: async_sessionmaker[AsyncSession], hub: Hub, limits: Limits | None = None
) -> AsyncIterator[Live]:
    """The per-process live state for the app's lifespan (the fan-out and its rooms' ticks)."""
    tune_gc()
    async with (
        open_writer(db) as writer,
        open_reader(db) as reader,
        Fanout(hub, settings.tick_seconds, settings.tick_min_seconds) as fanout,
        Keepalive() as keepalive,
    ):
        yield Live(settings, db, hub, fanout, limits or Limits(), writer, keepalive, reader)


def tune_gc() -> None:
    """Keep the cyclic garbage collector from dominating a process that holds many sockets.

    Profiling 3,000 viewers (bench/) showed full collections taking over half of the
    server's CPU: every one walks every object of every connection plus everything the
    imports created (3,000 viewers and a reconnect storm: 20 full collections, 21 s;
    after this, 3 taking 0.5 s). Objects alive at start-up are frozen out of collections,
    and young collections run less often (each one also counts towards the next full one).
    """
    if gc.get_freeze_count() == 0:  # once per process (tests start many apps)
        gc.collect()
        gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 20)


def ws_route(
    resolve_roles: RoleResolver | None = None, path: str = "/ws/events/{slug}"
) -> WebSocketRoute:
    """The route; `resolve_roles` defaults to `live.auth.event_roles`."""
    if resolve_roles is None:
        from live.auth import event_roles

        resolve_roles = event_roles

    async def endpoint(websocket: WebSocket) -> None:
        await serve(websocket, resolve_roles)

    return WebSocketRoute(path, endpoint, name="ws_event")


async def serve(websocket: WebSocket, resolve_roles: RoleResolver) -> None:
    """Run one connection from accept to close."""
    live: Live = websocket.state.live
    event = await live.find_event(websocket.path_params["slug"])
    await websocket.accept()
    trim_accepted(websocket.scope)
    if event is None:
        await websocket.close(CloseCode.NOT_FOUND, "no such event")
        return
    roles = await resolve_roles(websocket, event)
    display = _display_key(websocket, event)
    if not event.published and Role.MODERATOR not in roles and not display:
        await websocket.close(CloseCode.NOT_FOUND, "no such event")
        return
    known = live.identities.load(websocket.query_params.get("p"))
    participant = known or live.identities.new()
    conn = Conn(
        websocket.send,
        websocket.close,
        moderator=Role.MODERATOR in roles,
        raw=raw_socket(websocket.scope),
    )
    address = websocket.client.host if websocket.client else ""
    session = Session(
        live, event.id, conn, roles, participant, address, known=bool(known), read_only=display
    )
    if live.fanout.room(event.id) is None:  # a live room means its settings row exists
        await live.qa.ensure(event.id)
    conn.begin_sync()
    session.rooms = _room_handlers(websocket, event, session)
    async with live.fanout.join(event.id, conn):
        with live.keepalive.watch(websocket.scope):
            await session.sync(_int_or_none(websocket.query_params.get("since")))
            try:
                if session.rooms is not None:
                    await session.rooms.start()  # after the snapshot, which comes first
                await session.run(websocket)
            finally:
                if session.rooms is not None:
                    await session.rooms.aclose()


def _room_handlers(websocket: WebSocket, event: Event, session: Session) -> RoomHandlers | None:
    """The group-work handlers, when the app runs group work (`state.rooms`)."""
    rooms = getattr(websocket.state, "rooms", None)
    if rooms is None:
        return None
    who = Who(session.participant.id, session.participant.name, moderator=session.moderator)
    return RoomHandlers(
        rooms.service,
        rooms.hub,
        event_id=event.id,
        slug=event.slug,
        who=who,
        send=session.conn.send,
        video=rooms.video,
        feeds=rooms.feeds,
    )


def _display_key(websocket: WebSocket, event: Event) -> bool:
    """Did the big screen present the event's display key (`?key=`)? It then only reads."""
    key = websocket.query_params.get("key", "")
    return bool(key) and hmac.compare_digest(key.encode(), event.display_token.encode())


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class Session:
    """One connection's dialogue: sync, read a message, act, reply."""

    # One per connection: no per-instance dict.
    __slots__ = (
        "actor", "address", "conn", "event_id", "known", "live", "messages", "moderator",
        "participant", "questions", "read_only", "roles", "rooms", "strikes",
    )

    def __init__(
        self,
        live: Live,
        event_id: int,
        conn: Conn,
        roles: frozenset[Role],
        participant: Participant,
        address: str,
        *,
        known: bool = True,
        read_only: bool = False,
    ) -> None:
        self.rooms: RoomHandlers | None = None
        self.live, self.event_id, self.conn, self.roles = live, event_id, conn, roles
        self.participant = participant
        # A brand-new participant has no questions or votes yet: skip looking them up.
        self.known = known
        self.moderator = Role.MODERATOR in roles
        # The display page: a public view that neither asks nor votes.
        self.read_only = read_only and not self.moderator
        self.actor = Actor(
            participant,
            moderator=self.moderator,
            label=participant.name or ("moderator" if self.moderator else ""),
        )
        limits = live.limits
        self.messages = Bucket(limits.messages_per_second, limits.message_burst)
        self.questions = Bucket(limits.questions_per_minute / 60, limits.question_burst)
        self.address = live.address_bucket(address)
        self.strikes = 0

    async def run(self, websocket: WebSocket) -> None:
        """Answer messages until the client leaves or is closed."""
        while not self.conn.closed:
            try:
                message = await websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("text") or message.get("bytes") or b""
            reply = await self.handle(data)
            self.conn.send(encode(reply).decode())
            if self.strikes > self.live.limits.strikes:
                self.conn.drop(CloseCode.FLOOD, "too many messages")

    async def handle(self, data: str | bytes) -> Ok | RoomOk | Error:
        """Decode, check and perform one client message; every error becomes an error reply."""
        message_id: int | None = None
        try:
            flooding = not (self.messages.take() and self.address.take())
            msg: ClientMessage = decode_client(data)
            message_id = msg.id
            if flooding:
                raise TooMany("Too many messages; slow down.")
            if isinstance(msg, ROOM_MESSAGES):
                return await self._room(msg)
            if isinstance(msg, MODERATOR_MESSAGES) and not self.moderator:
                raise Forbidden("Only moderators may do this.")
            if self.read_only and isinstance(msg, Ask | Vote | Unvote):
                raise Forbidden("The display only reads.")
            return await HANDLERS[type(msg)](self, msg)
        except ProtocolError as exc:
            self.strikes += 1
            return Error(id=exc.message_id, code=exc.code, message=exc.message)
        except SalenError as exc:
            if isinstance(exc, TooMany):
                self.strikes += 1
            return Error(id=message_id, code=exc.code, message=exc.message, fields=exc.fields)
        except Exception:
            log.exception("message %s on event %s failed", message_id, self.event_id)
            return Error(id=message_id, code="internal", message="Something went wrong.")

    async def sync(self, since: int | None) -> None:
        """Bring the connection up to date: a replay when it missed little, else a snapshot."""
        self.conn.begin_sync()
        if since is not None and await self._replay(since):
            return
        snapshot = await self.live.qa.snapshot(
            self.event_id,
            moderator=self.moderator,
            participant=self.participant if self.known else None,
        )
        snapshot.you = You(
            participant=self.live.identities.token(self.participant),
            roles=sorted(self.roles),
            name=self.participant.name,
        )
        self.conn.synced(snapshot.v, encode(snapshot).decode())

    async def _current(self) -> int:
        """The newest version of this connection's channel (the room's, once it knows)."""
        room = None if self.moderator else self.live.fanout.room(self.event_id)
        if room is not None and room.public_v is not None:
            return room.public_v
        current = await self.live.qa.version(self.event_id, moderator=self.moderator)
        if room is not None and self.live.fanout.room(self.event_id) is room:
            room.known_public(current)
        return current

    async def _replay(self, since: int) -> bool:
        current = await self._current()
        if since > current:
            return False  # a version from another database, or from before a reset
        if since == current:
            self.conn.synced(since, encode(Update(v=since)).decode())
            return True
        channel = (mod_channel if self.moderator else public_channel)(self.event_id)
        entries = await self.live.hub.history(channel, since)
        if not entries or entries[-1].v < current:
            return False
        self.conn.synced(*self.live.replay(channel, since, entries))
        return True

    # --- handlers, one per message type ---------------------------------------------------

    async def _room(self, msg: RoomMessage) -> RoomOk:
        if self.rooms is None:
            raise NotFound("This event has no group work.", code="rooms.no_session")
        return await self.rooms.handle(msg)

    async def _ping(self, msg: Ping) -> Ok:
        return Ok(id=msg.id)

    async def _resync(self, msg: Resync) -> Ok:
        await self.sync(msg.since)
        return Ok(id=msg.id)

    async def _ask(self, msg: Ask) -> Ok:
        if not self.moderator and not self.questions.take():
            self.strikes += 5
            raise TooMany("Too many questions; wait a minute.", code="qa.rate_limited")
        self.known = True
        question = await self.live.qa.ask(self.event_id, self.actor, msg)
        return Ok(id=msg.id, question=question)

    async def _vote(self, msg: Vote | Unvote) -> Ok:
        self.known = True
        await self.live.qa.vote(self.event_id, self.actor, msg.question, up=isinstance(msg, Vote))
        return Ok(id=msg.id)

    async def _moderate(self, msg: Approve | Reject | Edit | Merge) -> Ok:
        question = await self.live.qa.moderate(self.event_id, self.actor, msg)
        return Ok(id=msg.id, question=question)

    async def _panel(self, msg: Enqueue | Dequeue | Move | Now | Done) -> Ok:
        panel = await self.live.qa.panel(self.event_id, self.actor, msg)
        return Ok(id=msg.id, panel=panel)

    async def _configure(self, msg: Configure) -> Ok:
        await self.live.qa.configure(self.event_id, self.actor, msg)
        return Ok(id=msg.id)


# The handler of each Q&A message type: one table for the process (thousands of sessions
# each holding a dict of bound methods cost memory for nothing).
HANDLERS: dict[type[Any], Callable[[Session, Any], Awaitable[Ok]]] = {
    Ping: Session._ping,
    Resync: Session._resync,
    Ask: Session._ask,
    Vote: Session._vote,
    Unvote: Session._vote,
    Approve: Session._moderate,
    Reject: Session._moderate,
    Edit: Session._moderate,
    Merge: Session._moderate,
    Enqueue: Session._panel,
    Dequeue: Session._panel,
    Move: Session._panel,
    Now: Session._panel,
    Done: Session._panel,
    Configure: Session._configure,
}
