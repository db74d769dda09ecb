"""One client message in, one reply out: decode, look up the handler by type, answer.

Features register a `Route` per client message type (a struct deriving from
`live.realtime.envelope.Envelope`): the handler takes the connection's state for that
feature and the typed message, and returns an `Ok`. The decoder's tagged union is built
from the registered types, so a feature adds a message type by registering it; nothing
here names a feature. A route's flags say who may send it (`moderator`) and whether the
read-only display is refused it (`writes`); a feature orders its own writes.

`Dispatcher.handle` is the one place where errors become `error` replies: a `SalenError`
raised by a handler becomes its code and message, a database that is locked or unreachable
`unavailable` (`live.db.is_unavailable`), anything else `internal`, logged once per kind a
minute (`live.unforeseen`), never once per frame. Refused messages count as
strikes: frames that are not a valid message (too large, too deep, bad JSON, out of
range), messages over the flood limits, a viewer's moderator actions and values a handler
refuses as invalid; `answer` closes a connection with `CloseCode.FLOOD` once it has more
than its limit. A lost race (`conflict`, `not_found`) is no strike.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, Protocol, TypeVar

from live.db import is_unavailable
from live.errors import BadRequest, Forbidden, Invalid, SalenError, TooMany, database_unavailable
from live.realtime.conn import Conn
from live.realtime.envelope import CloseCode, Decoder, Envelope, Error, Ok, ProtocolError, encode
from live.realtime.limits import Bucket
from live.unforeseen import UnforeseenLog

# Told of every routed message: its type's tag, the handler's seconds, whether it went well.
Observer = Callable[[str, float, bool], None]
log = logging.getLogger(__name__)

# Refusals that say the client sent what it should not have: each is a strike.
STRIKES = (BadRequest, Forbidden, Invalid, TooMany)

S = TypeVar("S")
M = TypeVar("M", bound=Envelope)


@dataclasses.dataclass(frozen=True, slots=True)
class Route(Generic[S]):
    """How one client message type is handled, and who may send it."""

    type: type[Envelope]
    handler: Callable[[S, Any], Awaitable[Ok]]
    # Only moderators may send it.
    moderator: bool = False
    # It changes something: the read-only display (`?key=`) may not send it.
    writes: bool = False


def route(
    message: type[M],
    handler: Callable[[S, M], Awaitable[Ok]],
    *,
    moderator: bool = False,
    writes: bool = False,
) -> Route[S]:
    """The route of `message` to `handler(state, message)` (typed: the handler gets an `M`)."""
    return Route(message, handler, moderator=moderator, writes=writes)


class Caller(Protocol):
    """One connection as the dispatcher sees it (`live.realtime.connection.Session`)."""

    moderator: bool
    read_only: bool
    strikes: int
    event_id: int
    messages: Bucket
    address: Bucket
    # Each registered feature's state for this connection, by the feature's slot.
    states: list[Any]

    conn: Conn


class Dispatcher:
    """The routes of every registered message type, and the decoder of their union."""

    def __init__(self, max_strikes: int) -> None:
        self.max_strikes = max_strikes
        self._routes: dict[type[Envelope], tuple[int, Route[Any]]] = {}
        self._decoder: Decoder | None = None
        self.unforeseen = UnforeseenLog(log)
        self.observe: Observer | None = None  # the app's metrics (`live.ops.metrics`)

    def register(self, slot: int, routes: Iterable[Route[Any]]) -> None:
        """Route each message type to its handler, which gets the state in `slot`."""
        for entry in routes:
            if entry.type in self._routes:
                raise ValueError(f"{entry.type.__name__} is routed twice")
            self._routes[entry.type] = (slot, entry)
        self._decoder = None

    @property
    def decoder(self) -> Decoder:
        """The decoder of every registered type (built once they are all registered)."""
        if self._decoder is None:
            self._decoder = Decoder(self._routes)
        return self._decoder

    async def answer(self, caller: Caller, data: str | bytes) -> None:
        """Handle one frame, send its reply, and close a connection that keeps flooding."""
        reply = await self.handle(caller, data)
        caller.conn.send(encode(reply).decode())
        if caller.strikes > self.max_strikes:
            caller.conn.drop(CloseCode.FLOOD, "too many messages")

    async def handle(self, caller: Caller, data: str | bytes) -> Ok | Error:
        """Decode, check and perform one client message; every error becomes an error reply."""
        message_id: int | None = None
        try:
            flooding = not (caller.messages.take() and caller.address.take())
            msg = self.decoder.decode(data)
            message_id = msg.id
            if flooding:
                raise TooMany("Too many messages; slow down.")
            slot, found = self._routes[type(msg)]
            if found.moderator and not caller.moderator:
                raise Forbidden("Only moderators may do this.")
            if found.writes and caller.read_only:
                raise Forbidden("The display only reads.")
            return await self._perform(found, caller.states[slot], msg)
        except ProtocolError as exc:
            caller.strikes += 1
            return Error(id=exc.message_id, code=exc.code, message=exc.message)
        except SalenError as exc:
            if isinstance(exc, STRIKES):
                caller.strikes += 1
            return Error(id=message_id, code=exc.code, message=exc.message, fields=exc.fields)
        except Exception as exc:  # noqa: BLE001  (logged by UnforeseenLog, once per kind)
            if is_unavailable(exc):  # the database refuses for now: the client tries again
                self.unforeseen.warning(exc, "event %s: database unavailable", caller.event_id)
                error = database_unavailable()
                return Error(id=message_id, code=error.code, message=error.message)
            self.unforeseen.exception(
                exc, "message %s on event %s failed", message_id, caller.event_id
            )
            return Error(id=message_id, code="internal", message="Something went wrong.")

    async def _perform(self, found: Route[Any], state: Any, msg: Envelope) -> Ok:
        if self.observe is None:
            return await found.handler(state, msg)
        began, ok = time.perf_counter(), False
        try:
            reply = await found.handler(state, msg)
            ok = True
            return reply
        finally:
            self.observe(str(found.type.__struct_config__.tag), time.perf_counter() - began, ok)
