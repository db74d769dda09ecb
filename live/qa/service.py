"""Q&A actions persisted through SQLAlchemy and announced on the hub after commit.

Every action runs in one transaction (live/qa/transaction.py) that first increments the
event's version in `qa_settings` (an UPDATE, so it takes the row lock on PostgreSQL and the
write lock on SQLite): actions on one event are serialised, none is lost to a race, and each
committed change gets its own version. The transaction is plain synchronous Core on one
connection, handed to the `Writer` (live/db.py): on SQLite one call on its thread. After the
commit the change goes to the hub: the full update on the moderators' channel, and the part
viewers may see (if any) on the public channel.

In one process an event's actions also take turns on an asyncio lock around transaction and
announcement, so they wait on the loop rather than in SQLite's busy handler (which sleeps and
polls), and are announced in version order. Moderator messages arrive typed (`Approve`,
`Enqueue`...) and are dispatched on their type.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import TypeVar, assert_never

import msgspec
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from live import idempotency
from live.db import LoopWriter, Writer
from live.errors import Conflict, NotFound
from live.hub import Entry, Hub
from live.identity import Participant
from live.models.qa import QaSettings, QaVote, Question
from live.qa import domain
from live.qa import transaction as txn
from live.qa.domain import QaStatus
from live.qa.messages import (
    GONE_STATUSES,
    PUBLIC_STATUSES,
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
    PanelView,
    QuestionView,
    Reject,
    Snapshot,
    Update,
    encode,
)
from live.qa.rows import QuestionRow
from live.qa.transaction import Announcement, Tx
from live.qa.views import own_view, question_view
from live.realtime.channels import qa_mod_channel as mod_channel
from live.realtime.channels import qa_public_channel as public_channel

T = TypeVar("T")
log = logging.getLogger(__name__)

# The moderator messages `moderate` and `panel` take.
Moderation = Approve | Reject | Edit | Merge
PanelMessage = Enqueue | Dequeue | Move | Now | Done


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who performs an action: the participant and whether they moderate this event."""

    participant: Participant
    moderator: bool = False
    label: str = ""

    @property
    def name(self) -> str:
        """How the moderators' log names this actor: never an id; empty when unnamed (the
        pages say "an anonymous participant" or "a moderator" in the reader's language)."""
        return self.label or self.participant.name


