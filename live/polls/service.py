"""Poll actions persisted through SQLAlchemy and announced on the hub after commit.

Every action runs in one transaction that first increments the event's poll version in
`poll_state` (an UPDATE: the row lock on PostgreSQL, the write lock on SQLite), so actions
on one event are serialised and each committed change has its own version. An answer is
one row per participant per poll (a unique constraint); in the same transaction its tally
(`domain.tally`) moves the poll's `poll_counts`, so the counts shown are always those of
the stored answers. Answers are group-committed (`live.polls.batch`): those that arrive
while the event's previous answer transaction runs share the next transaction, version and
announcement, each with its own result or error (`live.polls.answering`). After the commit
the changed polls go to the hub: in full on the moderators' channel, as viewers may see
them on the public one. In one process an event's actions (and answer batches) also take
turns on an asyncio lock, as the Q&A's do (`live.qa.service`).

A timed poll is closed by a timer in the process that launched it; answers after its
closing time are refused whatever happens to the timer (`domain.effective_status`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from live.db import LoopWriter, Writer
from live.errors import Conflict, Forbidden, Invalid, NotFound, SalenError
from live.hub import Entry, Hub
from live.identity import Participant
from live.models import ProgrammeItem
from live.models.base import utcnow
from live.models.polls import Poll, PollAnswer, PollCount, PollState
from live.polls import answering, domain
from live.polls.batch import GroupCommit
from live.polls.domain import Answer, EntryStatus, PollKind, PollStatus, Spec
from live.polls.messages import Mine, PollsSnapshot, PollsUpdate, PollView, Results
from live.polls.views import mine, poll_view, public_view, results
from live.polls.words import blocked_set
from live.qa.service import Actor
from live.realtime.channels import polls_mod_channel, polls_public_channel
from live.realtime.envelope import encode

T = TypeVar("T")
log = logging.getLogger(__name__)

Step = Literal["launch", "close", "reveal", "hide"]
EntryAction = Literal["approve", "hide", "star", "unstar"]
# Open text answers shown to moderators (newest first); all of them are in the export.
MAX_ENTRIES = 200
BUMP = (update(PollState).where(PollState.event_id == bindparam("event"))
        .values(version=PollState.version + 1).returning(PollState.version))


class Unchanged(Exception):
    """Raised inside an action's transaction to roll back an action that changed nothing."""

    def __init__(self, result: object) -> None:
        self.result = result


@dataclasses.dataclass
class Tx:
    """One action's transaction: the session, the new version, the polls it changed."""

    session: Session
    event_id: int
    v: int
    now: dt.datetime
    touched: dict[int, Poll] = dataclasses.field(default_factory=dict)
    blocked: list[str] | None = None

    def poll(self, poll_id: int) -> Poll | None:
        poll = self.session.get(Poll, poll_id)
        return poll if poll is not None and poll.event_id == self.event_id else None

    def known(self, poll_id: int) -> Poll:
        poll = self.poll(poll_id)
        if poll is None:
            raise domain.not_found(poll_id)
        return poll

    def touch(self, poll: Poll) -> None:
        poll.v = self.v
        self.touched[poll.id] = poll


def require_moderator(actor: Actor) -> None:
    if not actor.moderator:
        raise Forbidden("Only moderators may do this.")


