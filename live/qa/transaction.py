"""One Q&A action's transaction, as plain synchronous SQLAlchemy Core on one connection.

An action runs whole inside `Writer.transact` (live/db.py): on SQLite in one call on the
writer's thread, elsewhere through `AsyncConnection.run_sync`. `begin` increments the
event's version (an UPDATE, so it takes the row lock on PostgreSQL and the write lock on
SQLite); the action's body changes rows through `Tx`; `finish` writes back what changed and
turns what it touched into the updates announced after the commit. The reads shared with
snapshots live here too, so both run the same queries.

Nothing here goes through the ORM's unit of work: questions are plain rows
(live/qa/rows.py) that the domain rules change; the event's settings row is copied into a
plain `State` and written back if the action changed it; the moderators' log is inserted in
one statement. The statements every action runs are built once, at import.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import cast

from sqlalchemy import (
    Connection,
    Integer,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from live.errors import Invalid, NotFound
from live.models import ProgrammeItem
from live.models.base import utcnow
from live.models.qa import QaAction, QaItemSettings, QaSettings, QaVote
from live.qa import domain
from live.qa.domain import QaStatus
from live.qa.messages import (
    LogEntry,
    PanelView,
    SettingsView,
    Update,
    VoteCount,
    public_update,
)
from live.qa.rows import COLUMNS, QUESTIONS, SELECT, QuestionRow, Rows
from live.qa.views import question_view

# Where the shared reads run: an action's connection, or a snapshot's session.
Db = Connection | Session


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


# The columns of a question (`live.qa.rows.COLUMNS`) that its public view shows.
SEEN_BY_VIEWERS = tuple(COLUMNS.index(name) for name in (
    "item_id", "name", "organisation", "text", "status", "floor", "votes", "merged_into",
    "asked_at", "approved_at", "on_air_at", "answered_at"))
SETTINGS = cast(Table, QaSettings.__table__)
ACTIONS = cast(Table, QaAction.__table__)
# Take the event's next version: the statement every action starts with.
NEXT_VERSION = (
    update(SETTINGS)
    .where(SETTINGS.c.event_id == bindparam("event"))
    .values(version=SETTINGS.c.version + 1)
    .returning(*SETTINGS.c)
)
SETTINGS_KEYS = tuple(column.key for column in SETTINGS.c)
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
PANEL_ROWS = SELECT.where(
    QUESTIONS.c.event_id == bindparam("event"),
    or_(QUESTIONS.c.queue_pos.is_not(None), QUESTIONS.c.status == QaStatus.ON_AIR,
        QUESTIONS.c.id == bindparam("question")),
)
QUEUE = SELECT.where(
    QUESTIONS.c.event_id == bindparam("event"), QUESTIONS.c.queue_pos.is_not(None)
).order_by(QUESTIONS.c.queue_pos)
ITEMS = cast(Table, ProgrammeItem.__table__)
ITEM_EVENT = select(ITEMS.c.event_id).where(ITEMS.c.id == bindparam("item"))
ITEM_SETTINGS = cast(Table, QaItemSettings.__table__)
VOTES = cast(Table, QaVote.__table__)
HAS_VOTE = select(VOTES.c.question_id).where(
    VOTES.c.question_id == bindparam("question"), VOTES.c.participant == bindparam("participant")
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
    """One action's transaction: its connection, version, time, and what it changed."""

    connection: Connection
    state: State
    row: dict[str, object]  # the settings row as `begin` left it
    v: int
    now: dt.datetime
    actor: str
    questions: Rows
    touched: dict[int, QuestionRow] = dataclasses.field(default_factory=dict)
    # Questions whose vote count alone changed: announced as counts, not whole views.
    counted: dict[int, QuestionRow] = dataclasses.field(default_factory=dict)
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
        return bool(self.touched or self.counted or self.panel or self.settings)

    def touch(self, q: QuestionRow, action: str) -> None:
        """Mark `q` changed by `action` at this version, and log the action."""
        self._stamp(q, action)
        self.touched[q.id] = q
        self.log(action, q.id)

    def add(self, q: QuestionRow, action: str) -> QuestionRow:
        """Insert a new question, changed by `action` at this version, and log the action."""
        self._stamp(q, action)
        self.questions.add(q)
        self.touched[q.id] = q
        self.log(action, q.id)
        return q

    def _stamp(self, q: QuestionRow, action: str) -> None:
        q.v = self.v
        q.last_actor = self.actor
        q.last_action = action

    def log(self, action: str, question_id: int | None) -> None:
        """Add to the moderators' log (written by `finish`, after the questions)."""
        self.actions.append({"event_id": self.event_id, "v": self.v, "at": self.now,
                             "actor": self.actor, "action": action, "question_id": question_id})

    def question(self, question_id: int) -> QuestionRow | None:
        q = self.questions.get(question_id)
        return q if q is not None and q.event_id == self.event_id else None

    def queue(self) -> list[QuestionRow]:
        return self.questions.read(QUEUE, {"event": self.event_id})

    def panel_rows(
        self, question_id: int | None
    ) -> tuple[list[QuestionRow], QuestionRow | None, QuestionRow | None]:
        """The queue in order, the question on air and question `question_id`, in one query."""
        rows = self.questions.read(PANEL_ROWS, {"event": self.event_id, "question": question_id})
        queue = sorted((q for q in rows if q.queue_pos is not None), key=lambda q: q.queue_pos or 0)
        on_air = next((q for q in rows if q.status == QaStatus.ON_AIR), None)
        found = next((q for q in rows if q.id == question_id), None)
        return queue, on_air, found

    def check_item(self, item_id: int | None) -> None:
        """Refuse a programme item that is not part of this event."""
        if item_id is None:
            return
        owner = self.connection.execute(ITEM_EVENT, {"item": item_id}).scalar()
        if owner != self.event_id:
            raise Invalid(f"No programme item {item_id} here.", code="qa.unknown_item",
                          fields={"item": "unknown"})

    def leave_queue(self, q: QuestionRow, change: Callable[[], None]) -> None:
        """Apply `change` to `q`; if it was queued, close the gap it leaves."""
        was_queued = q.queue_pos is not None
        change()
        if was_queued:
            order = [x for x in self.queue() if x.id != q.id]
            domain.apply_order({x.id: x for x in order}, [x.id for x in order])
            self.panel = True