class QaService:
    """The Q&A of every event, for one process: actions, snapshots and versions."""

    def __init__(
        self,
        db: async_sessionmaker[AsyncSession],
        hub: Hub,
        writer: Writer,
        reader: Writer | None = None,
    ) -> None:
        self._db = db
        self._hub = hub
        self._writer = writer
        # Snapshots and versions: in one call each (`live.db.open_reader`), else on the loop.
        self._reader = reader or LoopWriter(db)
        # The newest public snapshot per event (never mutated; replaced when outdated).
        self._public: dict[int, Snapshot] = {}
        # Per event: this process's actions, one at a time (`_act`).
        self._locks: dict[int, asyncio.Lock] = {}

    # --- reading ---------------------------------------------------------------------------

    async def ensure(self, event_id: int) -> None:
        """Create the event's Q&A settings row on first use."""
        async with self._db() as session:
            if await session.get(QaSettings, event_id) is not None:
                return
            session.add(QaSettings(event_id=event_id))
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()  # another process created it first

    async def version(self, event_id: int, *, moderator: bool) -> int:
        """The newest version on the moderators' (or the public) channel."""

        def read(session: Session) -> int:
            state = session.get(QaSettings, event_id)
            if state is None:
                return 0
            return state.version if moderator else state.public_version

        return await self._reader.run(read)

    async def catch_up(
        self, event_id: int, since: int | None, *, moderator: bool
    ) -> tuple[int, Update | None]:
        """The channel's newest version and, when `since` is older, one update of every
        change after it (questions, panel, settings), read from the database.

        What a process serves after its hub was away: the changes other processes made
        meanwhile. Gone questions come as tombstones; items carry their own versions.
        """

        def read(session: Session) -> tuple[int, Update | None]:
            state = session.get(QaSettings, event_id)
            if state is None:
                return 0, None
            v = state.version if moderator else state.public_version
            if since is None or v <= since:
                return v, None
            query = select(Question).where(Question.event_id == event_id, Question.v > since)
            if not moderator:
                visible = PUBLIC_STATUSES | GONE_STATUSES
                query = query.where(Question.status.in_([s.value for s in visible]))
            views = [question_view(q) for q in session.scalars(query.order_by(Question.id))]
            return v, Update(
                v=v,
                questions=views if moderator else [view.public() for view in views],
                panel=txn.read_panel(session, event_id, state.panel_v)
                if state.panel_v > since else None,
                settings=txn.settings_view(state, txn.closed_items(session, event_id))
                if state.settings_v > since else None,
            )

        return await self._reader.run(read)

    async def snapshot(
        self, event_id: int, *, moderator: bool, participant: Participant | None = None
    ) -> Snapshot:
        """The full state; viewers get public questions, plus their own and their votes."""

        def read(session: Session) -> Snapshot:
            shared = self._shared(session, event_id, moderator=moderator)
            if participant is None or moderator:
                return shared
            own = session.scalars(
                select(Question).where(
                    Question.event_id == event_id, Question.participant == participant.id
                )
            )
            mine = [own_view(q) for q in own]
            voted = list(session.scalars(
                select(QaVote.question_id)
                .join(Question)
                .where(Question.event_id == event_id, QaVote.participant == participant.id)
            ))
            return msgspec.structs.replace(shared, mine=mine, voted=voted)

        return await self._reader.run(read)

    def _shared(self, session: Session, event_id: int, *, moderator: bool) -> Snapshot:
        """The part of a snapshot every viewer (or every moderator) shares."""
        state = session.get(QaSettings, event_id)
        if state is None:
            raise NotFound("Q&A is not set up for this event.", code="qa.no_event")
        v = state.version if moderator else state.public_version
        cached = self._public.get(event_id)
        # The public state is a function of the public version: a crowd reconnecting at
        # once costs one read of the questions, not one per viewer.
        if not moderator and cached is not None and cached.v == v:
            return cached
        query = select(Question).where(Question.event_id == event_id)
        if not moderator:
            query = query.where(Question.status.in_([s.value for s in PUBLIC_STATUSES]))
        questions = session.scalars(query.order_by(Question.id))
        views = [question_view(q) if moderator else question_view(q).public() for q in questions]
        shared = Snapshot(
            v=v,
            questions=views,
            panel=txn.read_panel(session, event_id, state.panel_v),
            settings=txn.settings_view(state, txn.closed_items(session, event_id)),
            log=txn.read_log(session, event_id) if moderator else [],
        )
        if not moderator:
            self._public[event_id] = shared
        return shared

    # --- the transaction around every action ----------------------------------------------

    async def _act(self, event_id: int, actor: Actor, body: Callable[[Tx], T]) -> T:
        """Run `body` in the event's transaction; commit and publish if it changed anything."""

        def run(connection: Connection) -> tuple[T, Announcement]:
            tx = txn.begin(connection, event_id, actor.name)
            result = body(tx)
            if not tx.changed:
                raise txn.Unchanged(result)
            return result, txn.finish(tx)

        lock = self._locks.get(event_id)
        if lock is None:
            lock = self._locks[event_id] = asyncio.Lock()
        async with lock:
            try:
                result, announcement = await self._writer.transact(run)
            except txn.Unchanged as unchanged:
                return unchanged.result  # type: ignore[return-value]
            await self._announce(event_id, announcement)
        return result

    async def _announce(self, event_id: int, news: Announcement) -> None:
        # The change is committed whatever happens here: the client gets its `ok`. A notice
        # that never reaches the hub leaves a gap that clients detect and resync across.
        full = news.full
        try:
            await self._hub.publish(mod_channel(event_id), Entry(full.v, full.v - 1, encode(full)))
            if news.public is not None:
                await self._hub.publish(
                    public_channel(event_id), Entry(full.v, news.after, encode(news.public))
                )
        except Exception as exc:  # noqa: BLE001  (a hub's own failure; clients catch up)
            log.warning("could not announce version %s of event %s: %r", full.v, event_id, exc)

    # --- actions ---------------------------------------------------------------------------

    async def ask(self, event_id: int, actor: Actor, msg: Ask) -> QuestionView:
        """Store a question; it is acknowledged (returned) only after the commit."""

        who = actor.participant.id

        def body(tx: Tx) -> QuestionRow:
            if msg.key is not None:
                done = idempotency.recall(tx.connection, event_id, who, msg.key, "qa.ask")
                first = None if done is None or done.result_id is None else tx.question(
                    done.result_id)
                if first is not None:
                    raise txn.Unchanged(first)  # a retry: the question asked the first time
            tx.check_item(msg.item)
            rules = txn.rules(tx.state, txn.closed_items(tx.connection, event_id))
            text = domain.clean_text(msg.text, rules)
            name = "" if msg.anonymous else (msg.name.strip() or actor.participant.name)
            domain.check_ask(
                rules, anonymous=msg.anonymous, name=name, item=msg.item, moderator=actor.moderator
            )
            status = domain.initial_status(rules, moderator=actor.moderator)
            if not actor.moderator:
                # The log names a viewer as the question does: by the name given, or by none
                # when asked anonymously (a personal link's name would unmask them).
                tx.actor = name
            q = tx.add(QuestionRow(
                id=0,
                event_id=event_id,
                item_id=msg.item,
                participant=actor.participant.id,
                name=name,
                organisation="" if msg.anonymous else msg.organisation.strip(),
                text=text,
                original_text=None,
                status=status,
                floor=actor.moderator,
                votes=0,
                queue_pos=None,
                merged_into=None,
                v=tx.v,
                asked_at=tx.now,
                approved_at=tx.now if status == QaStatus.APPROVED else None,
                on_air_at=None,
                answered_at=None,
                rejected_at=None,
                last_actor=None,
                last_action=None,
            ), "ask")
            if msg.key is not None:
                idempotency.remember(tx.connection, event_id, who, msg.key, "qa.ask", q.id)
            return q

        q = await self._act(event_id, actor, body)
        return question_view(q) if actor.moderator else own_view(q)

    async def vote(
        self, event_id: int, actor: Actor, question_id: int, up: bool = True,
        key: str | None = None,
    ) -> None:
        """Add (or take back) this participant's vote; a second vote changes nothing, nor
        does a retry under the same idempotency `key` after other votes."""
        action = "qa.vote" if up else "qa.unvote"

        def body(tx: Tx) -> None:
            q = domain.check_votable(tx.question(question_id), question_id)
            who = actor.participant.id
            if key is not None and idempotency.recall(tx.connection, event_id, who, key, action):
                return
            if up == txn.has_vote(tx.connection, question_id, who):
                return
            if key is not None:
                idempotency.remember(tx.connection, event_id, who, key, action, question_id)
            if up:
                txn.add_vote(tx.connection, question_id, who, tx.now)
            else:
                txn.remove_vote(tx.connection, question_id, who)
            # Every action on the event holds its version row's lock (`begin`), so counting
            # on from the loaded row cannot race another vote.
            q.votes = max(0, (q.votes or 0) + (1 if up else -1))
            q.v = tx.v
            tx.counted[q.id] = q  # votes are not logged as moderator actions

        await self._act(event_id, actor, body)

    async def moderate(self, event_id: int, actor: Actor, msg: Moderation) -> QuestionView:
        """Approve, reject, edit or merge one question."""
        domain.require_moderator(actor.moderator)

        def body(tx: Tx) -> QuestionRow:
            q = domain.check_visible(tx.question(msg.question), msg.question)
            tx.touch(q, _moderation(tx, q, msg))
            return q

        return question_view(await self._act(event_id, actor, body))

    async def panel(self, event_id: int, actor: Actor, msg: PanelMessage) -> PanelView:
        """Enqueue, dequeue, move, put on air or mark answered; returns the new panel."""
        domain.require_moderator(actor.moderator)
        step = _panel_step(msg)
        question_id = msg.question

        def body(tx: Tx) -> PanelView:
            queued, current, wanted = tx.panel_rows(question_id)
            by_id = {q.id: q for q in queued}
            if question_id is not None:
                q = domain.check_visible(wanted, question_id)
            elif current is not None:  # panel.done without a question: the one on air
                q = current
            else:
                raise Conflict("No question is on air.", code="qa.conflict")
            by_id[q.id] = q
            order = domain.panel_step(step, q, current, [x.id for x in queued], tx.now)
            domain.apply_order(by_id, order)
            if isinstance(step, domain.Now) and current is not None and current.id != q.id:
                tx.touch(current, domain.Done.action)
            tx.touch(q, step.action)
            tx.panel = True
            # Every question in the queue or on air was loaded above: no need to read again.
            tx.panel_view = txn.panel_of([*by_id.values(), *([current] if current else [])], tx.v)
            return tx.panel_view

        return await self._act(event_id, actor, body)

    async def configure(self, event_id: int, actor: Actor, msg: Configure) -> None:
        """Change settings; with `item`, `open` opens or closes that programme item only."""
        domain.require_moderator(actor.moderator)

        def body(tx: Tx) -> None:
            s = tx.state
            if msg.item is not None:
                tx.check_item(msg.item)
                txn.open_item(tx.connection, event_id, msg.item, msg.open)
            elif msg.open is not None:
                s.open = msg.open
            if msg.premoderation is not None:
                s.premoderation = msg.premoderation
            if msg.anonymous is not None:
                s.allow_anonymous = msg.anonymous
            if msg.max_length is not None:
                s.max_length = msg.max_length
            tx.settings = True
            tx.log("settings", None)

        await self._act(event_id, actor, body)


