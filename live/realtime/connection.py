"""The WebSocket endpoint `/ws/events/{slug}`: accept, sync, then one message at a time.

On connect the feature that syncs (the Q&A) sends the first frame: a `snapshot`, or with
`?since=V` a replay of what was missed. Then each client message is handed to the
dispatcher (`live.realtime.dispatch`), which sends its one reply. Features take part
through `Feature`: their message routes, a state per connection, and hooks around it;
`live/app.py` registers them (`open_live(..., features=[...])`), so nothing here names one.
"""

from __future__ import annotations

import contextlib
import gc
import hmac
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, asynccontextmanager
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from live.bounds import parse_int
from live.db import is_unavailable
from live.hub import Entry, Hub
from live.identity import Identities, Participant
from live.models import Event, Role
from live.ratelimit import Limiter
from live.realtime.conn import Conn
from live.realtime.dispatch import Dispatcher, Route, route
from live.realtime.envelope import CloseCode, Ok, Ping, Resync
from live.realtime.fanout import Fanout
from live.realtime.limits import Actions, AddressBuckets, Bucket, Limits
from live.realtime.origin import same_site, without_cookie_session
from live.realtime.rawframes import raw_socket
from live.realtime.sides import Side
from live.settings import Settings

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
S = TypeVar("S")


class Feature(Generic[S]):
    """A feature's part in every connection to an event.

    `routes()` names its client message types and their handlers (`dispatch.route`); each
    handler gets the state `open` made for the connection. The one feature that `syncs`
    sends the connection's first frame on connect and on `resync`.
    """

    syncs = False

    def routes(self) -> Sequence[Route[S]]:
        """The feature's message types and their handlers."""
        return ()

    async def open(self, session: Session) -> S:
        """This feature's state for a new connection (before it joins the fan-out)."""
        raise NotImplementedError

    async def sync(self, state: S, since: int | None) -> None:
        """Send the first frame (`Conn.synced`): a replay from `since`, or a snapshot."""

    def side(self) -> Side | None:
        """The feature's own per-event channel whose notices ride the viewers' ticks."""
        return None

    def coalesce(self, notices: Sequence[bytes]) -> str:
        """Several of the syncing feature's hub notices as the text of one frame."""
        raise NotImplementedError(f"{type(self).__name__} sends no notices to viewers")

    async def catch_up(
        self, event_id: int, since: int | None, moderator: bool
    ) -> tuple[int, str | None]:
        """The syncing feature's newest version for the event's channel and, when `since` is
        older, one notice's text of every change after it (`live.realtime.fanout.CatchUp`)."""
        return 0, None

    async def start(self, state: S) -> None:
        """The connection is synced: begin its own pushes."""

    async def close(self, state: S) -> None:
        """The connection is going away."""