def begin(connection: Connection, event_id: int, actor: str) -> Tx:
    """Take the event's next version (and its lock) and start an action."""
    found = connection.execute(NEXT_VERSION, {"event": event_id}).first()
    if found is None:
        raise NotFound("Q&A is not set up for this event.", code="qa.no_event")
    row = dict(zip(SETTINGS_KEYS, found, strict=True))
    state = State(**row)
    return Tx(connection=connection, state=state, row=row, v=state.version,
              now=utcnow(), actor=actor, questions=Rows(connection))


def finish(tx: Tx) -> Announcement:
    """Write what is left and say what changed; the caller's transaction commits.

    Viewers get a touched question only when something they see of it changed: moving it
    in the queue changes the panel, not the question as a viewer has it."""
    seen = {q.id for q in tx.touched.values() if tx.questions.changed(q, SEEN_BY_VIEWERS)}
    tx.questions.write()
    panel = tx.panel_view
    if tx.panel:
        if panel is None:
            panel = read_panel(tx.connection, tx.event_id, tx.v)
        tx.state.panel_v = tx.v
    settings = None
    if tx.settings:
        tx.state.settings_v = tx.v
        settings = settings_view(tx.state, closed_items(tx.connection, tx.event_id))
    full = Update(
        v=tx.v,
        questions=[question_view(q) for q in tx.touched.values()],
        votes=[VoteCount(id=q.id, v=q.v, votes=q.votes) for q in tx.counted.values()
               if q.id not in tx.touched],
        panel=panel,
        settings=settings,
        log=[log_entry(a) for a in tx.actions],
    )
    public = public_update(full, seen)
    after = tx.state.public_version
    if public is not None:
        tx.state.public_version = tx.v
    if tx.actions:
        tx.connection.execute(LOG, tx.actions)
    if tx.state.changed(tx.row):
        tx.connection.execute(WRITE_BACK, tx.state.new_values())
    return Announcement(full, public, after)


# --- reads shared by actions and snapshots ---------------------------------------------------

LOG_SHOWN = 200  # the newest actions a moderator's snapshot carries


def log_entry(row: dict[str, object]) -> LogEntry:
    """A logged action (a row of `qa_actions` as a mapping) as the moderators see it."""
    at = cast(dt.datetime, row["at"])
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC
    question = row["question_id"]
    return LogEntry(v=cast(int, row["v"]), at=at.isoformat(), action=str(row["action"]),
                    by=str(row["actor"]), question=cast(int | None, question))


