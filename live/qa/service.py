"""Q&A actions persisted through SQLAlchemy and announced on the hub after commit.

Every action runs in one transaction that first increments the event's version in
`qa_settings` (an UPDATE, so it takes the row lock on PostgreSQL and the write lock on
SQLite): actions on one event are serialised, none is lost to a race, and each committed
change gets its own version. After the commit the change goes to the hub: the full update on
the moderators' channel, and the part viewers may see (if any) on the public channel.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.errors import Conflict, Invalid, NotFound
from live.hub import Entry, Hub
from live.identity import Participant
from live.models import ProgrammeItem
from live.models.base import utcnow
from live.models.qa import QaAction, QaItemSettings, QaSettings, QaVote, Question
from live.protocol import (
    PUBLIC_STATUSES,
    Ask,
    Configure,
    PanelView,
    QaStatus,
    QuestionView,
    SettingsView,
    Snapshot,
    Update,
    encode,
    public_update,
)
from live.qa import domain

T = TypeVar("T")
log = logging.getLogger(__name__)


def mod_channel(event_id: int) -> str:
    """Hub channel of everything that changes, for moderators."""
    return f"qa:{event_id}:mod"


def public_channel(event_id: int) -> str:
    """Hub channel of what viewers may see."""
    return f"qa:{event_id}:public"


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who performs an action: the participant and whether they moderate this event."""

    participant: Participant
    moderator: bool = False
    label: str = ""

    @property
    def name(self) -> str:
        """How the moderators' log names this actor."""
        return (
            self.label
            or self.participant.name
            or ("moderator" if self.moderator else f"participant {self.participant.id[:6]}")
        )


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def question_view(q: Question) -> QuestionView:
    """The full (moderator) view of a question row."""
    return QuestionView(
        id=q.id,
        v=q.v,
        status=QaStatus(q.status),
        text=q.text,
        name=q.name,
        organisation=q.organisation,
        votes=q.votes,
        item=q.item_id,
        floor=q.floor,
        merged_into=q.merged_into,
        asked_at=_iso(q.asked_at),
        approved_at=_iso(q.approved_at),
        on_air_at=_iso(q.on_air_at),
        answered_at=_iso(q.answered_at),
        original_text=q.original_text,
        by=q.last_actor,
        action=q.last_action,
    )


def own_view(q: Question) -> QuestionView:
    """The asker's view of their own question: its status, without moderator notes."""
    if q.status != QaStatus.PENDING:
        return question_view(q).public()
    return QuestionView(
        id=q.id,
        v=q.v,
        status=QaStatus.PENDING,
        text=q.text,
        name=q.name,
        organisation=q.organisation,
        item=q.item_id,
        asked_at=_iso(q.asked_at),
    )


class _Unchanged(Exception):
    """Raised inside an action's transaction to roll back an action that changed nothing."""

    def __init__(self, result: object) -> None:
        self.result = result


@dataclasses.dataclass
class _Tx:
    """One action's transaction: its session, version, time, and what it changed."""

    session: AsyncSession
    state: QaSettings
    v: int
    now: dt.datetime
    actor: Actor
    touched: dict[int, Question] = dataclasses.field(default_factory=dict)
    panel: bool = False
    # The panel as the action left it, when the action already read it (else `_finish` does).
    panel_view: PanelView | None = None
    settings: bool = False

    def touch(self, q: Question, action: str) -> None:
        q.v = self.v
        q.last_actor = self.actor.name
        q.last_action = action
        self.touched[q.id] = q
        self.session.add(
            QaAction(
                event_id=self.state.event_id,
                v=self.v,
                at=self.now,
                actor=self.actor.name,
                action=action,
                question_id=q.id,
            )
        )

    async def question(self, question_id: int) -> Question | None:
        q = await self.session.get(Question, question_id)
        return q if q is not None and q.event_id == self.state.event_id else None

    async def queue(self) -> list[Question]:
        rows = await self.session.scalars(
            select(Question)
            .where(Question.event_id == self.state.event_id, Question.queue_pos.is_not(None))
            .order_by(Question.queue_pos)
        )
        return list(rows)

    async def panel_rows(
        self, question_id: int | None
    ) -> tuple[list[Question], Question | None, Question | None]:
        """The queue in order, the question on air and question `question_id`, in one query."""
        wanted = [Question.id == question_id] if question_id is not None else []
        rows = list(await self.session.scalars(
            select(Question).where(
                Question.event_id == self.state.event_id,
                or_(Question.queue_pos.is_not(None), Question.status == QaStatus.ON_AIR,
                    *wanted))
        ))
        queue = sorted((q for q in rows if q.queue_pos is not None), key=lambda q: q.queue_pos or 0)
        on_air = next((q for q in rows if q.status == QaStatus.ON_AIR), None)
        found = next((q for q in rows if q.id == question_id), None)
        return queue, on_air, found


