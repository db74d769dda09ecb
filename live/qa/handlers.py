"""The Q&A on the live socket: one handler per client message type, and the first frame.

`QaFeature` is what `live/app.py` registers with the endpoint (`live.realtime.connection`):
its routes send each Q&A message (`live.qa.messages`) to the handler for its type,
which calls the service and returns a `QaOk`; errors are raised as `SalenError`s and the
dispatcher turns them into `error` replies. The service takes the event's write lock
itself, and the display may not ask or vote (`writes`). The feature also sends each
connection its first frame: a replay of what it missed since `?since=V` when the hub still
holds it, else a snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence

from live.errors import TooMany
from live.qa.messages import (
    Approve,
    Ask,
    Configure,
    Dequeue,
    Done,
    Edit,
    Enqueue,
    Merge,
    Move,
    Now,
    QaOk,
    Reject,
    Unvote,
    Update,
    Vote,
    You,
    coalesce,
    encode,
)
from live.qa.service import Actor, QaService
from live.realtime.channels import qa_mod_channel, qa_public_channel
from live.realtime.connection import Feature, Session
from live.realtime.dispatch import Route, route


class QaConn:
    """One connection's part in the Q&A: who acts, on which connection."""

    # One per connection: no per-instance dict.
    __slots__ = ("actor", "qa", "session")

    def __init__(self, qa: QaService, session: Session) -> None:
        self.qa, self.session = qa, session
        moderator = session.moderator
        participant = session.participant
        self.actor = Actor(
            participant,
            moderator=moderator,
            label=participant.name,
        )

    # --- one handler per message type ----------------------------------------------------

    async def ask(self, msg: Ask) -> QaOk:
        session = self.session
        # Counted per participant over all their connections (live.realtime.limits.Actions).
        if not session.moderator and not await session.live.actions.ask(session):
            session.strikes += 5
            raise TooMany("Too many questions; wait a minute.", code="qa.rate_limited")
        session.known = True
        question = await self.qa.ask(session.event_id, self.actor, msg)
        return QaOk(id=msg.id, question=question)

    async def _check_vote(self) -> None:
        session = self.session
        if not session.moderator and not await session.live.actions.vote(session):
            raise TooMany("Too many votes; wait a minute.", code="qa.rate_limited")
        session.known = True

    async def vote(self, msg: Vote) -> QaOk:
        await self._check_vote()
        await self.qa.vote(self.session.event_id, self.actor, msg.question, up=True, key=msg.key)
        return QaOk(id=msg.id)

    async def unvote(self, msg: Unvote) -> QaOk:
        await self._check_vote()
        await self.qa.vote(self.session.event_id, self.actor, msg.question, up=False,
                           key=msg.key)
        return QaOk(id=msg.id)

    async def approve(self, msg: Approve) -> QaOk:
        view = await self.qa.moderate(self.session.event_id, self.actor, msg)
        return QaOk(id=msg.id, question=view)

    async def reject(self, msg: Reject) -> QaOk:
        view = await self.qa.moderate(self.session.event_id, self.actor, msg)
        return QaOk(id=msg.id, question=view)

    async def edit(self, msg: Edit) -> QaOk:
        view = await self.qa.moderate(self.session.event_id, self.actor, msg)
        return QaOk(id=msg.id, question=view)

    async def merge(self, msg: Merge) -> QaOk:
        view = await self.qa.moderate(self.session.event_id, self.actor, msg)
        return QaOk(id=msg.id, question=view)

    async def enqueue(self, msg: Enqueue) -> QaOk:
        panel = await self.qa.panel(self.session.event_id, self.actor, msg)
        return QaOk(id=msg.id, panel=panel)

    async def dequeue(self, msg: Dequeue) -> QaOk:
        panel = await self.qa.panel(self.session.event_id, self.actor, msg)
        return QaOk(id=msg.id, panel=panel)

    async def move(self, msg: Move) -> QaOk:
        panel = await self.qa.panel(self.session.event_id, self.actor, msg)
        return QaOk(id=msg.id, panel=panel)

    async def now(self, msg: Now) -> QaOk:
        panel = await self.qa.panel(self.session.event_id, self.actor, msg)
        return QaOk(id=msg.id, panel=panel)

    async def done(self, msg: Done) -> QaOk:
        panel = await self.qa.panel(self.session.event_id, self.actor, msg)
        return QaOk(id=msg.id, panel=panel)

    async def configure(self, msg: Configure) -> QaOk:
        await self.qa.configure(self.session.event_id, self.actor, msg)
        return QaOk(id=msg.id)

    # --- the first frame -----------------------------------------------------------------

    async def sync(self, since: int | None) -> None:
        """Bring the connection up to date: a replay when it missed little, else a snapshot."""
        session = self.session
        if since is not None and await self._replay(since):
            return
        snapshot = await self.qa.snapshot(
            session.event_id,
            moderator=session.moderator,
            participant=session.participant if session.known else None,
        )
        snapshot.you = You(
            participant=session.live.identities.token(session.participant),
            roles=sorted(session.roles),
            name=session.participant.name,
        )
        session.conn.synced(snapshot.v, encode(snapshot).decode())

    async def _current(self) -> int:
        """The newest version of this connection's channel (the room's, once it knows)."""
        session = self.session
        fanout = session.live.fanout
        room = None if session.moderator else fanout.room(session.event_id)
        if room is not None and room.public_v is not None:
            return room.public_v
        current = await self.qa.version(session.event_id, moderator=session.moderator)
        if room is not None and fanout.room(session.event_id) is room:
            room.known_public(current)
        return current

    async def _replay(self, since: int) -> bool:
        session = self.session
        current = await self._current()
        if since > current:
            return False  # a version from another database, or from before a reset
        if since == current:
            session.conn.synced(since, encode(Update(v=since)).decode())
            return True
        channel = (qa_mod_channel if session.moderator else qa_public_channel)(session.event_id)
        entries = await session.live.hub.history(channel, since)
        if not entries or entries[-1].v < current:
            return False
        session.conn.synced(*session.live.replay(channel, since, entries))
        return True