def read_log(db: Db, event_id: int) -> list[LogEntry]:
    """The newest `LOG_SHOWN` actions of the event, oldest first, each with its own time."""
    rows = db.execute(
        select(ACTIONS.c.v, ACTIONS.c.at, ACTIONS.c.actor, ACTIONS.c.action,
               ACTIONS.c.question_id)
        .where(ACTIONS.c.event_id == event_id)
        .order_by(ACTIONS.c.id.desc()).limit(LOG_SHOWN)
    ).mappings().all()
    return [log_entry(dict(row)) for row in reversed(rows)]



def closed_items(db: Db, event_id: int) -> list[int]:
    """Programme items whose questions are closed."""
    return sorted(db.scalars(
        select(ITEM_SETTINGS.c.item_id).where(
            ITEM_SETTINGS.c.event_id == event_id, ITEM_SETTINGS.c.open.is_(False)
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


def panel_of(questions: list[QuestionRow], v: int) -> PanelView:
    """The panel from the questions that are queued or on air (others may be among them)."""
    queue = sorted((q for q in questions if q.queue_pos is not None),
                   key=lambda q: q.queue_pos or 0)
    now = next((q.id for q in questions if q.status == QaStatus.ON_AIR), None)
    return PanelView(v=v, queue=list(dict.fromkeys(q.id for q in queue)), now=now)


def read_panel(db: Db, event_id: int, v: int) -> PanelView:
    """The queue in order and the question on air, in one query."""
    rows = db.execute(
        select(QUESTIONS.c.id, QUESTIONS.c.queue_pos, QUESTIONS.c.status)
        .where(QUESTIONS.c.event_id == event_id,
               or_(QUESTIONS.c.queue_pos.is_not(None), QUESTIONS.c.status == QaStatus.ON_AIR))
    ).all()
    queue = [r.id for r in sorted((r for r in rows if r.queue_pos is not None),
                                  key=lambda r: r.queue_pos or 0)]
    now = next((r.id for r in rows if r.status == QaStatus.ON_AIR), None)
    return PanelView(v=v, queue=queue, now=now)


# --- writes besides questions ----------------------------------------------------------------


def has_vote(connection: Connection, question_id: int, participant: str) -> bool:
    found = connection.execute(HAS_VOTE, {"question": question_id, "participant": participant})
    return found.first() is not None


def add_vote(connection: Connection, question_id: int, participant: str, at: dt.datetime) -> None:
    connection.execute(
        insert(VOTES).values(question_id=question_id, participant=participant, created_at=at)
    )


def remove_vote(connection: Connection, question_id: int, participant: str) -> None:
    connection.execute(
        delete(VOTES).where(VOTES.c.question_id == question_id, VOTES.c.participant == participant)
    )


def count_votes(connection: Connection, question_id: int) -> int:
    count = connection.scalar(
        select(func.count()).select_from(VOTES).where(VOTES.c.question_id == question_id)
    )
    return int(count or 0)


def move_votes(connection: Connection, source: int, target: int) -> None:
    """Carry votes over; a participant who voted for both still counts once."""
    already = select(VOTES.c.participant).where(VOTES.c.question_id == target)
    carried = select(literal(target, Integer), VOTES.c.participant, VOTES.c.created_at).where(
        VOTES.c.question_id == source, VOTES.c.participant.not_in(already)
    )
    connection.execute(
        insert(VOTES).from_select(["question_id", "participant", "created_at"], carried)
    )
    connection.execute(delete(VOTES).where(VOTES.c.question_id == source))


def open_item(connection: Connection, event_id: int, item_id: int, is_open: bool | None) -> None:
    """Open or close one programme item's questions (created open unless `is_open` is False)."""
    owner = connection.execute(
        select(ITEM_SETTINGS.c.event_id).where(ITEM_SETTINGS.c.item_id == item_id)
    ).scalar()
    if owner is None:
        connection.execute(insert(ITEM_SETTINGS).values(
            item_id=item_id, event_id=event_id, open=is_open is not False
        ))
    elif owner == event_id and is_open is not None:
        connection.execute(
            update(ITEM_SETTINGS).where(ITEM_SETTINGS.c.item_id == item_id).values(open=is_open)
        )
