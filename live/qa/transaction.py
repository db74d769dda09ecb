"""One Q&A action's transaction, as plain synchronous SQLAlchemy.

An action runs whole inside `Writer.run` (live/db.py): on SQLite in one call on the
writer's thread, elsewhere through `AsyncSession.run_sync`. `begin` increments the event's
version (an UPDATE, so it takes the row lock on PostgreSQL and the write lock on SQLite);
the action's body changes rows through `Tx`; `finish` turns what it touched into the
updates announced after the commit. The reads shared with snapshots live here too, so both
run the same queries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import cast

from sqlalchemy import Table, delete, func, or_, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from live.errors import Invalid, NotFound
from live.models import ProgrammeItem
from live.models.base import utcnow
from live.models.qa import QaAction, QaItemSettings, QaSettings, QaVote, Question
from live.protocol import (
    PanelView,
    QaStatus,
    SettingsView,
    Update,
    public_update,
)
from live.qa import domain
from live.qa.views import question_view


class Unchanged(Exception):
    """Raised inside an action's transaction to roll back an action that changed nothing."""

    def __init__(self, result: object) -> None:
        self.result = result


@dataclasses.dataclass(frozen=True)
class Announcement:
    """What a committed action tells the hub: the full update and the viewers' part."""

    full: Update
    public: Update | None
    after: int  # the public version the public update follows


@dataclasses.dataclass
class Tx:
    """One action's transaction: its session, version, time, and what it changed."""

    session: Session
    state: QaSettings
    v: int
    now: dt.datetime
    actor: str
    touched: dict[int, Question] = dataclasses.field(default_factory=dict)
    panel: bool = False
    # The panel as the action left it, when the action already read it (else `finish` does).
    panel_view: PanelView | None = None
    settings: bool = False

    @property
    def event_id(self) -> int:
        return self.state.event_id

    @property
    def changed(self) -> bool:
        return bool(self.touched or self.panel or self.settings)

    def touch(self, q: Question, action: str) -> None:
        """Mark `q` changed by `action` at this version, and log the action."""
        q.v = self.v
        q.last_actor = self.actor
        q.last_action = action
        self.touched[q.id] = q
        self.log(action, q.id)

    def log(self, action: str, question_id: int | None) -> None:
        self.session.add(
            QaAction(event_id=self.event_id, v=self.v, at=self.now, actor=self.actor,
                     action=action, question_id=question_id)
        )

    def question(self, question_id: int) -> Question | None:
        q = self.session.get(Question, question_id)
        return q if q is not None and q.event_id == self.event_id else None

    def queue(self) -> list[Question]:
        return list(self.session.scalars(
            select(Question)
            .where(Question.event_id == self.event_id, Question.queue_pos.is_not(None))
            .order_by(Question.queue_pos)
        ))

    def panel_rows(
        self, question_id: int | None
    ) -> tuple[list[Question], Question | None, Question | None]:
        """The queue in order, the question on air and question `question_id`, in one query."""
        wanted = [Question.id == question_id] if question_id is not None else []
        rows = list(self.session.scalars(
            select(Question).where(
                Question.event_id == self.event_id,
                or_(Question.queue_pos.is_not(None), Question.status == QaStatus.ON_AIR,
                    *wanted))
        ))
        queue = sorted((q for q in rows if q.queue_pos is not None), key=lambda q: q.queue_pos or 0)
        on_air = next((q for q in rows if q.status == QaStatus.ON_AIR), None)
        found = next((q for q in rows if q.id == question_id), None)
        return queue, on_air, found

    def check_item(self, item_id: int | None) -> None:
        """Refuse a programme item that is not part of this event."""
        if item_id is None:
            return
        item = self.session.get(ProgrammeItem, item_id)
        if item is None or item.event_id != self.event_id:
            raise Invalid(f"No programme item {item_id} here.", code="qa.unknown_item",
                          fields={"item": "unknown"})

    def leave_queue(self, q: Question, change: Callable[[], None]) -> None:
        """Apply `change` to `q`; if it was queued, close the gap it leaves."""
        was_queued = q.queue_pos is not None
        change()
        if was_queued:
            order = [x for x in self.queue() if x.id != q.id]
            domain.apply_order({x.id: x for x in order}, [x.id for x in order])
            self.panel = True