class QaFeature(Feature[QaConn]):
    """The Q&A's routes and hooks on the live socket, for one process."""

    syncs = True

    def __init__(self, qa: QaService) -> None:
        self.qa = qa

    def coalesce(self, notices: Sequence[bytes]) -> str:
        """Several Q&A updates as one `update` frame (`live.qa.messages.coalesce`)."""
        return coalesce(notices)

    async def catch_up(
        self, event_id: int, since: int | None, moderator: bool
    ) -> tuple[int, str | None]:
        """What the event's channel missed after `since`, from the database (the fan-out
        asks when its hub subscription is live again)."""
        v, update = await self.qa.catch_up(event_id, since, moderator=moderator)
        return v, None if update is None else encode(update).decode()

    def routes(self) -> Sequence[Route[QaConn]]:
        # Every Q&A write runs under the event's write lock; the display may not ask or vote.
        return (
            route(Ask, QaConn.ask, writes=True),
            route(Vote, QaConn.vote, writes=True),
            route(Unvote, QaConn.unvote, writes=True),
            route(Approve, QaConn.approve, moderator=True),
            route(Reject, QaConn.reject, moderator=True),
            route(Edit, QaConn.edit, moderator=True),
            route(Merge, QaConn.merge, moderator=True),
            route(Enqueue, QaConn.enqueue, moderator=True),
            route(Dequeue, QaConn.dequeue, moderator=True),
            route(Move, QaConn.move, moderator=True),
            route(Now, QaConn.now, moderator=True),
            route(Done, QaConn.done, moderator=True),
            route(Configure, QaConn.configure, moderator=True),
        )

    async def open(self, session: Session) -> QaConn:
        if session.live.fanout.room(session.event_id) is None:
            await self.qa.ensure(session.event_id)  # a live room means its settings row exists
        return QaConn(self.qa, session)

    async def sync(self, state: QaConn, since: int | None) -> None:
        await state.sync(since)
