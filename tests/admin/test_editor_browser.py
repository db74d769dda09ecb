"""The event editor in headless Chromium: the confirmation dialog, and reordering the
programme by keyboard and by drag and drop."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.admin.test_admin_browser import VERKSTED, log_in
from tests.support.axe import assert_accessible

EDITOR = f"/admin/events/{VERKSTED}"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Browser tests are not about the database: SQLite only, to keep the suite fast."""
    return sqlite_url


async def test_unpublish_asks_in_a_dialog(page: Page, live_url: str) -> None:
    """The button opens a dialog; "No" closes it with nothing changed, "Yes" unpublishes;
    the dialog and the no-JavaScript confirm page pass axe."""
    await log_in(page, live_url, EDITOR)
    button = page.get_by_role("button", name="Unpublish the event")
    dialog = page.get_by_role("dialog", name="Unpublish this event?")
    await button.click()
    await expect(dialog).to_be_visible()
    await assert_accessible(page)
    await dialog.get_by_role("button", name="No, go back").click()
    await expect(dialog).to_be_hidden()
    await page.reload()
    await expect(page.locator("[data-published='yes']")).to_be_visible()
    await button.click()
    await dialog.get_by_role("button", name="Yes, unpublish").click()
    await expect(page.locator("[data-published='no']")).to_be_visible()
    assert "/confirm/" not in page.url
    await page.goto(f"{live_url}/confirm/event.delete{EDITOR}/delete")
    await expect(page.get_by_role("heading", name="Delete this event?")).to_be_visible()
    await assert_accessible(page)


async def item_titles(page: Page, block: str) -> list[str]:
    return await page.locator(f"#{block} [data-item-title]").all_inner_texts()


async def test_programme_reorders_by_keyboard_and_by_dragging(page: Page, live_url: str) -> None:
    """"Move down" by keyboard moves the item at once and keeps focus on the button; dragging
    an item onto another moves it there; both orders are saved."""
    await log_in(page, live_url, EDITOR)
    blocks = page.locator(".block:has([data-sortable] > li:nth-child(3))")
    block = await blocks.first.get_attribute("id")
    assert block is not None
    before = await item_titles(page, block)
    down = page.get_by_role("button", name=f"Move down: {before[0]}")
    await down.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("[data-move-status]")).to_have_text("Moved.")
    assert await item_titles(page, block) == [before[1], before[0], *before[2:]]
    assert await down.evaluate("button => document.activeElement === button")
    await page.reload()
    moved = await item_titles(page, block)
    assert moved == [before[1], before[0], *before[2:]]

    rows = page.locator(f"#{block} [data-sortable] > li")
    await rows.nth(2).drag_to(rows.nth(0))
    await expect(page.locator("[data-move-status]")).to_have_text("Moved.")
    await page.reload()
    assert await item_titles(page, block) == [moved[2], moved[0], moved[1], *moved[3:]]