def _moderation(tx: Tx, q: QuestionRow, msg: Moderation) -> str:
    """Apply one moderator message to `q`; the action's name in the moderators' log."""
    match msg:
        case Approve():
            domain.approve(q, tx.now)
            return "approve"
        case Reject():
            tx.leave_queue(q, lambda: domain.reject(q, tx.now))
            return "reject"
        case Edit(text=text):
            domain.edit(q, domain.clean_text(text, txn.rules(tx.state, [])))
            return "edit"
        case Merge(into=into):
            target = domain.check_visible(tx.question(into), into)
            tx.leave_queue(q, lambda: domain.merge(q, target))
            txn.move_votes(tx.connection, q.id, target.id)
            target.votes = txn.count_votes(tx.connection, target.id)
            q.votes = 0
            tx.touch(target, "merge_into")
            return "merge"
        case _:
            assert_never(msg)


def _panel_step(msg: PanelMessage) -> domain.PanelStep:
    """The domain's step for a panel message."""
    match msg:
        case Enqueue(position=position):
            return domain.Enqueue(position)
        case Dequeue():
            return domain.Dequeue()
        case Move(position=position):
            return domain.Move(position)
        case Now():
            return domain.Now()
        case Done():
            return domain.Done()
        case _:
            assert_never(msg)