class Live:
    """Everything the endpoint needs in one process: fan-out, features, limits, caches."""

    def __init__(
        self,
        settings: Settings,
        db: async_sessionmaker[AsyncSession],
        hub: Hub,
        fanout: Fanout,
        limits: Limits,
        features: Sequence[Feature[Any]] = (),
        limiter: Limiter | None = None,
    ) -> None:
        self.settings, self.db, self.hub, self.fanout = settings, db, hub, fanout
        self.limits = limits
        # Questions and votes per participant, over connections (and processes with Redis).
        self.actions = Actions(limiter or Limiter(), limits)
        self.identities = Identities(settings.secret_key)
        self.addresses = AddressBuckets(limits)
        self.dispatcher = Dispatcher(limits.strikes)
        self.features: list[Feature[Any]] = []
        self.syncer: int | None = None
        self._events: dict[str, tuple[float, Event]] = {}
        self._replays: dict[tuple[str, int, int], tuple[int, str]] = {}
        # Counts a connection (event slug, role) while it is open: the app's metrics.
        self.counted: Callable[[str, str], AbstractContextManager[None]] = _uncounted
        for feature in (CORE, *features):
            self.add(feature)

    def add(self, feature: Feature[Any]) -> None:
        """Register a feature: its routes, its state in every new connection, its hooks."""
        slot = len(self.features)
        if feature.syncs:
            if self.syncer is not None:
                raise ValueError("only one feature may send the first frame")
            self.syncer = slot
        self.features.append(feature)
        self.dispatcher.register(slot, feature.routes())

    def replay(self, channel: str, since: int, entries: list[Entry]) -> tuple[int, str]:
        """The version and frame of one update bringing a client from `since` through
        `entries` (the channel's unbroken history after it, in version order).

        Framed once for every client that reconnects from the same version (a dropped
        crowd mostly does), not decoded, merged and encoded once per viewer. Each version
        has one entry per channel, so the two ends name the history.
        """
        key = (channel, since, entries[-1].v)
        found = self._replays.get(key)
        if found is None:
            if len(self._replays) >= REPLAY_CACHE_SIZE:
                self._replays.clear()
            text = self.fanout.coalesce([e.data for e in entries])
            found = self._replays[key] = (max(e.v for e in entries), text)
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
    settings: Settings,
    db: async_sessionmaker[AsyncSession],
    hub: Hub,
    features: Sequence[Feature[Any]] = (),
    limits: Limits | None = None,
    limiter: Limiter | None = None,
) -> AsyncIterator[Live]:
    """The per-process live state for the app's lifespan (the fan-out and its rooms' ticks).

    `limiter` counts questions and votes; without one, a limiter of its own is opened on
    the hub's Redis (when it has one) and closed at the end.
    """
    tune_gc()
    syncer = next((f for f in features if f.syncs), Feature())
    own = Limiter.for_hub(settings.hub_url) if limiter is None else None
    try:
        sides = [side for f in features if (side := f.side()) is not None]
        async with Fanout(
            hub, syncer.coalesce, settings.tick_seconds, settings.tick_min_seconds,
            settings.live_latency_target_ms / 1000,
            catch_up=syncer.catch_up if syncer.syncs else None, sides=sides,
        ) as fanout:
            yield Live(settings, db, hub, fanout, limits or Limits(), features, limiter or own)
    finally:
        if own is not None:
            await own.aclose()


def tune_gc() -> None:
    """Keep the cyclic garbage collector from dominating a process that holds many sockets.

    Every full collection walks every object of every connection plus everything the
    imports created. Objects alive at start-up are frozen out of collections, and young
    collections run less often (each one also counts towards the next full one).
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
    """Run one connection from accept to close; a database that refuses for now closes it
    with `CloseCode.TRY_AGAIN` (the client reconnects), logged in one line."""
    try:
        await _serve(websocket, resolve_roles)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        live: Live = websocket.state.live
        live.dispatcher.unforeseen.warning(exc, "connecting: database unavailable")
        with contextlib.suppress(Exception):
            await websocket.close(CloseCode.TRY_AGAIN, "try again later")


async def _serve(websocket: WebSocket, resolve_roles: RoleResolver) -> None:
    live: Live = websocket.state.live
    event = await live.find_event(websocket.path_params["slug"])
    await websocket.accept()
    if event is None:
        await websocket.close(CloseCode.NOT_FOUND, "no such event")
        return
    if not same_site(websocket, live.settings.base_url):
        without_cookie_session(websocket)  # a cross-site socket: no role from the cookie
    roles = await resolve_roles(websocket, event)
    display = _display_key(websocket, event)
    # A captioner rehearses before the event is published: connected, but only to caption.
    rehearsing = not event.published and Role.CAPTIONER in roles
    if not event.published and Role.MODERATOR not in roles and not display and not rehearsing:
        await websocket.close(CloseCode.NOT_FOUND, "no such event")
        return
    known = live.identities.load(websocket.query_params.get("p"))
    conn = Conn(
        websocket.send,
        websocket.close,
        moderator=Role.MODERATOR in roles,
        raw=raw_socket(websocket.scope),
    )
    address = websocket.client.host if websocket.client else ""
    session = Session(
        live, event, conn, roles, known or live.identities.new(), address,
        known=bool(known), read_only=display or rehearsing,
    )
    await session.open()
    conn.begin_sync()
    role = "moderator" if session.moderator else "display" if session.read_only else "viewer"
    with live.counted(event.slug, role):
        room = await live.fanout.enter(event.id, conn)
        try:
            await session.sync(_int_or_none(websocket.query_params.get("since")))
            try:
                await session.start()
                await session.run(websocket)
            finally:
                await session.close()
        finally:
            await live.fanout.leave(room, conn)


def _uncounted(slug: str, role: str) -> AbstractContextManager[None]:
    return contextlib.nullcontext()


def _display_key(websocket: WebSocket, event: Event) -> bool:
    """Did the big screen present the event's display key (`?key=`)? It then only reads."""
    key = websocket.query_params.get("key", "")
    return bool(key) and hmac.compare_digest(key.encode(), event.display_token.encode())


