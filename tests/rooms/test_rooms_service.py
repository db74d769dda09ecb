"""Group work through the service and the room handlers (no sockets), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import live.models.qa
import live.models.registration
import live.models.rooms  # noqa: F401
from live.db import create_engine, sessionmaker
from live.errors import Conflict, Forbidden, Invalid, SalenError
from live.hub import Hub, open_hub
from live.identity import registration_participant
from live.models import Base, Event, Occurrence, Organisation, Theme
from live.models.base import utcnow
from live.models.registration import Attendance, Registration, Status
from live.rooms import report
from live.rooms.domain import Placement
from live.rooms.handlers import RoomHandlers
from live.rooms.messages import NoteAdd, NoteEdit, RoomBroadcast, RoomJoin, RoomsOpen, RoomTimer
from live.rooms.service import RoomsService, Who

DB = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class Seeded:
    """The seeded workshop: event id, slug, theme ids and the registrants' participant ids."""

    event_id: int
    slug: str
    themes: tuple[int, int]
    people: tuple[str, ...]


async def create_tables(url: str) -> None:
    """Every table (migrations do not know the newer modules' tables yet)."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()


async def seed_workshop(db: DB, *, online: int = 12, in_person: int = 0,
                        first_theme: int = 7, slug: str = "workshop") -> Seeded:
    """Two themes and confirmed registrations: the first `first_theme` choose theme one."""
    async with db() as session, session.begin():
        event = Event(slug=slug, title="Workshop", moderator_token=f"mod-{slug}")
        session.add(event)
        await session.flush()
        occ = Occurrence(event_id=event.id, slug="oslo", city="Oslo",
                         starts_at=utcnow(), ends_at=utcnow() + dt.timedelta(hours=6))
        themes = [Theme(event_id=event.id, slug="t1", position=0, title="Sustainability",
                        brief="How can the goals help?"),
                  Theme(event_id=event.id, slug="t2", position=1, title="Skills",
                        brief="Which skills are missing?")]
        orgs = [Organisation(name=f"County {slug} {i}", key=f"county-{slug}-{i}",
                             region=f"region {i % 2}") for i in range(3)]
        session.add_all([occ, *themes, *orgs])
        await session.flush()
        regs = []
        for i in range(online + in_person):
            regs.append(Registration(
                event_id=event.id, occurrence_id=occ.id, status=Status.CONFIRMED,
                attendance=Attendance.ONLINE if i < online else Attendance.IN_PERSON,
                name=f"Person {i}", email=f"p{i}@{slug}.example",
                theme_id=themes[0 if i < first_theme else 1].id,
                organisation_id=orgs[i % 3].id))
        session.add_all(regs)
        await session.flush()
        return Seeded(event.id, slug, (themes[0].id, themes[1].id),
                      tuple(registration_participant(r.id) for r in regs))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db_both(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DB]:
    """A fresh database with every table, on SQLite and on PostgreSQL."""
    async for maker in _database(request, tmp_path, request.param):
        yield maker


@pytest.fixture
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DB]:
    """A fresh SQLite database with every table (for tests not about the database)."""
    async for maker in _database(request, tmp_path, "sqlite"):
        yield maker


async def _database(request: pytest.FixtureRequest, tmp_path: Path, kind: str
                    ) -> AsyncIterator[DB]:
    server = None
    name = ""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'rooms.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        name = f"t_{uuid.uuid4().hex[:16]}"
        url = server.create_database(name)
    await create_tables(url)
    engine = create_engine(url)
    yield sessionmaker(engine)
    await engine.dispose()
    if server is not None:
        server.drop_database(name)


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    async with open_hub("memory://") as memory:
        yield memory


class Inbox:
    """What a connection was pushed, decoded."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    def send(self, text: str) -> None:
        self.items.append(json.loads(text))
        self.arrived.set()

    async def wait_for(self, type_: str) -> dict[str, Any]:
        while True:
            for item in self.items:
                if item["type"] == type_:
                    self.items.remove(item)
                    return item
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 10)


