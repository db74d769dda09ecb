"""Q&A actions through the service: persisted in SQLite, announced on a memory hub."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import pytest
from sqlalchemy import Connection, event, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

import live.models.qa  # noqa: F401  (registers the Q&A tables)
from live.db import ThreadWriter, Writer, create_engine, open_reader, open_writer, sessionmaker
from live.errors import Conflict, Forbidden, Invalid, NotFound
from live.hub import Entry, Hub, open_hub
from live.hub.memory import MemoryHub
from live.identity import Participant
from live.models import Event, ProgrammeBlock, ProgrammeItem
from live.models.qa import QaAction, QaSettings, Question
from live.qa.domain import QaStatus
from live.qa.messages import (
    Approve,
    Ask,
    Configure,
    Done,
    Edit,
    Enqueue,
    Merge,
    Move,
    Now,
    Reject,
    decode_update,
    encode,
)
from live.qa.rows import COLUMNS, QUESTIONS
from live.qa.service import Actor, QaService
from live.realtime.channels import qa_mod_channel as mod_channel
from live.realtime.channels import qa_public_channel as public_channel

T = TypeVar("T")
VIEWER = Actor(Participant("viewer-1"))
OTHER = Actor(Participant("viewer-2"))
MOD = Actor(Participant("mod-1", "Mona"), moderator=True)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated database: SQLite and PostgreSQL (every test here runs on both)."""
    engine = create_engine(database_url)
    yield sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    async with open_hub("memory://") as opened:
        yield opened


