"""Polls in headless Chromium: a moderator runs a word cloud and a multiple-choice poll, phones
answer on the live page, and the big screen shows the revealed results."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from live.db import create_engine, sessionmaker
from live.models import Event
from live.settings import Settings
from tests.support.app import make_settings
from tests.support.axe import assert_accessible
from tests.support.browser import new_context

pytestmark = pytest.mark.browser
SLUG = "verksted-regional-utvikling"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Chromium tests run on SQLite only."""
    return sqlite_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """English pages (the msgids), and a short tick so viewers see changes quickly."""
    return make_settings(database_url, tmp_path, default_locale="en", tick_seconds=0.05)


async def tokens(settings: Settings) -> tuple[str, str]:
    engine = create_engine(settings.database_url)
    try:
        async with sessionmaker(engine)() as session:
            event = await session.scalar(select(Event).where(Event.slug == SLUG))
            assert event is not None
            return event.moderator_token, event.display_token
    finally:
        await engine.dispose()


async def open_page(browser: Browser, url: str, width: int = 1280) -> Page:
    """A page in its own context (another person), once its polls snapshot is in."""
    context = await new_context(browser)
    page = await context.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    await page.set_viewport_size({"width": width, "height": 800})
    await page.goto(url)
    await page.wait_for_function("() => window.salenPolls && window.salenPolls.state.pv !== undefined"
                                 " && document.querySelector('[data-polls]')")
    assert len(sockets) == 1, f"polls and Q&A share the page's one socket: {sockets}"
    return page


async def make_poll(moderator: Page, kind: str, question: str, options: str = "") -> None:
    form = moderator.locator("[data-poll-form]")
    if not await form.is_visible():
        await moderator.locator(".poll-new summary").click()
    await form.get_by_label("Kind").select_option(kind)
    await form.get_by_label("Poll question").fill(question)
    await form.get_by_label("Options, one per line (choice and ranking)").fill(options)
    await form.get_by_role("button", name="Make poll").click()
    await expect(moderator.locator("[data-polls-list]")).to_contain_text(question)


async def test_word_cloud_and_multiple_choice_live_on_the_big_screen(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """Phones answer both polls; the display shows the revealed results as bars and a cloud."""
    moderator_token, display_key = await tokens(settings)
    moderator = await open_page(browser, f"{live_url}/e/{SLUG}/moderate?token={moderator_token}")
    display = await open_page(browser, f"{live_url}/e/{SLUG}/display?key={display_key}")
    phones = [await open_page(browser, f"{live_url}/e/{SLUG}/live", width=360) for _ in range(2)]

    await make_poll(moderator, "multiple", "Which matters most?", "Roads\nRail\n<b>Bus</b>")
    for phone, picks in zip(phones, (["Roads", "<b>Bus</b>"], ["Roads"]), strict=True):
        card = phone.locator("[data-poll]", has_text="Which matters most?")
        for pick in picks:
            await card.get_by_label(pick, exact=True).check()
        await card.get_by_role("button", name="Send answer").click()
        await expect(card).to_contain_text("You answered:")
    await expect(display.locator("[data-polls=display]")).to_contain_text("2 answers")
    await expect(phones[0].locator("[data-polls-list]")).to_contain_text(
        "The results are shown when the moderators reveal them.")
    card = moderator.locator("[data-poll]", has_text="Which matters most?")
    await card.locator("[data-action=reveal]").click()
    results = display.locator("[data-polls=display] .poll-summary")
    await expect(results).to_contain_text("Roads: 2 (100 %)")
    await expect(results).to_contain_text("<b>Bus</b>: 1 (50 %)")
    shown = phones[1].locator("[data-poll]", has_text="Which matters most?")
    await expect(shown.locator(".poll-summary")).to_contain_text("Rail: 0 (0 %)")
    assert await display.locator("[data-polls=display] b").count() == 0

    await make_poll(moderator, "words", "One word for the region?")
    for phone, word in zip(phones, ("Green  Growth!", "green growth"), strict=True):
        card = phone.locator("[data-poll]", has_text="One word for the region?")
        await card.get_by_label("Word 1").fill(word)
        await card.get_by_role("button", name="Send answer").click()
        await expect(card).to_contain_text("green growth")
    card = moderator.locator("[data-poll]", has_text="One word for the region?")
    await card.locator("[data-action=reveal]").click()
    cloud = display.locator("[data-polls=display] svg.poll-cloud text[data-word='green growth']")
    await expect(cloud).to_have_count(1)
    await expect(display.locator("[data-polls=display] .poll-summary")).to_contain_text(
        "green growth: 2")
    for page in (phones[0], moderator, display):
        await assert_accessible(page)
    wide = await phones[0].evaluate("() => document.documentElement.scrollWidth")
    assert wide <= 360


async def test_word_cloud_keeps_its_words_in_place_as_counts_grow(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """Words placed once stay where they were when counts change and new words arrive."""
    _, display_key = await tokens(settings)
    page = await open_page(browser, f"{live_url}/e/{SLUG}/display?key={display_key}")
    moved = await page.evaluate("""async () => {
      const { CloudLayout } = await import("/static/js/polls-core.js");
      const layout = new CloudLayout();
      const words = Array.from({ length: 40 }, (_, i) => [`ord${i}`, 40 - i]);
      const before = new Map(layout.layout(words).map((w) => [w.text, [w.x, w.y]]));
      const grown = words.map(([w, n], i) => [w, i % 3 ? n : n + 2]).concat([["nytt", 1]]);
      const after = layout.layout(grown);
      return after.filter((w) => before.has(w.text)
        && (before.get(w.text)[0] !== w.x || before.get(w.text)[1] !== w.y)).length;
    }""")
    assert moved <= 3  # of 40 (9 when laid out afresh): only words grown into a neighbour