async def connect(service: RoomsService, hub: Hub, seeded: Seeded, who: Who
                  ) -> tuple[RoomHandlers, Inbox]:
    inbox = Inbox()
    handlers = RoomHandlers(service, hub, event_id=seeded.event_id, slug=seeded.slug, who=who,
                            send=inbox.send)
    await handlers.start()
    first = await inbox.wait_for("rooms.state")  # the state on connect
    assert first["v"] >= 0 and "state" in first
    return handlers, inbox


MOD = Who("moderator", "Moderator", moderator=True)


async def opened(db: DB, hub: Hub, placement: Placement = Placement.THEME,
                 **seed: Any) -> tuple[RoomsService, Seeded]:
    seeded = await seed_workshop(db, **seed)
    service = RoomsService(db, hub)
    await service.configure(seeded.event_id, placement=placement, room_size=4)
    await service.plan_rooms(seeded.event_id)
    await service.open(seeded.event_id, minutes=30)
    return service, seeded


async def test_twelve_registrants_two_themes_room_size_four(db_both: DB, hub: Hub) -> None:
    """Planning from 12 registrations (7 + 5) with room size 4 gives rooms of 4, 3, 3 and 2."""
    seeded = await seed_workshop(db_both)
    service = RoomsService(db_both, hub)
    await service.configure(seeded.event_id, placement=Placement.THEME, room_size=4)
    await service.plan_rooms(seeded.event_id)
    rooms = await service.rooms(seeded.event_id)
    assert [(r.theme, len(r.members)) for r in rooms] == [
        (seeded.themes[0], 4), (seeded.themes[0], 3), (seeded.themes[1], 3),
        (seeded.themes[1], 2)]
    assert sorted(m.participant for r in rooms for m in r.members) == sorted(seeded.people)
    assert [s.key for s in rooms[0].sections] == ["challenges", "proposals"]


async def test_opening_tells_everyone_and_each_finds_their_room(db: DB, hub: Hub) -> None:
    """rooms.open pushes rooms.state to every connection; room.join with no room finds theirs."""
    seeded = await seed_workshop(db)
    service = RoomsService(db, hub)
    await service.configure(seeded.event_id, placement=Placement.THEME, room_size=4)
    await service.plan_rooms(seeded.event_id)
    mod, _ = await connect(service, hub, seeded, MOD)
    members = [await connect(service, hub, seeded, Who(p)) for p in seeded.people[:3]]
    reply = await mod.handle(RoomsOpen(id=1, minutes=20))
    assert reply.session is not None and reply.session.state == "open"
    for handlers, inbox in members:
        pushed = await inbox.wait_for("rooms.state")
        assert pushed["state"] == "open" and pushed["ends_at"] == reply.session.ends_at
        joined = await handlers.handle(RoomJoin(id=2))
        assert joined.room is not None and handlers.who.participant in {
            m.participant for m in joined.room.members}
        assert joined.room.url == f"/e/{seeded.slug}/rooms/{joined.room.id}"
    for handlers, _ in [*members, (mod, None)]:
        await handlers.aclose()


async def test_only_members_and_moderators_reach_a_room(db: DB, hub: Hub) -> None:
    """Another theme's room is refused with a code; non-members cannot write or read it."""
    service, seeded = await opened(db, hub)
    rooms = await service.rooms(seeded.event_id)
    other_theme = rooms[2]
    first = Who(seeded.people[0])  # theme one
    with pytest.raises(Forbidden) as wrong:
        await service.join(seeded.event_id, first, other_theme.id)
    assert wrong.value.code == "rooms.wrong_theme"
    with pytest.raises(Forbidden) as not_member:
        await service.add_note(seeded.event_id, first, other_theme.id, "challenges", "hi")
    assert not_member.value.code == "rooms.not_member"
    with pytest.raises(Forbidden):
        await service.room_view(seeded.event_id, Who("stranger"), other_theme.id)
    assert (await service.room_view(seeded.event_id, MOD, other_theme.id)).id == other_theme.id


