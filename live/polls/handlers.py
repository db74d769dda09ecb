"""Polls on the live socket: one handler per client message type, and the polls' pushes.

`PollsFeature` is what the lifespan registers with the endpoint (`live.realtime.connection`)
beside the Q&A. Its routes send each poll message (`live.polls.messages`) to its handler,
which calls the service and returns a `PollOk`; errors are raised as `SalenError`s and the
dispatcher turns them into `error` replies. Pushes go through the polls' own fan-out
(`live.polls.runtime`): each connection joins it with a twin of its `Conn` once the Q&A's
first frame is out, then gets a `polls` snapshot, then `polls.update`s (viewers in ticks,
moderators at once).
"""

from __future__ import annotations

from collections.abc import Sequence

from live.errors import TooMany
from live.polls.domain import Answer, Spec
from live.polls.messages import (
    AnswerPoll,
    Block,
    Close,
    CreatePoll,
    Forward,
    Hide,
    Launch,
    Moderate,
    PollOk,
    Reveal,
)
from live.polls.runtime import Polls
from live.qa.service import Actor
from live.realtime.connection import Feature, Session
from live.realtime.dispatch import Route, route
from live.realtime.envelope import encode
from live.realtime.fanout import Room


class PollConn:
    """One connection's part in the polls: who acts, and its place in the polls' fan-out."""

    __slots__ = ("actor", "conn", "polls", "room", "session")

    def __init__(self, polls: Polls, session: Session) -> None:
        self.polls, self.session = polls, session
        self.conn = session.conn.twin()
        self.room: Room | None = None  # the polls' fan-out room, once joined
        participant = session.participant
        self.actor = Actor(
            participant,
            moderator=session.moderator,
            label=participant.name or ("moderator" if session.moderator else ""),
        )

    # --- one handler per message type ----------------------------------------------------

    async def answer(self, msg: AnswerPoll) -> PollOk:
        session = self.session
        # Counted per participant over all their connections, with the Q&A's votes.
        if not session.moderator and not await session.live.actions.vote(session):
            raise TooMany("Too many answers; wait a minute.", code="poll.rate_limited")
        session.known = True
        answer = Answer(
            choices=tuple(msg.choices), rating=msg.rating, words=tuple(msg.words),
            text=msg.text, ranking=tuple(msg.ranking),
        )
        stored = await self.polls.service.answer(
            session.event_id, self.actor, msg.poll, answer, name=msg.name, key=msg.key)
        return PollOk(id=msg.id, mine=stored)

    async def create(self, msg: CreatePoll) -> PollOk:
        spec = Spec(
            kind=msg.kind, question=msg.question, options=tuple(msg.options),
            max_choices=msg.max_choices, scale=msg.scale, anonymous=msg.anonymous,
            final=msg.final, moderated=msg.moderated, duration=msg.duration or None,
        )
        view = await self.polls.service.create(
            self.session.event_id, self.actor, spec, item=msg.item, launch=msg.launch)
        return PollOk(id=msg.id, poll=view)

    async def launch(self, msg: Launch) -> PollOk:
        return await self._step(msg.id, msg.poll, "launch")

    async def close(self, msg: Close) -> PollOk:
        return await self._step(msg.id, msg.poll, "close")

    async def reveal(self, msg: Reveal) -> PollOk:
        return await self._step(msg.id, msg.poll, "reveal")

    async def hide(self, msg: Hide) -> PollOk:
        return await self._step(msg.id, msg.poll, "hide")

    async def _step(self, message_id: int, poll_id: int, step: str) -> PollOk:
        view = await self.polls.service.step(
            self.session.event_id, self.actor, poll_id, step)  # type: ignore[arg-type]
        return PollOk(id=message_id, poll=view)

    async def moderate(self, msg: Moderate) -> PollOk:
        view = await self.polls.service.moderate(
            self.session.event_id, self.actor, msg.poll, msg.answer, msg.action)
        return PollOk(id=msg.id, poll=view)

    async def forward(self, msg: Forward) -> PollOk:
        await self.polls.service.forward(self.session.event_id, self.actor, msg.poll, msg.answer)
        return PollOk(id=msg.id)

    async def block(self, msg: Block) -> PollOk:
        await self.polls.service.block(self.session.event_id, self.actor, msg.words)
        return PollOk(id=msg.id)

    # --- pushes ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Join the polls' fan-out, then send the `polls` snapshot (pushes wait for it)."""
        session, conn = self.session, self.conn
        conn.begin_sync()
        room = self.room = await self.polls.fanout.enter(session.event_id, conn)
        snapshot = await self.polls.service.snapshot(
            session.event_id, moderator=session.moderator,
            participant=session.participant if session.known else None,
            current=room.public_v,
        )
        if not session.moderator:
            room.known_public(snapshot.pv)  # read while subscribed: the next may skip reading
        conn.synced(snapshot.pv, encode(snapshot).decode())

    async def aclose(self) -> None:
        if self.room is not None:
            room, self.room = self.room, None
            await self.polls.fanout.leave(room, self.conn)


class PollsFeature(Feature[PollConn]):
    """The polls' routes and hooks on the live socket, for one process."""

    def __init__(self, polls: Polls) -> None:
        self.polls = polls

    def routes(self) -> Sequence[Route[PollConn]]:
        # The display may not answer; only moderators prepare, run and moderate polls.
        return (
            route(AnswerPoll, PollConn.answer, writes=True),
            route(CreatePoll, PollConn.create, moderator=True),
            route(Launch, PollConn.launch, moderator=True),
            route(Close, PollConn.close, moderator=True),
            route(Reveal, PollConn.reveal, moderator=True),
            route(Hide, PollConn.hide, moderator=True),
            route(Moderate, PollConn.moderate, moderator=True),
            route(Forward, PollConn.forward, moderator=True),
            route(Block, PollConn.block, moderator=True),
        )

    async def open(self, session: Session) -> PollConn:
        if self.polls.fanout.room(session.event_id) is None:
            await self.polls.service.ensure(session.event_id)
        return PollConn(self.polls, session)

    async def start(self, state: PollConn) -> None:
        await state.start()

    async def close(self, state: PollConn) -> None:
        await state.aclose()