class PollService:
    """The polls of every event, for one process: actions and snapshots."""

    def __init__(
        self,
        db: async_sessionmaker[AsyncSession],
        hub: Hub,
        writer: Writer,
        reader: Writer | None = None,
        forward: Callable[[int, Actor, str, str], Any] | None = None,
    ) -> None:
        self._db, self._hub, self._writer = db, hub, writer
        self._reader = reader or LoopWriter(db)
        # Sends an "innspill" on to the panel queue (`live.polls.runtime` wires the Q&A's).
        self._forward = forward
        self._locks: dict[int, asyncio.Lock] = {}
        self._answers = GroupCommit[answering.Item, Mine](self._answer_batch, self._lock)
        # The newest public polls per event, by poll version (a reconnecting crowd reads once).
        self._public: dict[int, tuple[int, list[PollView]]] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._closing: set[asyncio.Task[Any]] = set()

    # --- reading ---------------------------------------------------------------------------

    async def ensure(self, event_id: int) -> None:
        """Create the event's poll state row on first use."""
        async with self._db() as session:
            if await session.get(PollState, event_id) is not None:
                return
            session.add(PollState(event_id=event_id, blocked_words=[]))
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()  # another process created it first

    async def snapshot(
        self, event_id: int, *, moderator: bool, participant: Participant | None = None,
        current: int | None = None,
    ) -> PollsSnapshot:
        """Every poll of the event as this connection may see it, and its own answers.

        `current`: the public poll version the caller knows to be the newest (its fan-out
        room's, heard while subscribed). A viewer's snapshot at that version is then taken
        from memory when this process has it and no answers of the viewer's are to be shown:
        a crowd reconnecting at once costs no database read per connection.
        """
        if not moderator and current is not None:
            polls = self._cached_public(event_id, current)
            if polls is not None and (participant is None or not polls):
                return PollsSnapshot(pv=current, polls=polls)

        def read(session: Session) -> PollsSnapshot:
            state = session.get(PollState, event_id)
            pv = state.version if state is not None else 0
            now = utcnow()
            if moderator:
                every = [full_view(session, p, now) for p in _event_polls(session, event_id)]
                blocked = list(state.blocked_words) if state is not None else []
                return PollsSnapshot(pv=pv, polls=every, blocked=blocked)
            polls = self._cached_public(event_id, pv)
            if polls is None:
                views = (public_view(full_view(session, p, now))
                         for p in _event_polls(session, event_id))
                polls = [view for view in views if view is not None]
                self._public[event_id] = (pv, polls)
            # No poll viewers may see, no answer to show: a crowd reconnecting to an event
            # without polls reads nothing more.
            own = [] if participant is None or not polls else _own_answers(
                session, event_id, participant)
            return PollsSnapshot(pv=pv, polls=polls, mine=own)

        return await self._reader.run(read)

    def _cached_public(self, event_id: int, pv: int) -> list[PollView] | None:
        """The public polls at version `pv`, if kept and none may have closed since."""
        cached = self._public.get(event_id)
        if cached is None or cached[0] != pv or _timed(cached[1]):
            return None
        return cached[1]

    async def all_polls(self, event_id: int) -> list[PollView]:
        """Every poll of the event with its full results (admin, export)."""

        def read(session: Session) -> list[PollView]:
            now = utcnow()
            return [full_view(session, p, now) for p in _event_polls(session, event_id)]

        return await self._reader.run(read)

    # --- the transaction around every action ----------------------------------------------

    async def _act(self, event_id: int, body: Callable[[Tx], T]) -> T:
        """Run `body` in the event's transaction; commit and publish if it changed anything."""

        def run(session: Session) -> tuple[T, int, list[PollView], list[str] | None]:
            v = session.execute(BUMP, {"event": event_id}).scalar_one_or_none()
            if v is None:
                raise NotFound("Polls are not set up for this event.", code="poll.no_event")
            tx = Tx(session, event_id, v, utcnow())
            result = body(tx)
            if not tx.touched and tx.blocked is None:
                raise Unchanged(result)
            session.flush()
            views = [full_view(session, p, tx.now) for p in tx.touched.values()]
            return result, v, views, tx.blocked

        async with self._lock(event_id):
            try:
                result, v, views, blocked = await self._writer.run(run)
            except Unchanged as unchanged:
                return unchanged.result  # type: ignore[return-value]
            await self._announce(event_id, v, views, blocked)
        return result

    def _lock(self, event_id: int) -> asyncio.Lock:
        return self._locks.setdefault(event_id, asyncio.Lock())

    @property
    def answer_batches(self) -> tuple[int, int]:
        """Transactions that stored answers so far, and the answers they took (metrics)."""
        return self._answers.batches, self._answers.items

    async def _announce(
        self, event_id: int, v: int, views: list[PollView], blocked: list[str] | None
    ) -> None:
        # Committed whatever happens here; a lost notice is healed by the next snapshot.
        public = [p for p in (public_view(view) for view in views) if p is not None]
        try:
            full = PollsUpdate(pv=v, polls=views, blocked=blocked)
            await self._hub.publish(polls_mod_channel(event_id), Entry(v, v - 1, encode(full)))
            if public:
                await self._hub.publish(
                    polls_public_channel(event_id),
                    Entry(v, v - 1, encode(PollsUpdate(pv=v, polls=public))),
                )
        except Exception:
            log.exception("could not announce poll version %s of event %s", v, event_id)
        for view in views:
            self._schedule(event_id, view)

    # --- answering -------------------------------------------------------------------------

    async def answer(
        self, event_id: int, actor: Actor, poll_id: int, answer: Answer, *,
        name: str = "", key: str = "",
    ) -> Mine:
        """Store (or change) the participant's answer; acknowledged only after the commit.

        Answers arriving while the event's previous batch runs are stored together in the
        next (`live.polls.batch`): one transaction and one announcement for all of them.
        """
        who = actor.participant
        item = answering.Item(poll_id, who.id, name.strip() or who.name, key, answer)
        return await self._answers.submit(event_id, item)

    async def _answer_batch(
        self, event_id: int, items: list[answering.Item]
    ) -> list[Mine | SalenError]:
        """One transaction for a batch of answers (under the event's lock), then its notice."""

        def run(connection: Connection) -> tuple[int, list[Mine | SalenError], list[PollView]]:
            v = connection.execute(BUMP, {"event": event_id}).scalar_one_or_none()
            if v is None:
                raise NotFound("Polls are not set up for this event.", code="poll.no_event")
            batch = answering.Batch(connection, event_id, items, v, utcnow())
            outcomes = answering.answer_all(batch, items)
            views = batch.write()
            if not views:
                raise Unchanged(outcomes)  # retries and refusals only: no new version
            return v, outcomes, views

        try:
            v, outcomes, views = await self._writer.transact(run)
        except Unchanged as unchanged:
            return unchanged.result  # type: ignore[return-value]
        await self._announce(event_id, v, views, None)
        return outcomes

    # --- moderators ------------------------------------------------------------------------

    async def create(
        self, event_id: int, actor: Actor, spec: Spec, *, item: int | None = None,
        launch: bool = False, survey: bool = False,
    ) -> PollView:
        """Prepare a poll (and launch it at once with `launch`); `survey` for the feedback
        survey (`live.polls.survey`)."""
        require_moderator(actor)
        clean = domain.clean_spec(spec)
        await self.ensure(event_id)

        def body(tx: Tx) -> Poll:
            _check_item(tx, item)
            last = tx.session.scalar(
                select(func.max(Poll.position)).where(Poll.event_id == tx.event_id))
            poll = Poll(
                event_id=tx.event_id, item_id=item, kind=clean.kind, question=clean.question,
                options=list(clean.options), max_choices=clean.max_choices,
                scale=clean.scale, anonymous=clean.anonymous, final=clean.final,
                moderated=clean.moderated and not survey, survey=survey,
                duration=clean.duration, status=PollStatus.DRAFT,
                revealed=False, answers=0, position=(last or 0) + 1, created_at=tx.now,
            )
            tx.session.add(poll)
            tx.session.flush()
            if launch:
                domain.launch(poll, tx.now)
            tx.touch(poll)
            return poll

        poll = await self._act(event_id, body)
        return await self._view(poll.id)

    async def step(self, event_id: int, actor: Actor, poll_id: int, step: Step) -> PollView:
        """Launch, close, reveal or hide one poll."""
        require_moderator(actor)

        def body(tx: Tx) -> None:
            poll = tx.known(poll_id)
            if step == "launch":
                domain.launch(poll, tx.now)
            elif step == "close":
                if domain.effective_status(poll, tx.now) != poll.status:
                    poll.closed_at = poll.closes_at
                domain.close(poll, tx.now)
            elif not domain.reveal(poll, tx.now, step == "reveal"):
                return
            tx.touch(poll)

        await self._act(event_id, body)
        return await self._view(poll_id)

    async def moderate(
        self, event_id: int, actor: Actor, poll_id: int, answer_id: int, action: EntryAction
    ) -> PollView:
        """Approve, hide, star or unstar one text or word answer."""
        require_moderator(actor)

        def body(tx: Tx) -> None:
            poll = tx.known(poll_id)
            row = tx.session.get(PollAnswer, answer_id)
            if row is None or row.poll_id != poll.id:
                raise NotFound(f"No answer {answer_id} on this poll.", code="poll.not_found")
            if action in ("star", "unstar"):
                row.starred = action == "star"
            else:
                status = EntryStatus.APPROVED if action == "approve" else EntryStatus.HIDDEN
                if row.status == status:
                    return
                before = domain.counted(poll, row.status)
                row.status = status
                after = domain.counted(poll, row.status)
                if before != after:
                    sign = 1 if after else -1
                    _move_counts(tx, poll, {k: n * sign for k, n in
                                            domain.tally(poll.kind, row.value).items()})
            row.v = tx.v
            tx.touch(poll)

        await self._act(event_id, body)
        return await self._view(poll_id)

    async def forward(self, event_id: int, actor: Actor, poll_id: int, answer_id: int) -> Any:
        """Send an open text answer on to the panel queue as a question (starred here)."""
        require_moderator(actor)
        if self._forward is None:
            raise Conflict("The panel queue is not available.", code="poll.conflict")
        text, name = await self._entry(event_id, poll_id, answer_id)
        result = await self._forward(event_id, actor, text, name)
        await self.moderate(event_id, actor, poll_id, answer_id, "star")
        return result

    async def _entry(self, event_id: int, poll_id: int, answer_id: int) -> tuple[str, str]:
        def read(session: Session) -> tuple[str, str]:
            poll = session.get(Poll, poll_id)
            row = session.get(PollAnswer, answer_id)
            if poll is None or poll.event_id != event_id or row is None or row.poll_id != poll_id:
                raise domain.not_found(poll_id)
            if poll.kind != PollKind.TEXT:
                raise Conflict("Only open text answers go to the panel.", code="poll.conflict")
            return str(row.value), "" if poll.anonymous else row.name

        return await self._reader.run(read)

    async def block(self, event_id: int, actor: Actor, words: list[str]) -> list[str]:
        """Add words to the event's blocked list; the new list."""
        require_moderator(actor)
        await self.ensure(event_id)

        def body(tx: Tx) -> list[str]:
            state = tx.session.get(PollState, tx.event_id)
            assert state is not None
            current = list(state.blocked_words)
            added = [w for w in sorted(blocked_set(words)) if w not in current]
            if added:
                state.blocked_words = tx.blocked = current + added
            return state.blocked_words

        return await self._act(event_id, body)

    async def _view(self, poll_id: int) -> PollView:
        def read(session: Session) -> PollView:
            poll = session.get(Poll, poll_id)
            assert poll is not None
            return full_view(session, poll, utcnow())

        return await self._reader.run(read)

    # --- timed polls -----------------------------------------------------------------------

    def _schedule(self, event_id: int, view: PollView) -> None:
        old = self._timers.pop(view.id, None)
        if old is not None:
            old.cancel()
        if view.status != PollStatus.OPEN or view.closes_at is None:
            return
        delay = (dt.datetime.fromisoformat(view.closes_at) - utcnow()).total_seconds()
        loop = asyncio.get_running_loop()
        self._timers[view.id] = loop.call_later(
            max(0.0, delay), self._close_later, event_id, view.id)

    def _close_later(self, event_id: int, poll_id: int) -> None:
        self._timers.pop(poll_id, None)
        task = asyncio.get_running_loop().create_task(self._close_quietly(event_id, poll_id))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close_quietly(self, event_id: int, poll_id: int) -> None:
        system = Actor(Participant(id="system", name=""), moderator=True, label="timer")
        try:
            await self.step(event_id, system, poll_id, "close")
        except (Conflict, NotFound):
            pass  # closed by hand meanwhile
        except Exception:
            log.exception("could not close poll %s on time", poll_id)

    def aclose(self) -> None:
        """Cancel the timers and the answers' batches (the process is stopping)."""
        self._answers.aclose()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()