async def test_full_room_is_refused(db: DB, hub: Hub) -> None:
    """Free choice: a fifth person joining a room of four gets rooms.full."""
    service, seeded = await opened(db, hub, Placement.FREE)
    room = (await service.rooms(seeded.event_id))[0]
    for participant in seeded.people[:4]:
        await service.join(seeded.event_id, Who(participant), room.id)
    with pytest.raises(Conflict) as full:
        await service.join(seeded.event_id, Who(seeded.people[4]), room.id)
    assert full.value.code == "rooms.full"


async def test_concurrent_edits_of_one_item_both_survive(db_both: DB, hub: Hub) -> None:
    """Two members edit the same item from the same version at once: neither text is lost."""
    service, seeded = await opened(db_both, hub)
    a = Who(seeded.people[0], "A")
    room = await service.join(seeded.event_id, a, None)
    b = Who(next(m.participant for m in room.members if m.participant != a.participant), "B")
    await service.join(seeded.event_id, b, None)
    note = await service.add_note(seeded.event_id, a, room.id, "challenges", "draft")
    results = await asyncio.gather(
        service.edit_note(seeded.event_id, a, room.id, note.id, note.version, "text from A"),
        service.edit_note(seeded.event_id, b, room.id, note.id, note.version, "text from B"))
    texts = {n.text for n in (await service.room_view(seeded.event_id, a, room.id)).notes}
    assert {"text from A", "text from B"} <= texts
    assert sum(1 for _, kept in results if kept is not None) == 1


async def test_stale_edit_without_keep_both_gets_the_current_text(db: DB, hub: Hub) -> None:
    """A stale edit with keep_both false is refused with the current text and version."""
    service, seeded = await opened(db, hub)
    a = Who(seeded.people[0], "A")
    room = await service.join(seeded.event_id, a, None)
    note = await service.add_note(seeded.event_id, a, room.id, "proposals", "one")
    await service.edit_note(seeded.event_id, a, room.id, note.id, 1, "two")
    with pytest.raises(SalenError) as stale:
        await service.edit_note(seeded.event_id, a, room.id, note.id, 1, "three",
                                keep_both=False)
    assert stale.value.code == "rooms.note_conflict"
    assert stale.value.fields == {"text": "two", "version": "2"}


async def test_note_limits_and_sections(db: DB, hub: Hub) -> None:
    """Over-long items and unknown sections are refused with codes."""
    service, seeded = await opened(db, hub)
    a = Who(seeded.people[0])
    room = await service.join(seeded.event_id, a, None)
    with pytest.raises(Invalid) as long:
        await service.add_note(seeded.event_id, a, room.id, "challenges", "x" * 5000)
    assert long.value.code == "rooms.note_too_long"
    with pytest.raises(Invalid) as section:
        await service.add_note(seeded.event_id, a, room.id, "gossip", "hi")
    assert section.value.code == "rooms.unknown_section"


async def test_timer_broadcast_and_return_reach_every_member(db: DB, hub: Hub) -> None:
    """Timer extension, a broadcast and return-to-plenary are pushed to all connections."""
    service, seeded = await opened(db, hub)
    mod, _ = await connect(service, hub, seeded, MOD)
    members = [await connect(service, hub, seeded, Who(p)) for p in seeded.people[::3]]
    for handlers, _ in members:
        await handlers.handle(RoomJoin(id=1))
    extended = await mod.handle(RoomTimer(id=1, add=10))
    await mod.handle(RoomBroadcast(id=2, text="Ten minutes left"))
    returned = await service.return_to_plenary(seeded.event_id)
    for _, inbox in members:
        timer = await inbox.wait_for("rooms.state")
        assert extended.session is not None and timer["ends_at"] == extended.session.ends_at
        assert (await inbox.wait_for("rooms.broadcast"))["text"] == "Ten minutes left"
        back = await inbox.wait_for("rooms.state")
        assert back["state"] == "returned" and back["v"] == returned.v
    with pytest.raises(Conflict) as closed:
        await service.add_note(seeded.event_id, members[0][0].who, members[0][0].room_id or 0,
                               "challenges", "late")
    assert closed.value.code == "rooms.closed"
    for handlers, _ in [*members, (mod, None)]:
        await handlers.aclose()