def _int_or_none(value: str | None) -> int | None:
    number = parse_int(value)
    return number if number is not None and number >= 0 else None


class Session:
    """One connection's dialogue: who it is, its limits, and each feature's state for it."""

    # One per connection: no per-instance dict.
    __slots__ = (
        "address", "conn", "event_id", "host", "known", "live", "messages", "moderator",
        "participant", "read_only", "roles", "slug", "states", "strikes",
    )

    def __init__(
        self,
        live: Live,
        event: Event,
        conn: Conn,
        roles: frozenset[Role],
        participant: Participant,
        address: str,
        *,
        known: bool = True,
        read_only: bool = False,
    ) -> None:
        self.live, self.event_id, self.slug = live, event.id, event.slug
        self.conn, self.roles, self.participant = conn, roles, participant
        # A brand-new participant has no questions or votes yet: skip looking them up.
        self.known = known
        self.moderator = Role.MODERATOR in roles
        # The display page: a public view that neither asks nor votes.
        self.read_only = read_only and not self.moderator
        limits = live.limits
        self.messages = Bucket(limits.messages_per_second, limits.message_burst)
        self.address = live.addresses.bucket(address)
        self.host = address
        self.strikes = 0
        self.states: list[Any] = []

    async def open(self) -> None:
        """Make each feature's state for this connection."""
        self.states = [await feature.open(self) for feature in self.live.features]

    async def sync(self, since: int | None) -> None:
        """Bring the connection up to date: a replay when it missed little, else a snapshot."""
        self.conn.begin_sync()
        slot = self.live.syncer
        if slot is None:
            self.conn.synced(0, None)
        else:
            await self.live.features[slot].sync(self.states[slot], since)

    async def start(self) -> None:
        """The first frame is out: let the features push."""
        for feature, state in zip(self.live.features, self.states, strict=True):
            await feature.start(state)

    async def close(self) -> None:
        """Let the features let go of the connection."""
        for feature, state in zip(self.live.features, self.states, strict=True):
            await feature.close(state)

    async def run(self, websocket: WebSocket) -> None:
        """Answer messages until the client leaves or is closed."""
        dispatcher = self.live.dispatcher
        while not self.conn.closed:
            try:
                message = await websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if message["type"] == "websocket.disconnect":
                return
            await dispatcher.answer(self, message.get("text") or message.get("bytes") or b"")


class Core(Feature[Session]):
    """The connection's own messages: `ping` and `resync`."""

    def routes(self) -> Sequence[Route[Session]]:
        return (route(Ping, self.ping), route(Resync, self.resync))

    async def open(self, session: Session) -> Session:
        return session

    @staticmethod
    async def ping(session: Session, msg: Ping) -> Ok:
        return Ok(id=msg.id)

    @staticmethod
    async def resync(session: Session, msg: Resync) -> Ok:
        await session.sync(msg.since)
        return Ok(id=msg.id)


CORE = Core()
