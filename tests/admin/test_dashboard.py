"""The organiser's dashboard (live/admin/dashboard.py): counts and shortcuts per event."""

from __future__ import annotations

import re

import httpx
import pytest

from live.db import create_engine, sessionmaker
from live.events.service import load_event
from live.models import Attendance, Registration, RegistrationStatus
from live.models.qa import Question
from live.settings import Settings
from tests.support.admin import login

SLUG = "vi-bygger-innlandet"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The counts are two grouped queries the migrations tests cover: SQLite only."""
    return sqlite_url


async def add_people_and_questions(settings: Settings) -> None:
    """Three confirmed, two waiting, one cancelled; four questions, one of them pending."""
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session, session.begin():
        event = await load_event(session, SLUG)
        statuses = [RegistrationStatus.CONFIRMED] * 3 + [RegistrationStatus.WAITLISTED] * 2
        for i, status in enumerate([*statuses, RegistrationStatus.CANCELLED]):
            session.add(Registration(
                event_id=event.id, occurrence_id=event.occurrences[0].id,
                attendance=Attendance.IN_PERSON, status=status, name=f"P{i}",
                email=f"p{i}@example.no"))
        for i, status in enumerate(["pending", "approved", "answered", "rejected"]):
            session.add(Question(event_id=event.id, participant=f"p{i}", text=f"Q{i}",
                                 status=status))
    await engine.dispose()


def card(html: str, slug: str) -> str:
    """The markup of one event's card."""
    found = [c for c in html.split('<li class="ds-card"') if f'data-event-card="{slug}"' in c]
    assert len(found) == 1, f"no card for {slug}"
    return found[0]


def count(html: str, name: str) -> str:
    found = re.search(rf'data-count="{name}">(\d+)', html)
    assert found, name
    return found.group(1)


async def test_each_event_shows_its_counts_and_shortcuts(
        client: httpx.AsyncClient, settings: Settings) -> None:
    """Registered and waiting (cancelled left out), live viewers, questions with those
    awaiting moderation; shortcuts to the event's organiser pages."""
    await add_people_and_questions(settings)
    await login(client)
    page = (await client.get("/admin")).text
    ours = card(page, SLUG)
    assert (count(ours, "registered"), count(ours, "waitlisted")) == ("3", "2")
    assert (count(ours, "viewers"), count(ours, "questions")) == ("0", "4")
    assert "1 awaits moderation" in ours
    for path in ("", "/registrations", "/qa", "/stream", "/recordings"):
        assert f'href="/admin/events/{SLUG}{path}"' in ours
    other = card(page, "planstrategi-4-0")
    assert count(other, "registered") == "0" and "data-foreign-origin" not in page


async def test_coming_events_come_first_the_next_on_top(client: httpx.AsyncClient) -> None:
    """The demo's events in the order an organiser works on them: the coming ones by date
    (the next first), then the ended ones (the most recent first)."""
    await login(client)
    html = (await client.get("/admin")).text
    order = re.findall(r'data-event-card="([^"]+)"', html)
    assert order == ["planstrategi-4-0", "vi-bygger-innlandet", "byregioner-oppstart",
                     "verksted-regional-utvikling", "fylkestinget-internasjonal-plan",
                     "regional-utvikling-samling-1"]