@pytest.fixture
async def event_id(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session, session.begin():
        event = Event(slug="panel", title="Panel")
        session.add(event)
        await session.flush()
        return event.id


@pytest.fixture
async def writer(db: async_sessionmaker[AsyncSession]) -> AsyncIterator[Writer]:
    """The app's writer: its own thread on SQLite, the loop on PostgreSQL."""
    async with open_writer(db) as opened:
        yield opened


@pytest.fixture
async def reader(db: async_sessionmaker[AsyncSession]) -> AsyncIterator[Writer]:
    """The app's snapshot reader: a second thread on SQLite, the loop on PostgreSQL."""
    async with open_reader(db) as opened:
        yield opened


@pytest.fixture
async def qa(
    db: async_sessionmaker[AsyncSession], hub: Hub, writer: Writer, reader: Writer, event_id: int
) -> QaService:
    service = QaService(db, hub, writer, reader)
    await service.ensure(event_id)
    return service


async def approved(qa: QaService, event_id: int, text: str = "Why?") -> int:
    q = await qa.ask(event_id, VIEWER, Ask(id=1, text=text, name="Ada"))
    await qa.moderate(event_id, MOD, Approve(id=1, question=q.id))
    return q.id


async def test_ask_is_pending_and_hidden_from_viewers(qa: QaService, event_id: int) -> None:
    """Under pre-moderation a question is pending: moderators see it, viewers do not."""
    q = await qa.ask(event_id, VIEWER, Ask(id=1, text="  What about trains? ", name="Ada"))
    assert (q.status, q.text, q.name) == (QaStatus.PENDING, "What about trains?", "Ada")
    mod = await qa.snapshot(event_id, moderator=True)
    viewer = await qa.snapshot(event_id, moderator=False, participant=OTHER.participant)
    asker = await qa.snapshot(event_id, moderator=False, participant=VIEWER.participant)
    assert [x.id for x in mod.questions] == [q.id]
    assert viewer.questions == [] and viewer.mine == []
    assert [(x.id, x.status) for x in asker.mine] == [(q.id, QaStatus.PENDING)]


async def test_pending_question_goes_only_to_moderator_channel(
    qa: QaService, hub: Hub, event_id: int
) -> None:
    """An unapproved question is published on the moderators' channel only."""
    async with (
        hub.subscribe(mod_channel(event_id)) as mod,
        hub.subscribe(public_channel(event_id)) as public,
    ):
        q = await qa.ask(event_id, VIEWER, Ask(id=1, text="Secret?"))
        await qa.moderate(event_id, MOD, Approve(id=1, question=q.id))
        first = decode_update((await mod.get()).data)
        assert first.questions[0].status == QaStatus.PENDING
        entry = await asyncio.wait_for(public.get(), 5)
    update = decode_update(entry.data)
    assert [(x.id, x.status) for x in update.questions] == [(q.id, QaStatus.APPROVED)]
    assert entry.after == 0 and entry.v == first.v + 1


async def test_vote_twice_counts_once(qa: QaService, event_id: int) -> None:
    """A participant's second vote changes nothing; another participant's vote counts."""
    qid = await approved(qa, event_id)
    await qa.vote(event_id, VIEWER, qid)
    await qa.vote(event_id, VIEWER, qid)
    await qa.vote(event_id, OTHER, qid)
    snap = await qa.snapshot(event_id, moderator=False, participant=VIEWER.participant)
    assert snap.questions[0].votes == 2 and snap.voted == [qid]
    await qa.vote(event_id, OTHER, qid, up=False)
    assert (await qa.snapshot(event_id, moderator=True)).questions[0].votes == 1


async def test_vote_is_announced_as_a_count(qa: QaService, hub: Hub, event_id: int) -> None:
    """A vote travels as the question's new count, not its whole view (text and all)."""
    qid = await approved(qa, event_id)
    async with hub.subscribe(public_channel(event_id)) as public:
        await qa.vote(event_id, VIEWER, qid)
        update = decode_update((await asyncio.wait_for(public.get(), 5)).data)
    assert update.questions == []
    assert [(c.id, c.v, c.votes) for c in update.votes] == [(qid, update.v, 1)]
    assert b"text" not in encode(update)


async def test_queue_moves_reach_viewers_as_the_panel(
    qa: QaService, hub: Hub, event_id: int
) -> None:
    """Enqueueing or moving a question changes the panel, not the question as viewers have
    it: they get the panel alone; moderators get the question too (who moved it)."""
    a, b = await approved(qa, event_id, "A?"), await approved(qa, event_id, "B?")
    async with (
        hub.subscribe(mod_channel(event_id)) as mod,
        hub.subscribe(public_channel(event_id)) as public,
    ):
        await qa.panel(event_id, MOD, Enqueue(id=1, question=a))
        await qa.panel(event_id, MOD, Enqueue(id=1, question=b))
        await qa.panel(event_id, MOD, Move(id=1, question=b, position=0))
        await qa.panel(event_id, MOD, Now(id=1, question=b))
        seen = [decode_update((await asyncio.wait_for(public.get(), 5)).data) for _ in range(4)]
        full = [decode_update((await asyncio.wait_for(mod.get(), 5)).data) for _ in range(4)]
    assert [u.questions for u in seen[:3]] == [[], [], []]
    assert [u.panel.queue for u in seen if u.panel] == [[a], [a, b], [b, a], [a]]
    assert [(q.id, q.status) for q in seen[3].questions] == [(b, QaStatus.ON_AIR)]
    assert [[(q.id, q.action) for q in u.questions] for u in full[:3]] == [
        [(a, "enqueue")], [(b, "enqueue")], [(b, "move")]]


async def test_concurrent_votes_all_count(qa: QaService, event_id: int) -> None:
    """Thirty viewers voting at once (some twice, some taking it back): the count is exact."""
    qid = await approved(qa, event_id)
    voters = [Actor(Participant(f"voter-{i}")) for i in range(30)]
    await asyncio.gather(*(qa.vote(event_id, v, qid) for v in voters),
                         *(qa.vote(event_id, v, qid) for v in voters[:10]))
    await asyncio.gather(*(qa.vote(event_id, v, qid, up=False) for v in voters[20:]))
    assert (await qa.snapshot(event_id, moderator=True)).questions[0].votes == 20


async def test_unchanged_vote_does_not_bump_version(qa: QaService, event_id: int) -> None:
    """An action that changes nothing is rolled back and consumes no version."""
    qid = await approved(qa, event_id)
    await qa.vote(event_id, VIEWER, qid)
    before = await qa.version(event_id, moderator=True)
    await qa.vote(event_id, VIEWER, qid)
    assert await qa.version(event_id, moderator=True) == before


async def test_vote_on_unknown_or_pending_question(qa: QaService, event_id: int) -> None:
    """Voting on an unknown or unapproved question gets qa.not_found."""
    q = await qa.ask(event_id, VIEWER, Ask(id=1, text="Hidden?"))
    for qid in (q.id, 9999):
        with pytest.raises(NotFound) as caught:
            await qa.vote(event_id, OTHER, qid)
        assert caught.value.code == "qa.not_found"


async def test_merge_carries_votes_once_per_voter(qa: QaService, event_id: int) -> None:
    """Merging moves votes to the target; someone who voted for both counts once."""
    a = await approved(qa, event_id, "Trains?")
    b = await approved(qa, event_id, "What about trains?")
    await qa.vote(event_id, VIEWER, a)
    await qa.vote(event_id, OTHER, a)
    await qa.vote(event_id, VIEWER, b)
    merged = await qa.moderate(event_id, MOD, Merge(id=1, question=a, into=b))
    assert (merged.status, merged.merged_into) == (QaStatus.MERGED, b)
    snap = await qa.snapshot(event_id, moderator=False)
    assert [(x.id, x.votes) for x in snap.questions] == [(b, 2)]


async def test_edit_keeps_original_for_moderators_only(qa: QaService, event_id: int) -> None:
    """An edit keeps the original text, visible to moderators and not to viewers."""
    qid = await approved(qa, event_id, "teh trains")
    edited = await qa.moderate(event_id, MOD, Edit(id=1, question=qid, text="The trains?"))
    assert (edited.text, edited.original_text, edited.by) == ("The trains?", "teh trains", "Mona")
    public = (await qa.snapshot(event_id, moderator=False)).questions[0]
    assert (public.text, public.original_text, public.by) == ("The trains?", None, None)


async def test_panel_flow_records_every_time(qa: QaService, event_id: int) -> None:
    """enqueue → move → now → done orders the queue and stamps asked/approved/on-air/answered."""
    a, b = await approved(qa, event_id, "A?"), await approved(qa, event_id, "B?")
    await qa.panel(event_id, MOD, Enqueue(id=1, question=a))
    panel = await qa.panel(event_id, MOD, Enqueue(id=1, question=b))
    assert panel.queue == [a, b]
    assert (await qa.panel(event_id, MOD, Move(id=1, question=b, position=0))).queue == [b, a]
    panel = await qa.panel(event_id, MOD, Now(id=1, question=b))
    assert (panel.queue, panel.now) == ([a], b)
    panel = await qa.panel(event_id, MOD, Now(id=1, question=a))
    assert (panel.queue, panel.now) == ([], a)
    assert (await qa.panel(event_id, MOD, Done(id=1, question=None))).now is None
    snap = await qa.snapshot(event_id, moderator=True)
    for q in snap.questions:
        assert q.status == QaStatus.ANSWERED
        assert q.asked_at and q.approved_at and q.on_air_at and q.answered_at


async def test_each_moderator_action_is_a_few_statements(
    qa: QaService, writer: Writer, event_id: int
) -> None:
    """Approve and panel steps: five statements each, however many questions move (were 13).

    A moderator action's cost is mostly its round trips to the database, and every viewer
    waits for it (bench: 1,000 viewers at one change a second).
    """
    a, b = await approved(qa, event_id, "A?"), await approved(qa, event_id, "B?")
    q = await qa.ask(event_id, VIEWER, Ask(id=1, text="C?"))
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(statement)

    engine = writer.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        counts = {}
        for name, action in [
            ("approve", lambda: qa.moderate(event_id, MOD, Approve(id=1, question=q.id))),
            ("enqueue", lambda: qa.panel(event_id, MOD, Enqueue(id=1, question=a))),
            ("enqueue", lambda: qa.panel(event_id, MOD, Enqueue(id=1, question=b))),
            ("move", lambda: qa.panel(event_id, MOD, Move(id=1, question=b, position=0))),
            ("now", lambda: qa.panel(event_id, MOD, Now(id=1, question=b))),
            ("done", lambda: qa.panel(event_id, MOD, Done(id=1, question=None))),
        ]:
            statements.clear()
            await action()
            counts[name] = len([s for s in statements if not s.startswith(("BEGIN", "COMMIT"))])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # Every question whose row changes is written in one UPDATE: move and now change two.
    assert counts == {"approve": 5, "enqueue": 5, "move": 5, "now": 5, "done": 5}, counts
    assert (await qa.snapshot(event_id, moderator=True)).panel.queue == [a]


async def test_viewer_moderator_action_is_forbidden(qa: QaService, event_id: int) -> None:
    """A viewer cannot approve or touch the panel."""
    q = await qa.ask(event_id, VIEWER, Ask(id=1, text="Me?"))
    with pytest.raises(Forbidden):
        await qa.moderate(event_id, VIEWER, Approve(id=1, question=q.id))
    with pytest.raises(Forbidden):
        await qa.panel(event_id, VIEWER, Enqueue(id=1, question=q.id))


async def test_concurrent_moderators_lose_nothing(qa: QaService, event_id: int) -> None:
    """Moderators enqueueing at the same time each get their question on the queue."""
    ids = [await approved(qa, event_id, f"Q{i}?") for i in range(8)]
    await asyncio.gather(*(qa.panel(event_id, MOD, Enqueue(id=1, question=qid)) for qid in ids))
    snap = await qa.snapshot(event_id, moderator=True)
    assert sorted(snap.panel.queue) == sorted(ids)
    assert len({x.v for x in snap.questions}) == len(ids)


class CountingWriter:
    """A writer that records how many transactions were handed over at once."""

    def __init__(self, writer: Writer) -> None:
        self._writer, self.engine = writer, writer.engine
        self.in_flight = self.most = 0

    async def run(self, fn: Callable[[Session], T]) -> T:
        return await self._writer.run(fn)

    async def transact(self, fn: Callable[[Connection], T]) -> T:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            return await self._writer.transact(fn)
        finally:
            self.in_flight -= 1


async def test_one_events_actions_take_turns_in_the_service(
    db: async_sessionmaker[AsyncSession], hub: Hub, writer: Writer, event_id: int
) -> None:
    """Actions on one event arriving at once wait on the service's lock, not in the database
    (one transaction handed to the writer at a time), and are announced in version order."""
    counting = CountingWriter(writer)
    qa = QaService(db, hub, counting)
    await qa.ensure(event_id)
    ids = [await approved(qa, event_id, f"Q{i}?") for i in range(6)]
    async with hub.subscribe(mod_channel(event_id)) as mod:
        await asyncio.gather(
            *(qa.panel(event_id, MOD, Enqueue(id=1, question=qid)) for qid in ids),
            *(qa.vote(event_id, Actor(Participant(f"v{i}")), ids[0]) for i in range(6)),
        )
        versions = [(await mod.get()).v for _ in range(12)]
    assert counting.most == 1
    assert versions == sorted(versions) and len(set(versions)) == 12


async def test_racing_approve_and_reject_conflict(qa: QaService, event_id: int) -> None:
    """Two moderators rejecting the same question: one succeeds, the other gets a conflict."""
    q = await qa.ask(event_id, VIEWER, Ask(id=1, text="Twice?"))
    results = await asyncio.gather(
        qa.moderate(event_id, MOD, Reject(id=1, question=q.id)),
        qa.moderate(event_id, MOD, Reject(id=1, question=q.id)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Conflict) for r in results) == 1


async def test_settings_close_and_open(qa: QaService, event_id: int) -> None:
    """Closing Q&A refuses viewer questions with qa.closed until it opens again."""
    await qa.configure(event_id, MOD, Configure(id=1, open=False, premoderation=False))
    with pytest.raises(Conflict) as caught:
        await qa.ask(event_id, VIEWER, Ask(id=2, text="Now?"))
    assert caught.value.code == "qa.closed"
    await qa.configure(event_id, MOD, Configure(id=3, open=True))
    q = await qa.ask(event_id, VIEWER, Ask(id=4, text="Now?"))
    assert q.status == QaStatus.APPROVED


async def test_actions_are_logged_with_actor(
    qa: QaService, db: async_sessionmaker[AsyncSession], event_id: int
) -> None:
    """Actions land in the action log with who did them (an asker by the name they gave)."""
    await approved(qa, event_id)
    async with db() as session:
        rows = (await session.scalars(select(QaAction).order_by(QaAction.v))).all()
    assert [(r.action, r.actor) for r in rows] == [
        ("ask", "Ada"),
        ("approve", "Mona"),
    ]


async def test_an_actions_rows_are_stored_as_the_orm_stores_them(
    qa: QaService, db: async_sessionmaker[AsyncSession], event_id: int
) -> None:
    """What an action writes through Core reads back through the ORM as it was meant (aware
    UTC datetimes, booleans), and is stored exactly as the ORM stores the same values."""
    asked = await qa.ask(event_id, MOD, Ask(id=1, text="From the floor?"))
    async with db() as session:
        row = await session.get(Question, asked.id)
        assert row is not None and row.floor is True
        assert row.asked_at.tzinfo == dt.UTC and row.approved_at == row.asked_at
        logged = await session.scalar(select(QaAction).where(QaAction.question_id == asked.id))
        assert logged is not None and logged.at == row.asked_at
        copy = Question(event_id=event_id, participant=row.participant, text="copy",
                        status=row.status, floor=True, asked_at=row.asked_at)
        session.add(copy)
        await session.commit()
        stored = (await session.execute(
            text("SELECT CAST(asked_at AS TEXT), CAST(floor AS TEXT) FROM qa_questions "
                 "WHERE id IN (:a, :b) ORDER BY id"),
            {"a": asked.id, "b": copy.id},
        )).all()
    assert stored[0] == stored[1]


async def test_question_for_unknown_programme_item(qa: QaService, event_id: int) -> None:
    """A question naming a programme item of no such item gets qa.unknown_item."""
    with pytest.raises(Invalid) as caught:
        await qa.ask(event_id, VIEWER, Ask(id=1, text="Item?", item=424242))
    assert caught.value.code == "qa.unknown_item"


async def programme_item(db: async_sessionmaker[AsyncSession], slug: str) -> tuple[int, int]:
    """A new event with one programme item: (event id, item id)."""
    async with db() as session, session.begin():
        event = Event(slug=slug, title=slug)
        session.add(event)
        await session.flush()
        block = ProgrammeBlock(event_id=event.id, title="Morning")
        session.add(block)
        await session.flush()
        item = ProgrammeItem(event_id=event.id, block_id=block.id, title="Talk")
        session.add(item)
        await session.flush()
        return event.id, item.id


async def test_closing_one_programme_item(
    qa: QaService, db: async_sessionmaker[AsyncSession]
) -> None:
    """An item closed for questions refuses them with qa.closed while the rest stay open;
    an item of another event is refused as unknown, and cannot be closed from here."""
    event_id, item = await programme_item(db, "items")
    other_event, other_item = await programme_item(db, "elsewhere")
    await qa.ensure(event_id)
    await qa.configure(event_id, MOD, Configure(id=1, item=item, open=False))
    assert (await qa.snapshot(event_id, moderator=False)).settings.closed_items == [item]
    with pytest.raises(Conflict) as caught:
        await qa.ask(event_id, VIEWER, Ask(id=2, text="On the talk?", item=item))
    assert caught.value.code == "qa.closed"
    general = await qa.ask(event_id, VIEWER, Ask(id=3, text="In general?"))
    assert general.status == QaStatus.PENDING
    with pytest.raises(Invalid) as unknown:
        await qa.configure(event_id, MOD, Configure(id=4, item=other_item, open=False))
    assert unknown.value.code == "qa.unknown_item"
    await qa.ensure(other_event)
    assert (await qa.snapshot(other_event, moderator=True)).settings.closed_items == []
    await qa.configure(event_id, MOD, Configure(id=5, item=item, open=True))
    assert (await qa.snapshot(event_id, moderator=True)).settings.closed_items == []
    on_item = await qa.ask(event_id, VIEWER, Ask(id=6, text="On the talk?", item=item))
    assert on_item.item == item


def test_question_rows_mirror_the_table() -> None:
    """An action's plain rows have every column of `qa_questions`, in the table's order."""
    assert COLUMNS == tuple(column.name for column in QUESTIONS.c)


async def test_an_action_writes_back_only_the_questions_it_changed(
    qa: QaService, writer: Writer, event_id: int
) -> None:
    """Moving a question shifts the ones it passes, all in one UPDATE; a move that leaves
    the order as it was writes only the moved question (its version and last action)."""
    a, b, c = [await approved(qa, event_id, text) for text in ("A?", "B?", "C?")]
    for q in (a, b, c):
        await qa.panel(event_id, MOD, Enqueue(id=1, question=q))
    written: list[list[int]] = []

    def seen(conn: object, cursor: object, statement: str, params: object, *rest: object) -> None:
        if statement.startswith("UPDATE qa_questions"):
            many = params if isinstance(params, list) else [params]
            written.append(sorted(p[-1] if isinstance(p, tuple) else p["b_id"] for p in many))

    event.listen(writer.engine, "before_cursor_execute", seen)
    try:
        moved = await qa.panel(event_id, MOD, Move(id=1, question=c, position=0))
        again = await qa.panel(event_id, MOD, Move(id=1, question=c, position=0))
    finally:
        event.remove(writer.engine, "before_cursor_execute", seen)
    assert moved.queue == again.queue == [c, a, b]
    assert written == [sorted([a, b, c]), [c]]
    snap = await qa.snapshot(event_id, moderator=True)
    assert snap.panel.queue == [c, a, b]
    assert {q.id: q.action for q in snap.questions} == {a: "enqueue", b: "enqueue", c: "move"}


async def test_viewer_snapshot_follows_public_changes(qa: QaService, event_id: int) -> None:
    """A reused viewer snapshot is replaced as soon as anything public changes."""
    qid = await approved(qa, event_id)
    first = await qa.snapshot(event_id, moderator=False)
    assert await qa.snapshot(event_id, moderator=False) == first
    await qa.vote(event_id, OTHER, qid)
    second = await qa.snapshot(event_id, moderator=False)
    assert second.v > first.v and second.questions[0].votes == 1


class BrokenHub(MemoryHub):
    """A hub whose every publish fails, as when Redis is unreachable."""

    async def publish(self, channel: str, entry: Entry) -> None:
        raise ConnectionError("hub down")


async def test_commit_stands_when_the_hub_is_down(
    db: async_sessionmaker[AsyncSession], writer: Writer, event_id: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A committed question is acknowledged even if its notice cannot be published."""
    qa = QaService(db, BrokenHub(), writer)
    await qa.ensure(event_id)
    q = await qa.ask(event_id, VIEWER, Ask(id=1, text="Still there?"))
    assert [x.id for x in (await qa.snapshot(event_id, moderator=True)).questions] == [q.id]
    assert "could not announce" in caplog.text


async def test_an_action_runs_whole_on_the_writer(
    qa: QaService, writer: Writer, event_id: int, database_url: str
) -> None:
    """On SQLite every statement of an action runs on the writer's own thread (one hand-off
    per action, not one per statement); on PostgreSQL on the event loop's thread."""
    threads: set[int] = set()

    def seen(*_args: object) -> None:
        threads.add(threading.get_ident())

    q = await qa.ask(event_id, VIEWER, Ask(id=1, text="Where?"))
    event.listen(writer.engine, "before_cursor_execute", seen)
    try:
        await qa.moderate(event_id, MOD, Approve(id=1, question=q.id))
        await qa.panel(event_id, MOD, Now(id=1, question=q.id))
    finally:
        event.remove(writer.engine, "before_cursor_execute", seen)
    on_sqlite = database_url.startswith("sqlite")
    assert isinstance(writer, ThreadWriter) == on_sqlite
    assert len(threads) == 1
    assert (threading.get_ident() in threads) == (not on_sqlite)
    snap = await qa.snapshot(event_id, moderator=False)
    assert snap.panel.now == q.id and [x.id for x in snap.questions] == [q.id]


async def test_snapshots_are_read_whole_on_the_reader(
    qa: QaService, writer: Writer, reader: Writer, event_id: int, database_url: str
) -> None:
    """On SQLite a snapshot (and a version) is read in one call on a thread of its own, not
    the writer's (reads never queue behind writes); on PostgreSQL on the event loop."""
    q = await qa.ask(event_id, VIEWER, Ask(id=1, text="Who?"))
    threads: set[int] = set()

    def seen(*_args: object) -> None:
        threads.add(threading.get_ident())

    event.listen(reader.engine, "before_cursor_execute", seen)
    try:
        snap = await qa.snapshot(event_id, moderator=True)
        version = await qa.version(event_id, moderator=True)
    finally:
        event.remove(reader.engine, "before_cursor_execute", seen)
    assert [x.id for x in snap.questions] == [q.id] and version == snap.v == q.v
    on_sqlite = database_url.startswith("sqlite")
    assert isinstance(reader, ThreadWriter) == on_sqlite
    assert len(threads) == 1
    assert (threading.get_ident() in threads) == (not on_sqlite)
    if on_sqlite:
        assert reader is not writer and reader.engine is not writer.engine


async def test_an_action_waits_for_another_writer(
    qa: QaService, db: async_sessionmaker[AsyncSession], event_id: int
) -> None:
    """While another connection holds the event's version row (or SQLite's write lock), an
    action waits for it instead of failing, and then takes the next version."""
    async with db() as session, session.begin():
        state = await session.get(QaSettings, event_id, with_for_update=True)
        assert state is not None
        state.version += 1
        await session.flush()  # on SQLite this takes the write lock
        asking = asyncio.create_task(qa.ask(event_id, VIEWER, Ask(id=1, text="Waiting?")))
        await asyncio.sleep(0.3)
        assert not asking.done()
        held = state.version
    q = await asyncio.wait_for(asking, 10)
    assert q.v == held + 1
    assert await qa.version(event_id, moderator=True) == held + 1