class QaService:
    """The Q&A of every event, for one process: actions, snapshots and versions."""

    def __init__(self, db: async_sessionmaker[AsyncSession], hub: Hub) -> None:
        self._db = db
        self._hub = hub
        # The newest public snapshot per event (never mutated; replaced when outdated).
        self._public: dict[int, Snapshot] = {}

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
        async with self._db() as session:
            state = await session.get(QaSettings, event_id)
        if state is None:
            return 0
        return state.version if moderator else state.public_version

    async def rules(self, event_id: int) -> domain.Rules:
        """The event's settings as `domain.Rules`."""
        async with self._db() as session:
            state = await session.get(QaSettings, event_id)
            closed = await self._closed_items(session, event_id)
        if state is None:
            return domain.Rules()
        return _rules(state, closed)

    async def snapshot(
        self, event_id: int, *, moderator: bool, participant: Participant | None = None
    ) -> Snapshot:
        """The full state; viewers get public questions, plus their own and their votes."""
        async with self._db() as session, session.begin():
            shared = await self._shared(session, event_id, moderator=moderator)
            mine: list[QuestionView] = []
            voted: list[int] = []
            if participant is not None and not moderator:
                own = await session.scalars(
                    select(Question).where(
                        Question.event_id == event_id, Question.participant == participant.id
                    )
                )
                mine = [own_view(q) for q in own]
                voted = list(
                    await session.scalars(
                        select(QaVote.question_id)
                        .join(Question)
                        .where(Question.event_id == event_id, QaVote.participant == participant.id)
                    )
                )
        return msgspec.structs.replace(shared, mine=mine, voted=voted)

    async def _shared(self, session: AsyncSession, event_id: int, *, moderator: bool) -> Snapshot:
        """The part of a snapshot every viewer (or every moderator) shares."""
        state = await session.get(QaSettings, event_id)
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
        questions = await session.scalars(query.order_by(Question.id))
        views = [question_view(q) if moderator else question_view(q).public() for q in questions]
        closed = await self._closed_items(session, event_id)
        shared = Snapshot(
            v=v,
            questions=views,
            panel=await _panel(session, event_id, state.panel_v),
            settings=_settings_view(state, closed),
        )
        if not moderator:
            self._public[event_id] = shared
        return shared

    async def _closed_items(self, session: AsyncSession, event_id: int) -> list[int]:
        rows = await session.scalars(
            select(QaItemSettings.item_id).where(
                QaItemSettings.event_id == event_id, QaItemSettings.open.is_(False)
            )
        )
        return sorted(rows)

    # --- the transaction around every action ----------------------------------------------

    async def _act(self, event_id: int, actor: Actor, body: Callable[[_Tx], Awaitable[T]]) -> T:
        """Run `body` under the event's lock; commit and publish if it changed anything."""
        async with self._db() as session:
            try:
                async with session.begin():
                    tx = await self._begin(session, event_id, actor)
                    result = await body(tx)
                    if not (tx.touched or tx.panel or tx.settings):
                        raise _Unchanged(result)
                    full, public, after = await self._finish(tx)
            except _Unchanged as unchanged:
                return unchanged.result  # type: ignore[return-value]
        await self._announce(event_id, full, public, after)
        return result

    async def _announce(
        self, event_id: int, full: Update, public: Update | None, after: int
    ) -> None:
        # The change is committed whatever happens here: the client gets its `ok`. A notice
        # that never reaches the hub leaves a gap that clients detect and resync across.
        try:
            await self._hub.publish(mod_channel(event_id), Entry(full.v, full.v - 1, encode(full)))
            if public is not None:
                await self._hub.publish(
                    public_channel(event_id), Entry(full.v, after, encode(public))
                )
        except Exception:
            log.exception("could not announce version %s of event %s", full.v, event_id)

    async def _begin(self, session: AsyncSession, event_id: int, actor: Actor) -> _Tx:
        bump = (
            update(QaSettings)
            .where(QaSettings.event_id == event_id)
            .values(version=QaSettings.version + 1)
            .returning(QaSettings)
        )
        result = await session.execute(bump, execution_options={"populate_existing": True})
        state = result.scalar_one_or_none()
        if state is None:
            raise NotFound("Q&A is not set up for this event.", code="qa.no_event")
        return _Tx(session=session, state=state, v=state.version, now=utcnow(), actor=actor)

    async def _finish(self, tx: _Tx) -> tuple[Update, Update | None, int]:
        await tx.session.flush()
        panel = tx.panel_view
        if tx.panel:
            if panel is None:
                panel = await _panel(tx.session, tx.state.event_id, tx.v)
            tx.state.panel_v = tx.v
        settings = None
        if tx.settings:
            tx.state.settings_v = tx.v
            closed = await self._closed_items(tx.session, tx.state.event_id)
            settings = _settings_view(tx.state, closed)
        full = Update(
            v=tx.v,
            questions=[question_view(q) for q in tx.touched.values()],
            panel=panel,
            settings=settings,
        )
        public = public_update(full)
        after = tx.state.public_version
        if public is not None:
            tx.state.public_version = tx.v
        return full, public, after

    # --- actions ---------------------------------------------------------------------------

    async def ask(self, event_id: int, actor: Actor, msg: Ask) -> QuestionView:
        """Store a question; it is acknowledged (returned) only after the commit."""

        async def body(tx: _Tx) -> Question:
            await _check_item(tx, msg.item)
            closed = await self._closed_items(tx.session, event_id)
            rules = _rules(tx.state, closed)
            text = domain.clean_text(msg.text, rules)
            name = "" if msg.anonymous else (msg.name.strip() or actor.participant.name)
            domain.check_ask(
                rules, anonymous=msg.anonymous, name=name, item=msg.item, moderator=actor.moderator
            )
            status = domain.initial_status(rules, moderator=actor.moderator)
            q = Question(
                event_id=event_id,
                item_id=msg.item,
                participant=actor.participant.id,
                name=name,
                organisation="" if msg.anonymous else msg.organisation.strip(),
                text=text,
                status=status,
                floor=actor.moderator,
                votes=0,
                asked_at=tx.now,
                approved_at=tx.now if status == QaStatus.APPROVED else None,
            )
            tx.session.add(q)
            await tx.session.flush()
            tx.touch(q, "ask")
            return q

        q = await self._act(event_id, actor, body)
        return question_view(q) if actor.moderator else own_view(q)

    async def vote(self, event_id: int, actor: Actor, question_id: int, up: bool = True) -> None:
        """Add (or take back) this participant's vote; a second vote changes nothing."""

        async def body(tx: _Tx) -> None:
            q = domain.check_votable(await tx.question(question_id), question_id)
            who = actor.participant.id
            exists = await tx.session.get(QaVote, (question_id, who)) is not None
            if up == exists:
                return
            if up:
                tx.session.add(QaVote(question_id=question_id, participant=who))
            else:
                await tx.session.execute(
                    delete(QaVote).where(
                        QaVote.question_id == question_id, QaVote.participant == who
                    )
                )
            # Every action on the event holds its version row's lock (`_begin`), so counting
            # on from the loaded row cannot race another vote.
            q.votes = max(0, (q.votes or 0) + (1 if up else -1))
            q.v = tx.v
            tx.touched[q.id] = q  # votes are not logged as moderator actions

        await self._act(event_id, actor, body)

    async def moderate(
        self,
        event_id: int,
        actor: Actor,
        action: str,
        question_id: int,
        *,
        text: str | None = None,
        into: int | None = None,
    ) -> QuestionView:
        """approve, reject, edit or merge one question."""
        domain.require_moderator(actor.moderator)

        async def body(tx: _Tx) -> Question:
            q = domain.check_visible(await tx.question(question_id), question_id)
            if action == "approve":
                domain.approve(q, tx.now)
            elif action == "reject":
                await self._leave_queue(tx, q, lambda: domain.reject(q, tx.now))
            elif action == "edit":
                assert text is not None
                domain.edit(q, domain.clean_text(text, _rules(tx.state, [])))
            elif action == "merge":
                assert into is not None
                target = domain.check_visible(await tx.question(into), into)
                await self._leave_queue(tx, q, lambda: domain.merge(q, target))
                await _move_votes(tx.session, q.id, target.id)
                target.votes = await _count_votes(tx.session, target.id)
                q.votes = 0
                tx.touch(target, "merge_into")
            tx.touch(q, action)
            return q

        return question_view(await self._act(event_id, actor, body))

    async def _leave_queue(self, tx: _Tx, q: Question, change: Callable[[], None]) -> None:
        was_queued = q.queue_pos is not None
        change()
        if was_queued:
            order = [x for x in await tx.queue() if x.id != q.id]
            domain.apply_order({x.id: x for x in order}, [x.id for x in order])
            tx.panel = True

    async def panel(
        self,
        event_id: int,
        actor: Actor,
        action: str,
        question_id: int | None,
        position: int | None = None,
    ) -> PanelView:
        """enqueue, dequeue, move, now or done; returns the new panel."""
        domain.require_moderator(actor.moderator)

        async def body(tx: _Tx) -> PanelView:
            queued, current, wanted = await tx.panel_rows(question_id)
            by_id = {q.id: q for q in queued}
            if question_id is not None:
                q = domain.check_visible(wanted, question_id)
            elif current is not None:  # panel.done without a question: the one on air
                q = current
            else:
                raise Conflict("No question is on air.", code="qa.conflict")
            by_id[q.id] = q
            order = [x.id for x in queued]
            order = domain.panel_step(action, q, current, order, position, tx.now)
            domain.apply_order(by_id, order)
            if action == "now" and current is not None and current.id != q.id:
                tx.touch(current, "done")
            tx.touch(q, action)
            tx.panel = True
            # Every question in the queue or on air was loaded above: no need to read again.
            tx.panel_view = _panel_of([*by_id.values(), *([current] if current else [])], tx.v)
            return tx.panel_view

        return await self._act(event_id, actor, body)

    async def configure(self, event_id: int, actor: Actor, msg: Configure) -> None:
        """Change settings; with `item`, `open` opens or closes that programme item only."""
        domain.require_moderator(actor.moderator)

        async def body(tx: _Tx) -> None:
            s = tx.state
            if msg.item is not None:
                await _check_item(tx, msg.item)
                row = await tx.session.get(QaItemSettings, msg.item)
                if row is None:
                    tx.session.add(
                        QaItemSettings(
                            item_id=msg.item, event_id=event_id, open=msg.open is not False
                        )
                    )
                elif row.event_id == event_id and msg.open is not None:
                    row.open = msg.open
            elif msg.open is not None:
                s.open = msg.open
            if msg.premoderation is not None:
                s.premoderation = msg.premoderation
            if msg.anonymous is not None:
                s.allow_anonymous = msg.anonymous
            if msg.max_length is not None:
                s.max_length = msg.max_length
            tx.settings = True
            tx.session.add(
                QaAction(
                    event_id=event_id,
                    v=tx.v,
                    at=tx.now,
                    actor=actor.name,
                    action="settings",
                    question_id=None,
                )
            )

        await self._act(event_id, actor, body)


