"""One Q&A action's transaction, as plain synchronous SQLAlchemy.

An action runs whole inside `Writer.run` (live/db.py): on SQLite in one call on the
writer's thread, elsewhere through `AsyncSession.run_sync`. `begin` increments the event's
version (an UPDATE, so it takes the row lock on PostgreSQL and the write lock on SQLite);
the action's body changes rows through `Tx`; `finish` turns what it touched into the
updates announced after the commit. The reads shared with snapshots live here too, so both
run the same queries.

Questions are ORM objects (the domain rules change their attributes). The event's settings
row and the moderators' log are not: `begin` copies the row into a plain `State`, `finish`
writes the row back if the action changed it and inserts the log in one statement, with
Core statements built once (as is the panel's read). Through the ORM's unit of work those
took about a third of an action's CPU on the writer thread (bench/).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import cast

from sqlalchemy import Table, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

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


SETTINGS = cast(Table, QaSettings.__table__)
ACTIONS = cast(Table, QaAction.__table__)
# Take the event's next version: the statement every action starts with.
NEXT_VERSION = (
    update(SETTINGS)
    .where(SETTINGS.c.event_id == bindparam("event"))
    .values(version=SETTINGS.c.version + 1)
    .returning(*SETTINGS.c)
)
# What an action may change in the row, all written back at once when any of it changed.
WRITABLE = ("premoderation", "allow_anonymous", "max_length", "open", "public_version",
            "settings_v", "panel_v")
WRITE_BACK = (
    update(SETTINGS)
    .where(SETTINGS.c.event_id == bindparam("event"))
    .values({name: bindparam(f"new_{name}") for name in WRITABLE})
)
LOG = insert(ACTIONS)
# The questions in the queue or on air, and one more by id (pass None for none).
PANEL_ROWS = select(Question).where(
    Question.event_id == bindparam("event"),
    or_(Question.queue_pos.is_not(None), Question.status == QaStatus.ON_AIR,
        Question.id == bindparam("question")),
)


@dataclasses.dataclass(slots=True)
class State:
    """The event's `qa_settings` row as an action sees it; `finish` writes back what changed."""

    event_id: int
    premoderation: bool
    allow_anonymous: bool
    max_length: int
    open: bool
    version: int
    public_version: int
    settings_v: int
    panel_v: int

    def changed(self, row: dict[str, object]) -> bool:
        """Does this differ from `row` in any column an action may write?"""
        return any(row[name] != getattr(self, name) for name in WRITABLE)

    def new_values(self) -> dict[str, object]:
        """`WRITE_BACK`'s parameters."""
        values = {f"new_{name}": getattr(self, name) for name in WRITABLE}
        values["event"] = self.event_id
        return values


@dataclasses.dataclass
class Tx:
    """One action's transaction: its session, version, time, and what it changed."""

    session: Session
    state: State
    row: dict[str, object]  # the settings row as `begin` left it
    v: int
    now: dt.datetime
    actor: str
    touched: dict[int, Question] = dataclasses.field(default_factory=dict)
    panel: bool = False
    # The panel as the action left it, when the action already read it (else `finish` does).
    panel_view: PanelView | None = None
    settings: bool = False
    actions: list[dict[str, object]] = dataclasses.field(default_factory=list)

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
        """Add to the moderators' log (written by `finish`, after the questions)."""
        self.actions.append({"event_id": self.event_id, "v": self.v, "at": self.now,
                             "actor": self.actor, "action": action, "question_id": question_id})

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
        rows = list(self.session.scalars(
            PANEL_ROWS, {"event": self.event_id, "question": question_id}
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
    found = session.connection().execute(NEXT_VERSION, {"event": event_id}).one_or_none()
    if found is None:
        raise NotFound("Q&A is not set up for this event.", code="qa.no_event")
    row = dict(found._mapping)
    state = State(**row)
    return Tx(session=session, state=state, row=row, v=state.version, now=utcnow(), actor=actor)


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
    connection = tx.session.connection()
    if tx.actions:
        connection.execute(LOG, tx.actions)
    if tx.state.changed(tx.row):
        connection.execute(WRITE_BACK, tx.state.new_values())
    return Announcement(full, public, after)


# --- reads shared by actions and snapshots ---------------------------------------------------


def closed_items(session: Session, event_id: int) -> list[int]:
    """Programme items whose questions are closed."""
    return sorted(session.scalars(
        select(QaItemSettings.item_id).where(
            QaItemSettings.event_id == event_id, QaItemSettings.open.is_(False)
        )
    ))


def rules(state: State, closed: list[int]) -> domain.Rules:
    return domain.Rules(
        premoderation=state.premoderation,
        allow_anonymous=state.allow_anonymous,
        max_length=state.max_length,
        open=state.open,
        closed_items=frozenset(closed),
    )


def settings_view(state: State | QaSettings, closed: list[int]) -> SettingsView:
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

