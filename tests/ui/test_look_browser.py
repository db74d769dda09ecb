"""How things look where it matters: disabled buttons look disabled, empty notices take no room."""

from __future__ import annotations

import pytest
from playwright.async_api import Page
from sqlalchemy import select

from live.db import create_engine, sessionmaker
from live.models import Event
from live.settings import Settings
from tests.ui.site import STREAMED

STYLE = "(el) => { const s = getComputedStyle(el); return [s.opacity, s.cursor, s.display]; }"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Browser tests are not about the database: SQLite only."""
    return sqlite_url


async def stream_key(settings: Settings) -> str:
    """The streamed demo event's stream key (the speaker's page needs it)."""
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session:
        key = await session.scalar(select(Event.stream_key).where(Event.slug == STREAMED))
    await engine.dispose()
    assert key is not None
    return key


async def test_disabled_button_looks_disabled(page: Page, live_url: str, settings: Settings) -> None:
    """The speaker's Stop button, disabled until streaming starts, is faded with a not-allowed cursor."""
    await page.goto(f"{live_url}/e/{STREAMED}/publish?key={await stream_key(settings)}")
    stop = page.locator("[data-stop]")
    opacity, cursor, _ = await stop.evaluate(STYLE)
    assert await stop.is_disabled() and float(opacity) < 0.6 and cursor == "not-allowed"


async def test_empty_notices_take_no_room(page: Page, live_url: str) -> None:
    """The live page's empty status notices are not drawn as empty bars."""
    await page.goto(f"{live_url}/e/{STREAMED}/live")
    status = page.locator("[data-ask-status]")
    assert await status.inner_text() == ""
    assert (await status.evaluate(STYLE))[2] == "none"
