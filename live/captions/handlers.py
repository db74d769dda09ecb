"""Live captions on the live socket: the captioner's two messages, and each client's snapshot.

`CaptionsFeature` is what `live/lifespan.py` registers with the endpoint
(`live.realtime.connection`). Only a captioner (the event's captioner link exchanged for
the session, `live.auth.is_captioner`) or an organiser may send `captions.type` and
`captions.line`; anyone else gets `forbidden`. The handlers check this themselves, so the
routes are open to read-only connections: a captioner on an event not yet published
connects read-only (rehearsing: no questions, no votes) and still captions. A
captioner's connection made through the link is enlisted with the service, which ends it
when the organiser replaces the link (`CaptionService.replace_key`). Every connection gets
the recent lines as a `captions` snapshot once its first frame is out; after that,
captions reach it in the fan-out's ticks (`live.captions.feed`). Partial updates and lines
are limited per connection (`Limits.captions_per_second`) beyond the socket's general
flood limits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from live.captions.messages import Commit, CommitOk, Type, TypeOk
from live.captions.service import CaptionService
from live.errors import Forbidden, TooMany
from live.models import Role
from live.models.base import utcnow
from live.realtime.connection import Feature, Session
from live.realtime.dispatch import Route, route
from live.realtime.envelope import CloseCode
from live.realtime.limits import Bucket
from live.realtime.sides import Side


class CaptionConn:
    """One connection's part in the captions: may it caption, and its line's first keystroke."""

    __slots__ = ("bucket", "captioner", "name", "service", "session", "started_at", "who")

    def __init__(self, service: CaptionService, session: Session) -> None:
        self.service, self.session = service, session
        self.captioner = bool({Role.CAPTIONER, Role.ORGANISER} & session.roles)
        self.started_at: dt.datetime | None = None
        # The name of a partial line this connection left showing (None: nothing showing).
        self.name: str | None = None
        # What only a captioner uses is made for captioners alone (one per viewer adds up):
        # `who` tells their partial lines apart without showing their participant id.
        self.who = ""
        self.bucket: Bucket | None = None
        if self.captioner:
            self.who = hashlib.sha256(session.participant.id.encode()).hexdigest()[:12]
            limits = session.live.limits
            self.bucket = Bucket(limits.captions_per_second, limits.captions_burst)

    def _check(self) -> None:
        if not self.captioner or self.bucket is None:
            raise Forbidden("Only the event's captioners may write captions.")
        if not self.bucket.take():
            raise TooMany("Too many caption updates; slow down.", code="captions.rate_limited")

    async def typing(self, msg: Type) -> TypeOk:
        self._check()
        if msg.text.strip():
            self.started_at = self.started_at or utcnow()
            self.name = msg.name
        else:
            self.started_at = self.name = None
        await self.service.typing(self.session.event_id, self.who, msg.name, msg.text)
        return TypeOk(id=msg.id, who=self.who)

    async def commit(self, msg: Commit) -> CommitOk:
        self._check()
        lines = await self.service.commit(
            self.session.event_id, self.who, msg.name, msg.key, msg.text, self.started_at)
        self.started_at = self.name = None
        return CommitOk(id=msg.id, lines=lines)


class CaptionsFeature(Feature[CaptionConn]):
    """Live captions: the captioner's messages, and the snapshot every connection gets."""

    def __init__(self, service: CaptionService) -> None:
        self.service = service

    def routes(self) -> Sequence[Route[CaptionConn]]:
        return (
            route(Type, CaptionConn.typing),
            route(Commit, CaptionConn.commit),
        )

    def side(self) -> Side:
        return self.service

    async def open(self, session: Session) -> CaptionConn:
        state = CaptionConn(self.service, session)
        if Role.CAPTIONER in session.roles and Role.ORGANISER not in session.roles:
            await self._enlist(state)
        return state

    async def _enlist(self, state: CaptionConn) -> None:
        """Enlist a captioner by link, unless the link was replaced since the event row the
        roles were resolved against was read (the socket caches it a moment): then it may not
        caption, and on an event it could not see otherwise it is closed."""
        session = state.session
        event = await session.live.find_event(session.slug)
        key = await self.service.current_key(session.event_id)
        if event is not None and key == event.captions_token:
            self.service.enlist(session.event_id, session.conn, key)
            return
        state.captioner = False
        if event is None or not event.published:
            session.conn.drop(CloseCode.KEY_REPLACED, "the captioner link was replaced")

    async def close(self, state: CaptionConn) -> None:
        """A captioner who leaves mid-line: their partial line leaves viewers' screens."""
        self.service.discharge(state.session.event_id, state.session.conn)
        if state.name is not None:
            await self.service.typing(state.session.event_id, state.who, state.name, "")

    async def start(self, state: CaptionConn) -> None:
        first = await self.service.snapshot(state.session.event_id)
        if first is not None:
            state.session.conn.send(first)
