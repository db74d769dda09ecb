"""Q&A in headless Chromium, the parts that keep people from mis-tapping and lost: the
viewers' list that holds still under the pointer, taking a vote back, and the moderators'
log that survives a reload with the time of each action."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from live.settings import Settings
from tests.qa.test_qa_browser import SLUG, open_page, tokens
from tests.support.app import make_settings

pytestmark = pytest.mark.browser


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Chromium tests run on SQLite only."""
    return sqlite_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """English pages (the msgids), and a short tick so viewers see changes quickly."""
    return make_settings(database_url, tmp_path, default_locale="en", tick_seconds=0.05)


async def floor_question(moderator: Page, text: str) -> int:
    """A moderator's question (published at once); its id."""
    reply = await moderator.evaluate(
        "(text) => window.salenQa.socket.call('qa.ask', {text, anonymous: true})", text
    )
    return int(reply["question"]["id"])


async def shown_order(page: Page) -> list[int]:
    items = page.locator("[data-questions] > li[data-question]")
    return [int(x) for x in await items.evaluate_all("els => els.map(e => e.dataset.question)")]


async def test_the_list_holds_still_under_the_pointer_until_the_pill(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """While a viewer's pointer is over the list, another viewer's vote changes the count in
    place but moves nothing; the "Update order" pill then applies the new order, and so
    does a pause after the pointer leaves."""
    moderator_token, _ = await tokens(settings)
    moderator = await open_page(browser, f"{live_url}/e/{SLUG}/moderate?token={moderator_token}")
    first = await floor_question(moderator, "First question about roads")
    second = await floor_question(moderator, "Second question about trains")
    reader = await open_page(browser, f"{live_url}/e/{SLUG}/live")
    other = await open_page(browser, f"{live_url}/e/{SLUG}/live")
    await expect(reader.locator(f"[data-vote='{second}']")).to_be_visible()
    assert await shown_order(reader) == [first, second]

    await reader.hover(f"[data-questions] [data-question='{first}'] .qa-text")
    await other.locator(f"[data-vote='{second}']").click()
    await expect(reader.locator(f"[data-vote='{second}']")).to_contain_text("1")
    assert await shown_order(reader) == [first, second]
    pill = reader.locator("[data-reorder]")
    await expect(pill).to_have_text("Update order")
    await pill.click()
    assert await shown_order(reader) == [second, first]
    await expect(pill).to_be_hidden()

    # Once the pointer has left the list, a pause without it applies the order by itself.
    await reader.hover(f"[data-questions] [data-question='{second}'] .qa-text")
    await other.locator(f"[data-vote='{second}']").click()  # taken back: 0 votes each
    await expect(reader.locator(f"[data-vote='{second}']")).to_contain_text("0")
    assert await shown_order(reader) == [second, first]
    await reader.hover("#ask-h")
    await expect(reader.locator("[data-questions] > li[data-question]").first).to_have_attribute(
        "data-question", str(first)
    )


async def test_a_vote_can_be_taken_back(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """After a vote the viewer is told it counts and offered "Undo"; undoing takes the vote
    back for everyone, and a reload shows it as not voted."""
    moderator_token, _ = await tokens(settings)
    moderator = await open_page(browser, f"{live_url}/e/{SLUG}/moderate?token={moderator_token}")
    qid = await floor_question(moderator, "Will the ferry run?")
    voter = await open_page(browser, f"{live_url}/e/{SLUG}/live")
    vote = voter.locator(f"[data-vote='{qid}']")
    await vote.click()
    await expect(vote).to_have_attribute("aria-pressed", "true")
    await expect(voter.locator("[data-vote-status]")).to_contain_text("Your vote is counted.")
    await expect(moderator.locator(f"li[data-question='{qid}'] .qa-by")).to_contain_text(re.compile(r"\b1 vote(?!s)"))
    await voter.locator(f"[data-undo-vote='{qid}']").click()
    await expect(vote).to_have_attribute("aria-pressed", "false")
    await expect(voter.locator("[data-vote-status]")).to_have_text("Your vote is taken back.")
    await expect(moderator.locator(f"li[data-question='{qid}'] .qa-by")).to_contain_text("0 votes")
    await voter.reload()
    await expect(voter.locator(f"[data-vote='{qid}']")).to_have_attribute("aria-pressed", "false")


async def test_the_desk_log_survives_a_reload_with_each_actions_time(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """Approve (by keyboard shortcut), queue and put on air: after a reload the log still lists
    every action, each with its own time in a title, the question on air is labelled, the
    anonymous asker is named as such (never by id), and counts read "1 stemme" in bokmål."""
    moderator_token, _ = await tokens(settings)
    desk_url = f"{live_url}/e/{SLUG}/moderate?token={moderator_token}&name=Kari"
    desk = await open_page(browser, desk_url)
    viewer = await open_page(browser, f"{live_url}/e/{SLUG}/live")
    await viewer.get_by_label("Ask anonymously").check()
    await viewer.get_by_label("Your question", exact=True).fill("Who pays for the bridge?")
    await viewer.get_by_role("button", name="Send question").click()
    card = desk.locator("[data-list=pending] li[data-question]")
    qid = int(await card.get_attribute("data-question") or 0)
    await expect(desk.locator("[data-shortcuts]")).to_contain_text("Keyboard shortcuts")
    await card.focus()
    await desk.keyboard.press("a")
    await expect(desk.locator(f"[data-list=approved] [data-question='{qid}']")).to_be_visible()
    await desk.locator(f"[data-key=enqueue-{qid}]").click()
    await desk.locator(f"[data-queue] [data-key=now-{qid}]").click()
    await expect(desk.locator("[data-now] [data-on-air]")).to_have_text("On air")

    await desk.reload()
    await desk.wait_for_function("() => window.salenQa && window.salenQa.state.log.length >= 4")
    log = desk.locator("[data-log] li[data-log-entry]")
    await expect(log).to_have_count(4)
    await expect(log.nth(0)).to_contain_text("put on air by Kari")
    await expect(log.nth(3)).to_contain_text("asked by an anonymous participant")
    times = await log.locator("time").evaluate_all(
        "els => els.map(e => [e.getAttribute('datetime'), e.title, e.textContent])"
    )
    assert len({when for when, _, _ in times}) == 4  # each action its own time
    assert all(title and text for _, title, text in times)
    assert "participant" not in (await desk.inner_text("main")).replace(
        "anonymous participant", ""
    )
    await expect(desk.locator("[data-now] [data-on-air]")).to_have_text("On air")

    voter = await open_page(browser, f"{live_url}/e/{SLUG}/live")
    await voter.locator(f"[data-vote='{qid}']").click()
    bokmal = await open_page(browser, f"{desk_url}&lang=nb")
    await expect(bokmal.locator(f"li[data-question='{qid}'] .qa-by")).to_contain_text(re.compile(r"\b1 stemme(?!r)"))
    await expect(bokmal.locator("[data-log]")).to_contain_text("stilt av anonym deltaker")


async def test_the_desk_names_questions_by_their_words_never_their_number(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """The "More" menu is described by its question's text (its name stays "More", as shown),
    the edit field's label and the merge choices quote the question's opening words; the
    database id (shown nowhere on the desk) is not read out."""
    moderator_token, _ = await tokens(settings)
    desk = await open_page(browser, f"{live_url}/e/{SLUG}/moderate?token={moderator_token}")
    first = await floor_question(desk, "Who pays for the new bridge over the fjord at Otta?")
    await floor_question(desk, "When does the bridge open?")
    menu = desk.locator(f"[data-key=menu-{first}]")
    await expect(menu).to_have_accessible_name("More")
    await expect(menu).to_have_accessible_description(
        "Who pays for the new bridge over the fjord at Otta?")
    await menu.click()
    await desk.locator(f"[data-key=edit-{first}]").click()
    await expect(desk.get_by_label("Edit question “Who pays for", exact=False)).to_be_visible()
    await desk.locator(f"[data-key=merge-{first}]").click()
    options = await desk.locator(f"#merge-select-{first} option").all_inner_texts()
    assert options[1:] == ["“When does the bridge open?”"]
    assert str(first) not in " ".join(options)
