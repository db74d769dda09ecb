"""Organiser flows in headless Chromium: log in, edit an event, and axe on the editor."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page

from live.demo import DEMO_ORGANISER
from tests.support.axe import assert_accessible

VERKSTED = "verksted-regional-utvikling"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Browser tests are not about the database: SQLite only, to keep the suite fast."""
    return sqlite_url


async def log_in(page: Page, live_url: str, target: str) -> None:
    """Open `target` anonymously, get sent to the login form, and log in there (in English)."""
    await page.context.add_cookies([{"name": "salen_lang", "value": "en", "url": live_url}])
    await page.goto(live_url + target)
    assert "/admin/login" in page.url
    email, password = DEMO_ORGANISER
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(live_url + target)


async def test_edit_title_and_see_it_on_the_public_page(page: Page, live_url: str) -> None:
    """An organiser logs in, the editors pass axe, a new title is saved and shown in public."""
    await log_in(page, live_url, "/admin/events/new")
    await assert_accessible(page)
    await page.goto(f"{live_url}/admin/events/{VERKSTED}/yaml")
    await assert_accessible(page)
    await page.goto(f"{live_url}/admin/events/{VERKSTED}")
    await assert_accessible(page)
    await page.locator("#f-title").fill("Verksted for regional utvikling 2027")
    await page.get_by_role("button", name="Save details").click()
    await page.wait_for_selector(".flash")
    assert "Saved." in await page.locator(".flash").inner_text()
    await page.goto(f"{live_url}/e/{VERKSTED}")
    assert await page.locator("h1").inner_text() == "Verksted for regional utvikling 2027"


async def test_add_item_with_speaker_and_see_errors(page: Page, live_url: str) -> None:
    """Through the browser: a block and an item with a speaker; a bad form passes axe too."""
    await log_in(page, live_url, f"/admin/events/{VERKSTED}")
    await page.get_by_role("link", name="Add a programme block").click()
    await assert_accessible(page)
    await page.locator("#f-title").fill("Avslutning")
    await page.locator("#f-starts").fill("2026-12-03T15:00")
    await page.locator("#f-ends").fill("2026-12-03T14:00")
    await page.get_by_role("button", name="Save", exact=True).click()
    await page.wait_for_selector("#f-ends-error")
    assert await page.locator("#f-ends").get_attribute("aria-invalid") == "true"
    await assert_accessible(page)
    await page.locator("#f-ends").fill("2026-12-03T16:00")
    await page.get_by_role("button", name="Save", exact=True).click()
    await page.wait_for_selector(".flash")
    await page.get_by_role("link", name=re.compile(r"^Add an item\W+Avslutning$")).click()
    await page.locator("#f-title").fill("Oppsummering")
    await page.locator("#f-kind").select_option("panel")
    await page.locator("input[name=speakers]").first.check()
    speaker = await page.locator("label[for=f-speakers-1]").inner_text()
    await assert_accessible(page)
    await page.get_by_role("button", name="Save", exact=True).click()
    await page.wait_for_selector(".flash")
    await page.goto(f"{live_url}/e/{VERKSTED}")
    body = await page.locator("main").inner_text()
    assert "Oppsummering" in body and speaker.split(" (")[0] in body