async def test_room_members_see_each_others_notes_and_reconnect_to_same_room(
        db: DB, hub: Hub) -> None:
    """A note reaches the other member as a push; reconnecting returns the same room and notes."""
    service, seeded = await opened(db, hub)
    first, _ = await connect(service, hub, seeded, Who(seeded.people[0], "A"))
    room = (await first.handle(RoomJoin(id=1))).room
    assert room is not None
    mate = next(m.participant for m in room.members if m.participant != seeded.people[0])
    second, inbox_b = await connect(service, hub, seeded, Who(mate, "B"))
    await second.handle(RoomJoin(id=1))
    added = await first.handle(NoteAdd(id=2, room=room.id, section="challenges", text="Roads"))
    pushed = await inbox_b.wait_for("room.update")
    assert added.note is not None and pushed["notes"][0]["text"] == "Roads"
    await second.handle(NoteEdit(id=3, room=room.id, note=added.note.id, base=1,
                                 text="Roads and rail"))
    await second.aclose()
    again, _ = await connect(service, hub, seeded, Who(mate, "B"))
    back = (await again.handle(RoomJoin(id=4))).room
    assert back is not None and back.id == room.id
    assert [n.text for n in back.notes] == ["Roads and rail"]
    for handlers in (first, again):
        await handlers.aclose()


async def test_manual_move_and_participant_told(db: DB, hub: Hub) -> None:
    """A moderator moves someone to another theme's room; their connection gets rooms.moved."""
    service, seeded = await opened(db, hub)
    person, inbox = await connect(service, hub, seeded, Who(seeded.people[0]))
    start = (await person.handle(RoomJoin(id=1))).room
    assert start is not None
    target = (await service.rooms(seeded.event_id))[3]
    await service.move(seeded.event_id, seeded.people[0], target.id)
    moved = await inbox.wait_for("rooms.moved")
    assert moved == {"type": "rooms.moved", "v": moved["v"], "participant": seeded.people[0],
                     "room": target.id}
    assert (await person.handle(RoomJoin(id=2))).room.id == target.id  # type: ignore[union-attr]
    await person.aclose()


async def test_planning_never_discards_input(db: DB, hub: Hub) -> None:
    """Re-planning is refused while rooms are open, and once any room holds input."""
    service, seeded = await opened(db, hub)
    with pytest.raises(Conflict) as while_open:
        await service.plan_rooms(seeded.event_id)
    assert while_open.value.code == "rooms.bad_state"
    room = (await service.rooms(seeded.event_id))[0]
    await service.add_note(seeded.event_id, MOD, room.id, "challenges", "Keep me")
    await service.return_to_plenary(seeded.event_id)
    with pytest.raises(Conflict) as written:
        await service.plan_rooms(seeded.event_id)
    assert written.value.code == "rooms.has_input"
    assert [n.text for n in (await service.rooms(seeded.event_id))[0].notes] == ["Keep me"]


async def test_report_holds_every_rooms_input(db: DB, hub: Hub) -> None:
    """The per-theme report (Markdown, CSV, page data) contains every room's items."""
    service, seeded = await opened(db, hub)
    rooms = await service.rooms(seeded.event_id)
    for room in rooms:
        await service.add_note(seeded.event_id, MOD, room.id, "proposals", f"Idea of {room.name}")
    reports = await report.build(db, seeded.event_id)
    assert [r.title for r in reports] == ["Sustainability", "Skills"]
    markdown = "\n".join(report.markdown(r) for r in reports)
    csv_text = "\n".join(report.csv_text(r) for r in reports)
    for room in rooms:
        assert f"Idea of {room.name}" in markdown
        assert f"Idea of {room.name}" in csv_text


async def test_markdown_report_carries_no_raw_html(db: DB, hub: Hub) -> None:
    """Participants' HTML and Markdown reach the report escaped: shown as typed, never as markup."""
    service, seeded = await opened(db, hub)
    room = (await service.rooms(seeded.event_id))[0]
    typed = '<script>alert(1)</script> <img src=x onerror=alert(2)> [link](javascript:x) **b**'
    await service.add_note(seeded.event_id, MOD, room.id, "proposals", typed + "\n<b>two</b>")
    markdown = "\n".join(report.markdown(r) for r in await report.build(db, seeded.event_id))
    assert "<" not in markdown and ">" not in markdown.replace("\n> ", "\n")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
    assert "\\[link\\](javascript:x) \\*\\*b\\*\\*" in markdown
    assert "\n  &lt;b&gt;two&lt;/b&gt;" in markdown  # the second line stays in the item


