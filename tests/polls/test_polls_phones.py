"""Polls as a room of phones and a projector meet them (what the tryout `bench.phones` found):
forms that survive other people's answers, open polls on top, anonymous polls that ask for
no name, results that fit and read on a phone and on the big screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from live.settings import Settings
from tests.polls.test_polls_browser import SLUG, make_poll, open_page, tokens
from tests.support.app import make_settings

pytestmark = pytest.mark.browser
PREPARED = "Hva bør verkstedet prioritere i dag?"  # the demo's prepared multiple-choice poll
LONG_OPTION = "Samstyring på tvers av sektorer"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Chromium tests run on SQLite only."""
    return sqlite_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """English pages (the msgids), and a short tick so viewers see changes quickly."""
    return make_settings(database_url, tmp_path, default_locale="en", tick_seconds=0.05)


async def desk(browser: Browser, live_url: str, settings: Settings) -> Page:
    moderator_token, _ = await tokens(settings)
    return await open_page(browser, f"{live_url}/e/{SLUG}/moderate?token={moderator_token}")


async def phone(browser: Browser, live_url: str) -> Page:
    return await open_page(browser, f"{live_url}/e/{SLUG}/live", width=390)


async def answer_count(page: Page, question: str) -> int:
    return int(await page.evaluate(
        "(q) => window.salenPolls.state.list().find((p) => p.question === q).answers", question))


