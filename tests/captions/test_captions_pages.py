"""Live captions on the organiser's stream page and the display view."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from live.db import create_engine, sessionmaker
from live.models import Event
from live.settings import Settings
from tests.support.app import ADMIN, make_settings

SLUG = "planstrategi-4-0"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Pages, not the database: SQLite only."""
    return sqlite_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, default_locale="en")


async def event_row(settings: Settings) -> Event:
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session:
        event = await session.scalar(select(Event).where(Event.slug == SLUG))
    await engine.dispose()
    assert event is not None
    return event


async def test_stream_page_offers_the_captioner_link_to_copy(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """The organiser's stream page shows the captioner link with a copy button."""
    event = await event_row(settings)
    page = await client.get(f"/admin/events/{SLUG}/stream", headers=ADMIN)
    assert page.status_code == 200
    link = f"http://testserver/e/{SLUG}/captions?key={event.captions_token}"
    assert f'id="captions-link" readonly value="{link}"' in page.text
    assert 'data-copy="captions-link"' in page.text


async def test_display_shows_captions_only_when_asked(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """The display view draws captions with `&captions=1`, and not without it."""
    event = await event_row(settings)
    plain = await client.get(f"/e/{SLUG}/display", params={"key": event.display_token})
    shown = await client.get(f"/e/{SLUG}/display",
                             params={"key": event.display_token, "captions": "1"})
    assert "data-captions-overlay" not in plain.text
    assert "data-captions-overlay" in shown.text and "js/captions-view.js" in shown.text


async def test_live_page_has_the_cc_toggle_and_transcript(client: httpx.AsyncClient) -> None:
    """The viewer's live page has the overlay in the player, the CC button and the transcript."""
    page = await client.get(f"/e/{SLUG}/live")
    assert page.status_code == 200
    assert "data-captions-toggle" in page.text and "data-captions-transcript" in page.text
    assert "data-captions-overlay" in page.text