def begin(session: Session, event_id: int, actor: str) -> Tx:
    """Take the event's next version (and its lock) and start an action."""
    # A plain UPDATE ... RETURNING, the row then handed to the session as if loaded: the
    # ORM's own UPDATE ... RETURNING took a third of a moderator's action (bench/).
    table = cast(Table, QaSettings.__table__)
    row = session.connection().execute(
        update(table)
        .where(table.c.event_id == event_id)
        .values(version=table.c.version + 1)
        .returning(*table.c)
    ).one_or_none()
    if row is None:
        raise NotFound("Q&A is not set up for this event.", code="qa.no_event")
    state = QaSettings(**row._mapping)
    make_transient_to_detached(state)
    session.add(state)
    return Tx(session=session, state=state, v=state.version, now=utcnow(), actor=actor)


def finish(tx: Tx) -> Announcement:
    """Write what is left and say what changed; the caller's transaction commits."""
    tx.session.flush()
    panel = tx.panel_view
    if tx.panel:
        if panel is None:
            panel = read_panel(tx.session, tx.event_id, tx.v)
        tx.state.panel_v = tx.v
    settings = None
    if tx.settings:
        tx.state.settings_v = tx.v
        settings = settings_view(tx.state, closed_items(tx.session, tx.event_id))
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
    return Announcement(full, public, after)


# --- reads shared by actions and snapshots ---------------------------------------------------


def closed_items(session: Session, event_id: int) -> list[int]:
    """Programme items whose questions are closed."""
    return sorted(session.scalars(
        select(QaItemSettings.item_id).where(
            QaItemSettings.event_id == event_id, QaItemSettings.open.is_(False)
        )
    ))


def rules(state: QaSettings, closed: list[int]) -> domain.Rules:
    return domain.Rules(
        premoderation=state.premoderation,
        allow_anonymous=state.allow_anonymous,
        max_length=state.max_length,
        open=state.open,
        closed_items=frozenset(closed),
    )


def settings_view(state: QaSettings, closed: list[int]) -> SettingsView:
    return SettingsView(
        v=state.settings_v,
        premoderation=state.premoderation,
        anonymous=state.allow_anonymous,
        max_length=state.max_length,
        open=state.open,
        closed_items=closed,
    )


def panel_of(questions: list[Question], v: int) -> PanelView:
    """The panel from the questions that are queued or on air (others may be among them)."""
    queue = sorted((q for q in questions if q.queue_pos is not None),
                   key=lambda q: q.queue_pos or 0)
    now = next((q.id for q in questions if q.status == QaStatus.ON_AIR), None)
    return PanelView(v=v, queue=list(dict.fromkeys(q.id for q in queue)), now=now)


def read_panel(session: Session, event_id: int, v: int) -> PanelView:
    """The queue in order and the question on air, in one query."""
    rows = session.execute(
        select(Question.id, Question.queue_pos, Question.status)
        .where(Question.event_id == event_id,
               or_(Question.queue_pos.is_not(None), Question.status == QaStatus.ON_AIR))
    ).all()
    queue = [r.id for r in sorted((r for r in rows if r.queue_pos is not None),
                                  key=lambda r: r.queue_pos or 0)]
    now = next((r.id for r in rows if r.status == QaStatus.ON_AIR), None)
    return PanelView(v=v, queue=queue, now=now)


def count_votes(session: Session, question_id: int) -> int:
    count = session.scalar(
        select(func.count()).select_from(QaVote).where(QaVote.question_id == question_id)
    )
    return int(count or 0)


def move_votes(session: Session, source: int, target: int) -> None:
    """Carry votes over; a participant who voted for both still counts once."""
    already = set(session.scalars(select(QaVote.participant).where(QaVote.question_id == target)))
    for vote in list(session.scalars(select(QaVote).where(QaVote.question_id == source))):
        if vote.participant not in already:
            session.add(
                QaVote(question_id=target, participant=vote.participant, created_at=vote.created_at)
            )
        session.delete(vote)


def remove_vote(session: Session, question_id: int, participant: str) -> None:
    session.execute(
        delete(QaVote).where(QaVote.question_id == question_id, QaVote.participant == participant)
    )

