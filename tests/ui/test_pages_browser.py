"""Every page at 320, 390 and 1280 px in one Chromium: no sideways scrolling, no console
errors, CSP violations or failed requests, no serious or critical axe-core finding."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser
from starlette.applications import Starlette

from live.settings import Settings
from tests.ui.site import Site, serve_site
from tests.ui.tour import tour

WIDTHS = (320, 390, 1280)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The page check is not about the database: SQLite only."""
    return sqlite_url


@pytest.fixture
async def site(demo_app: Starlette, settings: Settings) -> AsyncIterator[Site]:
    """The demo with workshop registrants and the group work planned, on uvicorn."""
    async with serve_site(settings) as running:
        yield running


async def test_every_page_fits_a_phone_and_passes_the_checks(browser: Browser, site: Site) -> None:
    """Each page, for its audience and in both languages where public, loads cleanly at each width."""
    visits = await tour(browser, site, WIDTHS)
    broken = [v for v in visits if v.problems]
    assert not broken, f"{len(broken)} of {len(visits)} page visits have problems:\n" + "\n".join(
        v.describe() for v in broken)