async def test_renaming_sections_keeps_every_note_in_the_report(db: DB, hub: Hub) -> None:
    """Sections renamed, reordered or removed on the set-up form after input exists: every
    note stays in the report, under the renamed section where there is one."""
    from live.rooms.admin import parse_sections

    service, seeded = await opened(db, hub)
    room = (await service.rooms(seeded.event_id))[0]
    texts = {"challenges": ["Too few buses", "Long winters"],
             "proposals": ["Night trains", "Shared offices", "Remote days"]}
    for section, items in texts.items():
        for text in items:
            await service.add_note(seeded.event_id, MOD, room.id, section, text)
    for titles in ("Obstacles\nProposals", "What we propose\nObstacles\nQuestions",
                   "Questions"):
        await service.configure(seeded.event_id, placement=Placement.THEME, room_size=4,
                                sections=parse_sections(titles))
        reports = await report.build(db, seeded.event_id)
        mine = next(r for theme in reports for r in theme.rooms if r.id == room.id)
        kept = [item for section in mine.sections for item in section.items]
        assert sorted(kept) == sorted(texts["challenges"] + texts["proposals"]), titles
    group = await service.group(seeded.event_id)
    assert group is not None and [s["title"] for s in group.sections] == ["Questions"]


@pytest.mark.redis
async def test_changes_reach_members_served_by_another_process(db: DB, redis_url: str) -> None:
    """Two processes share a database and Redis: a note added on one is pushed on the other."""
    async with open_hub(redis_url) as hub_a, open_hub(redis_url) as hub_b:
        service_a, seeded = await opened(db, hub_a)
        service_b = RoomsService(db, hub_b)
        writer = Who(seeded.people[0], "A")
        room = await service_a.join(seeded.event_id, writer, None)
        mate = next(m.participant for m in room.members if m.participant != writer.participant)
        reader, inbox = await connect(service_b, hub_b, seeded, Who(mate, "B"))
        await reader.handle(RoomJoin(id=1))
        await service_a.add_note(seeded.event_id, writer, room.id, "proposals", "Across")
        pushed = await inbox.wait_for("room.update")
        assert pushed["room"] == room.id and pushed["notes"][0]["text"] == "Across"
        await service_a.return_to_plenary(seeded.event_id)
        assert (await inbox.wait_for("rooms.state"))["state"] == "returned"
        await reader.aclose()


async def test_a_note_retried_under_its_key_is_added_once(db: DB, hub: Hub) -> None:
    """`room.note.add` sent again with the same idempotency key returns the first note and
    adds no second one."""
    service, seeded = await opened(db, hub)
    room = (await service.rooms(seeded.event_id))[0]
    first = await service.add_note(seeded.event_id, MOD, room.id, "challenges", "Hi", key="n1")
    again = await service.add_note(seeded.event_id, MOD, room.id, "challenges", "Hi", key="n1")
    other = await service.add_note(seeded.event_id, MOD, room.id, "challenges", "Hi", key="n2")
    assert again.id == first.id and other.id != first.id
    notes = (await service.room_view(seeded.event_id, MOD, room.id)).notes
    assert sorted(n.id for n in notes) == sorted([first.id, other.id])


def test_default_sections_shown_translated_are_saved_as_themselves() -> None:
    """The set-up shows the default sections in the reader's language ("Utfordringer"); saving
    those lines keeps the defaults (key and msgid), and a new line becomes a new section."""
    from live.rooms.admin import parse_sections
    from live.rooms.domain import DEFAULT_SECTIONS

    shown = {"Utfordringer": DEFAULT_SECTIONS[0], "Forslag": DEFAULT_SECTIONS[1]}
    sections = parse_sections("Utfordringer\nForslag\nSpørsmål", shown)
    assert sections == [*DEFAULT_SECTIONS, {"key": "sp-rsm-l", "title": "Spørsmål"}]