async def _check_item(tx: _Tx, item_id: int | None) -> None:
    """Refuse a programme item that is not part of this event."""
    if item_id is None:
        return
    item = await tx.session.get(ProgrammeItem, item_id)
    if item is None or item.event_id != tx.state.event_id:
        raise Invalid(
            f"No programme item {item_id} here.", code="qa.unknown_item", fields={"item": "unknown"}
        )


def _rules(state: QaSettings, closed: list[int]) -> domain.Rules:
    return domain.Rules(
        premoderation=state.premoderation,
        allow_anonymous=state.allow_anonymous,
        max_length=state.max_length,
        open=state.open,
        closed_items=frozenset(closed),
    )


def _settings_view(state: QaSettings, closed: list[int]) -> SettingsView:
    return SettingsView(
        v=state.settings_v,
        premoderation=state.premoderation,
        anonymous=state.allow_anonymous,
        max_length=state.max_length,
        open=state.open,
        closed_items=closed,
    )


def _panel_of(questions: list[Question], v: int) -> PanelView:
    """The panel from the questions that are queued or on air (others may be among them)."""
    queue = sorted((q for q in questions if q.queue_pos is not None),
                   key=lambda q: q.queue_pos or 0)
    now = next((q.id for q in questions if q.status == QaStatus.ON_AIR), None)
    return PanelView(v=v, queue=list(dict.fromkeys(q.id for q in queue)), now=now)