# --- helpers inside a transaction ------------------------------------------------------------


def _event_polls(session: Session, event_id: int) -> list[Poll]:
    return list(session.scalars(
        select(Poll).where(Poll.event_id == event_id).order_by(Poll.position, Poll.id)))


def _timed(views: list[PollView]) -> bool:
    """Does a cached public list hold a poll whose closing time may have passed since?"""
    return any(v.status == PollStatus.OPEN and v.closes_at is not None for v in views)


def _own_answers(session: Session, event_id: int, participant: Participant) -> list[Mine]:
    rows = session.execute(
        select(Poll, PollAnswer.value).join(PollAnswer, PollAnswer.poll_id == Poll.id)
        .where(Poll.event_id == event_id, PollAnswer.participant == participant.id)
    )
    return [mine(poll, value) for poll, value in rows]


def full_view(session: Session, poll: Poll, now: dt.datetime) -> PollView:
    """A poll with its results as moderators see them, read from its counts."""
    counts = {
        key: n for key, n in session.execute(
            select(PollCount.key, PollCount.n).where(PollCount.poll_id == poll.id))
    }
    entries: list[PollAnswer] = []
    if poll.kind == PollKind.TEXT:
        entries = list(session.scalars(
            select(PollAnswer).where(PollAnswer.poll_id == poll.id)
            .order_by(PollAnswer.id.desc()).limit(MAX_ENTRIES)))
    result: Results = results(poll, counts, entries)
    return poll_view(poll, result, now)