async def test_an_anonymous_poll_asks_no_name(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """A poll made anonymous (the default) shows no name field on the phone."""
    moderator = await desk(browser, live_url, settings)
    viewer = await phone(browser, live_url)
    await make_poll(moderator, "words", "One word?")
    card = viewer.locator("[data-poll]", has_text="One word?")
    await expect(card.get_by_label("Word 1")).to_be_visible()
    await expect(card.get_by_label("Your name")).to_have_count(0)


async def test_what_a_phone_is_typing_survives_another_answer(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """Another participant's answer reaching a phone leaves its half-typed word and focus be."""
    moderator = await desk(browser, live_url, settings)
    typing, other = await phone(browser, live_url), await phone(browser, live_url)
    await make_poll(moderator, "words", "One word?")
    field = typing.locator("[data-poll]", has_text="One word?").get_by_label("Word 1")
    await field.fill("grønn")
    card = other.locator("[data-poll]", has_text="One word?")
    await card.get_by_label("Word 1").fill("vekst")
    await card.get_by_role("button", name="Send answer").click()
    await typing.wait_for_function("() => window.salenPolls.state.list()"
                                   ".find((p) => p.question === 'One word?').answers === 1")
    await expect(field).to_have_value("grønn")
    # The page's own focus (`:focus` also needs the window focused, which a page in another
    # context may take when the machine is busy).
    assert await field.evaluate("(el) => document.activeElement === el")


async def test_the_poll_just_launched_is_first_on_the_phone(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """An open poll comes above revealed results, though it was prepared before them."""
    moderator = await desk(browser, live_url, settings)
    viewer = await phone(browser, live_url)
    await moderator.locator("[data-poll]", has_text=PREPARED).locator("[data-action=launch]").click()
    first = viewer.locator("[data-polls-list] > [data-poll]").first
    await expect(first).to_contain_text(PREPARED)
    await expect(first.locator("form")).to_be_visible()


async def test_a_phone_at_the_top_of_the_page_is_led_to_the_open_poll(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """A link at the foot of the screen leads to an unanswered open poll out of sight."""
    moderator = await desk(browser, live_url, settings)
    viewer = await phone(browser, live_url)
    await viewer.set_viewport_size({"width": 390, "height": 500})
    await make_poll(moderator, "words", "One word?")
    jump = viewer.locator("[data-poll-jump]")
    await expect(jump).to_have_text("Answer the poll: One word? ↓")
    await jump.click()
    await expect(viewer.locator("[data-poll]", has_text="One word?").get_by_label("Word 1")).to_be_in_viewport()
    await expect(jump).to_be_hidden()


async def test_the_moderators_see_the_open_poll_first(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """Launching a poll prepared before others puts it at the top of the desk's list."""
    moderator = await desk(browser, live_url, settings)
    await moderator.locator("[data-poll]", has_text=PREPARED).locator("[data-action=launch]").click()
    await expect(moderator.locator("[data-polls-list] > [data-poll]").first).to_contain_text(PREPARED)


async def test_the_thanks_gives_way_to_the_next_poll(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """After one answer, a newly launched poll clears the "thank you" above it."""
    moderator = await desk(browser, live_url, settings)
    viewer = await phone(browser, live_url)
    await make_poll(moderator, "words", "One word?")
    card = viewer.locator("[data-poll]", has_text="One word?")
    await card.get_by_label("Word 1").fill("vekst")
    await card.get_by_role("button", name="Send answer").click()
    thanks = viewer.locator("[data-polls-status]")
    await expect(thanks).to_have_text("Thank you! Your answer is saved.")
    await moderator.locator("[data-poll]", has_text=PREPARED).locator("[data-action=launch]").click()
    await expect(viewer.locator("[data-poll]", has_text=PREPARED).locator("form")).to_be_visible()
    await expect(thanks).to_have_text("")


async def test_a_count_push_leaves_the_moderators_buttons_in_place(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """An answer coming in redraws the count, not the button a moderator is pressing."""
    moderator = await desk(browser, live_url, settings)
    viewer = await phone(browser, live_url)
    await make_poll(moderator, "words", "One word?")
    reveal = moderator.locator("[data-poll]", has_text="One word?").locator("[data-action=reveal]")
    await reveal.evaluate("(button) => { button.dataset.marked = 'yes'; }")
    card = viewer.locator("[data-poll]", has_text="One word?")
    await card.get_by_label("Word 1").fill("vekst")
    await card.get_by_role("button", name="Send answer").click()
    await expect(moderator.locator("[data-poll]", has_text="One word?")).to_contain_text("1 answer")
    assert await reveal.get_attribute("data-marked") == "yes"


async def test_a_small_cloud_draws_every_word_without_overlap(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """Sixteen words, a long compound among them, are all drawn and no two boxes overlap."""
    _, key = await tokens(settings)
    page = await open_page(browser, f"{live_url}/e/{SLUG}/display?key={key}")
    boxes = await page.evaluate("""async () => {
      const { CloudLayout, wordCloud } = await import("/static/js/polls-core.js");
      const words = ["kompetanse", "bolig", "fiber", "grønn omstilling", "samarbeid", "samferdsel",
        "tillit", "ungdom", "øyrike", "bærekraft", "distriktsnæringsutviklingsprogrammene",
        "små store", "åpenhet", "ærlighet", "تعاون", "fjordliv"].map((w, i) => [w, i < 10 ? 7 - (i >> 1) : 1]);
      const svg = wordCloud(new CloudLayout(), words);
      document.body.append(svg);
      return [...svg.querySelectorAll("text")].map((t) => { const b = t.getBBox(); return [b.x, b.y, b.width, b.height]; });
    }""")
    assert len(boxes) == 16
    for i, (x, y, w, h) in enumerate(boxes):
        for x2, y2, w2, h2 in boxes[i + 1:]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y, (i, boxes)


async def test_the_big_screen_shows_a_poll_whole_beside_its_join_code(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """At 1280 × 720 the revealed bars keep their full labels, fit the screen and leave the join
    box free, which asks for answers while the poll is open."""
    moderator = await desk(browser, live_url, settings)
    _, key = await tokens(settings)
    display = await open_page(browser, f"{live_url}/e/{SLUG}/display?key={key}")
    await display.set_viewport_size({"width": 1280, "height": 720})
    card = moderator.locator("[data-poll]", has_text=PREPARED)
    await card.locator("[data-action=launch]").click()
    await expect(display.locator(".join-lead")).to_have_text(
        "Answer the poll: scan the code or go to")
    await card.locator("[data-action=reveal]").click()
    bars = display.locator("[data-polls=display] .poll-bars")
    await expect(bars).to_contain_text(LONG_OPTION)
    result = await bars.bounding_box()
    join = await display.locator(".qa-display-join").bounding_box()
    assert result and join
    assert result["y"] + result["height"] <= 720
    assert result["x"] + result["width"] <= join["x"]


async def test_a_phone_draws_the_cloud_in_its_squarer_box(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """On a 390 px phone the revealed cloud uses the phones' box, so its words read."""
    viewer = await phone(browser, live_url)
    cloud = viewer.locator("svg.poll-cloud").first
    await expect(cloud).to_have_attribute("viewBox", "0 0 500 600")
    smallest = await cloud.evaluate(
        "(svg) => Math.min(...[...svg.querySelectorAll('text')].map((t) => t.getBoundingClientRect().height))")
    assert smallest >= 11