async def _panel(session: AsyncSession, event_id: int, v: int) -> PanelView:
    """The queue in order and the question on air, in one query."""
    rows = (await session.execute(
        select(Question.id, Question.queue_pos, Question.status)
        .where(Question.event_id == event_id,
               or_(Question.queue_pos.is_not(None), Question.status == QaStatus.ON_AIR))
    )).all()
    queue = [r.id for r in sorted((r for r in rows if r.queue_pos is not None),
                                  key=lambda r: r.queue_pos or 0)]
    now = next((r.id for r in rows if r.status == QaStatus.ON_AIR), None)
    return PanelView(v=v, queue=queue, now=now)


async def _count_votes(session: AsyncSession, question_id: int) -> int:
    count = await session.scalar(
        select(func.count()).select_from(QaVote).where(QaVote.question_id == question_id)
    )
    return int(count or 0)


async def _move_votes(session: AsyncSession, source: int, target: int) -> None:
    """Carry votes over; a participant who voted for both still counts once."""
    already = set(
        await session.scalars(select(QaVote.participant).where(QaVote.question_id == target))
    )
    moving = await session.scalars(select(QaVote).where(QaVote.question_id == source))
    for vote in list(moving):
        if vote.participant not in already:
            session.add(
                QaVote(question_id=target, participant=vote.participant, created_at=vote.created_at)
            )
        await session.delete(vote)
