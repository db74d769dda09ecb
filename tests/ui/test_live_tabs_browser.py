"""The live page on a phone: "Watch" and "Questions" tabs under a player that stays in view."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.support.browser import new_context

SLUG = "planstrategi-4-0"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Browser tests are not about the database: SQLite only."""
    return sqlite_url


async def test_phone_live_page_has_tabs_and_keeps_the_player_in_view(
        browser: Browser, live_url: str) -> None:
    """At 390 px the questions are one tap away, and the player stays on screen while scrolling them."""
    context = await new_context(browser, viewport={"width": 390, "height": 700})
    page = await context.new_page()
    await page.goto(f"{live_url}/e/{SLUG}/live")
    questions_tab = page.get_by_role("tab", name="Spørsmål")
    await expect(page.get_by_role("tab", name="Se")).to_have_attribute("aria-selected", "true")
    await expect(page.locator("#qa-text")).to_be_hidden()
    await questions_tab.click()
    await expect(questions_tab).to_have_attribute("aria-selected", "true")
    await expect(page.locator("#qa-text")).to_be_visible()
    await expect(page.locator("[data-now]")).to_be_hidden()
    await page.locator("[data-questions]").scroll_into_view_if_needed()
    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert await page.evaluate("window.scrollY") > 200  # the page did scroll under the player
    # Before the start the player shows its poster (the video is hidden): the player
    # box itself must stay on screen.
    box = await page.locator(".qa-stream .player").bounding_box()
    assert box is not None and box["y"] >= -1 and box["y"] + box["height"] <= 700
    await context.close()


async def test_wide_live_page_shows_everything_without_tabs(browser: Browser, live_url: str) -> None:
    """At 1280 px there are no tabs: the player, the panel's question and the form side by side."""
    context = await new_context(browser, viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{live_url}/e/{SLUG}/live")
    await expect(page.get_by_role("tab", name="Spørsmål")).to_be_hidden()
    await expect(page.locator("#qa-text")).to_be_visible()
    await expect(page.locator("[data-now]")).to_be_visible()
    await context.close()
