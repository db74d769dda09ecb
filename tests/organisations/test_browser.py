"""The registry in headless Chromium at 320 px: the date for one's region, "Did you mean?",
the review list and the hand-over form, each passing axe without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.async_api import Page
from starlette.applications import Starlette

from tests.support.app import ADMIN
from tests.support.axe import assert_accessible

CONFERENCE = "vi-bygger-innlandet"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Browser tests are not about the database: SQLite only."""
    return sqlite_url


@pytest.fixture
async def site(demo_app: Starlette, live_url: str) -> str:
    return live_url


async def fits(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320
    await assert_accessible(page)


async def test_a_registrant_from_lom_finds_otta_and_picks_gjovik(page: Page, site: str) -> None:
    """Lom kommune: "Suggest a date" puts Otta first and chosen; choosing Gjøvik registers there."""
    await page.set_viewport_size({"width": 320, "height": 800})
    await page.context.add_cookies([{"name": "salen_lang", "value": "en", "url": site}])
    await page.goto(f"{site}/e/{CONFERENCE}/register")
    await page.locator("#find-organisation").fill("Lom kommune")
    await page.get_by_role("button", name="Suggest a date").click()
    first = page.locator('input[name="occurrence"]').first
    assert await first.get_attribute("value") == "otta" and await first.is_checked()
    await fits(page)
    await page.get_by_role("radio", name="Gjøvik", exact=False).check()
    await page.locator("#f-name").fill("Liv Lom")
    await page.locator("#f-email").fill("liv@lom.example")
    await page.locator("#f-organisation").fill("Lom")
    await page.get_by_role("button", name="Register", exact=True).click()
    await page.wait_for_selector("#f-organisation_choice")
    assert "Did you mean Lom kommune?" in await page.locator("main").inner_text()
    await fits(page)
    await page.get_by_role("button", name="Register", exact=True).click()
    await page.wait_for_selector("#status")
    assert "Gjøvik" in await page.locator("main").inner_text()
    await fits(page)


async def test_review_list_passes_axe(page: Page, site: str) -> None:
    """An unknown name kept as typed appears on the organisers' review list, which passes axe."""
    await page.set_viewport_size({"width": 320, "height": 800})
    await page.context.add_cookies([{"name": "salen_lang", "value": "en", "url": site}])
    await page.goto(f"{site}/e/byregioner-oppstart/register")
    await page.locator("#f-name").fill("Ola Ukjent")
    await page.locator("#f-email").fill("ola@ukjent.example")
    await page.locator("#f-organisation").fill("Fjellbygdas Utviklingslag")
    await page.get_by_role("button", name="Register", exact=True).click()
    await page.wait_for_selector("#status")
    await page.set_extra_http_headers(ADMIN)
    await page.goto(f"{site}/admin/organisations")
    assert "Fjellbygdas Utviklingslag" in await page.locator("main").inner_text()
    await fits(page)
