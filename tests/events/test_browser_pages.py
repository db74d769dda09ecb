"""Public pages and the login page in headless Chromium: they render and pass axe-core."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.support.axe import assert_accessible


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Browser tests are not about the database: SQLite only, to keep the suite fast."""
    return sqlite_url


PAGES = ["/", "/e/planstrategi-4-0", "/e/verksted-regional-utvikling", "/admin/login"]


async def test_public_pages_have_no_serious_axe_findings(page: Page, live_url: str) -> None:
    """The front page, two event pages and the login page render and pass axe-core."""
    for path in PAGES:
        response = await page.goto(live_url + path)
        assert response is not None and response.status == 200, path
        assert await page.locator("h1").count() == 1, path
        await assert_accessible(page)
    await page.goto(f"{live_url}/e/planstrategi-4-0")
    body = await page.locator("main").inner_text()
    assert "Plankultur" in body and "Nils Aarsæther" in body
