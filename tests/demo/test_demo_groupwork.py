"""The demo's group work: the first gathering's finished rooms and published report, apart
from the upcoming workshop's group work that visitors can try."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.db import create_engine, sessionmaker
from live.demo.content import DemoRun, add_demo_content
from live.demo.groupwork import FIRST_GATHERING, NOTES, PEOPLE, WORKSHOP
from live.models import Event, GroupSession
from live.models.registration import Registration
from live.models.rooms import BreakoutRoom, RoomMember, RoomNote
from live.settings import Settings
from tests.support.admin import login

REPORT = f"/e/{FIRST_GATHERING}/group-work/report"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The demo content, not the database, is under test: SQLite only."""
    return sqlite_url


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.database_url)
    yield sessionmaker(engine)
    await engine.dispose()


async def test_report_is_published_with_every_group_and_its_input(
    client: httpx.AsyncClient,
) -> None:
    """The first gathering's report page shows both themes, every room and all it wrote."""
    client.cookies.set("salen_lang", "nb")
    page = await client.get(REPORT)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Tema 1: Bærekraftmålene og regional utvikling" in text
    assert "Tema 2: Distriktsutvikling og kompetanse" in text
    for heading in ("Utfordringer", "Forslag til tiltak", "Oppsummering fra gruppa"):
        assert text.count(heading) == len(NOTES)
    for challenges, proposals, summary in NOTES:
        for line in [*challenges, *proposals, summary]:
            assert line in text
    assert "(Sal A · 4 deltakere)" in text and "(Grupperom 1 · 5 deltakere)" in text
    assert text.count("Digitalt · 4 deltakere") == 2
    event_page = await client.get(f"/e/{FIRST_GATHERING}")
    assert f'href="{REPORT}"' in event_page.text


async def test_rooms_held_the_registered_people_and_were_returned(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    """Everyone registered was placed in a room of their theme; the work went back to plenary."""
    async with db() as session:
        event_id = await session.scalar(select(Event.id).where(Event.slug == FIRST_GATHERING))
        group = await session.scalar(select(GroupSession).where(GroupSession.event_id == event_id))
        assert group is not None and group.state == "returned" and group.report_published
        names = set(await session.scalars(select(RoomMember.name).where(
            RoomMember.session_id == group.id)))
        rooms = list(await session.scalars(select(BreakoutRoom).where(
            BreakoutRoom.session_id == group.id)))
        registered = await session.scalar(select(func.count()).select_from(Registration).where(
            Registration.event_id == event_id))
    assert names == {p.name for p in PEOPLE} and registered == len(PEOPLE)
    assert len(rooms) == len(NOTES) and all(r.closed for r in rooms)
    assert any(r.online for r in rooms) and any(not r.online for r in rooms)


async def test_the_upcoming_workshop_is_left_for_visitors_to_try(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    """The upcoming workshop's group work is closed, without rooms or a published report."""
    async with db() as session:
        event_id = await session.scalar(select(Event.id).where(Event.slug == WORKSHOP))
        group = await session.scalar(select(GroupSession).where(GroupSession.event_id == event_id))
        assert group is not None and group.state == "closed" and not group.report_published
        assert not await session.scalar(select(func.count()).select_from(BreakoutRoom).where(
            BreakoutRoom.session_id == group.id))
    assert (await client.get(f"/e/{WORKSHOP}/group-work/report")).status_code == 404


async def test_organiser_sees_the_report_with_downloads(client: httpx.AsyncClient) -> None:
    """The organiser's report has each theme as Markdown and CSV with the groups' input."""
    await login(client)
    page = await client.get(f"/admin/group-work/{FIRST_GATHERING}/report")
    assert page.status_code == 200
    markdown = await client.get(f"/admin/group-work/{FIRST_GATHERING}/report/kompetanse.md")
    assert markdown.status_code == 200 and NOTES[-1][2] in markdown.text


async def test_a_half_made_report_is_made_again(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], settings: Settings,
    demo_media: Path,
) -> None:
    """Group work left unpublished with input missing (a run killed half-way) is played again
    whole on the next load, without a second registration of anyone."""
    async with db() as session, session.begin():
        group = await session.scalar(select(GroupSession).join(Event).where(
            Event.slug == FIRST_GATHERING))
        assert group is not None
        group.report_published = False
        await session.execute(delete(RoomNote).where(RoomNote.room_id.in_(
            select(BreakoutRoom.id).where(BreakoutRoom.session_id == group.id))))
    assert (await client.get(REPORT)).status_code == 404
    made = await add_demo_content(DemoRun(settings, db, cache=demo_media))
    assert made == {"group-work report": REPORT}
    text = html.unescape((await client.get(REPORT)).text)
    assert all(summary in text for _, _, summary in NOTES)
    async with db() as session:
        registered = await session.scalar(select(func.count()).select_from(Registration).join(
            Event).where(Event.slug == FIRST_GATHERING))
    assert registered == len(PEOPLE)


async def test_the_ended_gathering_offers_no_places(client: httpx.AsyncClient) -> None:
    """An ended event's page shows where and when it was, not places left or how to join."""
    client.cookies.set("salen_lang", "en")
    page = (await client.get(f"/e/{FIRST_GATHERING}")).text
    assert "Nationaltheatret" in page
    assert "Places left" not in page and "You can also take part online" not in page