def _move_counts(tx: Tx, poll: Poll, change: dict[str, int]) -> None:
    for key, delta in change.items():
        moved = tx.session.execute(
            update(PollCount).where(PollCount.poll_id == poll.id, PollCount.key == key)
            .values(n=PollCount.n + delta)
        )
        if moved.rowcount == 0:  # type: ignore[attr-defined]
            tx.session.add(PollCount(poll_id=poll.id, key=key, n=delta))
    if change:
        tx.session.flush()
        tx.session.execute(delete(PollCount).where(PollCount.poll_id == poll.id,
                                                   PollCount.n == 0))


def _check_item(tx: Tx, item: int | None) -> None:
    if item is None:
        return
    owner = tx.session.scalar(select(ProgrammeItem.event_id).where(ProgrammeItem.id == item))
    if owner != tx.event_id:
        raise Invalid(f"No programme item {item} here.", code="poll.unknown_item",
                      fields={"item": "unknown"})


def recount(session: Session, poll_id: int) -> dict[str, int]:
    """The counts of a poll computed from its stored answers (tests compare with `poll_counts`)."""
    poll = session.get(Poll, poll_id)
    assert poll is not None
    values = session.scalars(select(PollAnswer).where(PollAnswer.poll_id == poll_id))
    return domain.recount(poll.kind, (a.value for a in values if domain.counted(poll, a.status)))


def stored_counts(session: Session, poll_id: int) -> dict[str, int]:
    """The counts as `poll_counts` holds them (zero rows left out)."""
    return {k: n for k, n in session.execute(
        select(PollCount.key, PollCount.n).where(PollCount.poll_id == poll_id)) if n}
