"""Q&A in headless Chromium: a viewer, a moderator and the big screen through the whole flow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, WebSocket, expect
from sqlalchemy import select

from live.db import create_engine, sessionmaker
from live.models import Event, Question
from live.settings import Settings
from tests.support.app import make_settings
from tests.support.axe import assert_accessible
from tests.support.browser import new_context

pytestmark = pytest.mark.browser
SLUG = "planstrategi-4-0"
ASKED = "How will the small municipalities get help with the plan?"
FLOOR = "A question from the room about housing"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Chromium tests run on SQLite only."""
    return sqlite_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """English pages (the msgids), and a short tick so viewers see changes quickly."""
    return make_settings(database_url, tmp_path, default_locale="en", tick_seconds=0.05)


async def tokens(settings: Settings) -> tuple[str, str]:
    """The demo event's moderator and display tokens."""
    engine = create_engine(settings.database_url)
    try:
        async with sessionmaker(engine)() as session:
            event = await session.scalar(select(Event).where(Event.slug == SLUG))
            assert event is not None
            return event.moderator_token, event.display_token
    finally:
        await engine.dispose()


async def open_page(browser: Browser, url: str) -> Page:
    """A page in its own context (its own cookies: another person), synced with the socket."""
    context = await new_context(browser)
    page = await context.new_page()
    await page.goto(url)
    await page.wait_for_function(
        "() => window.salenQa && window.salenQa.state.v !== undefined"
        " && window.salenQa.state.settings !== null"
    )
    return page


def record_frames(page: Page) -> list[str]:
    """Every frame the page's sockets receive, to prove what never reached it."""
    frames: list[str] = []

    def on_socket(ws: WebSocket) -> None:
        ws.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", on_socket)
    return frames


async def queue_ids(page: Page) -> list[int]:
    """The panel queue as the moderator's page shows it."""
    items = page.locator("[data-queue] > li[data-question]")
    return [int(x) for x in await items.evaluate_all("els => els.map(e => e.dataset.question)")]


async def test_viewer_moderator_and_display_through_the_whole_flow(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """ask → approve → enqueue → reorder → now answering → answered, seen on all three pages."""
    moderator_token, display_key = await tokens(settings)
    bystander_context = await new_context(browser)
    bystander = await bystander_context.new_page()
    seen_by_bystander = record_frames(bystander)
    await bystander.goto(f"{live_url}/e/{SLUG}/live")
    viewer = await open_page(browser, f"{live_url}/e/{SLUG}/live")
    moderator = await open_page(
        browser, f"{live_url}/e/{SLUG}/moderate?token={moderator_token}&name=Kari"
    )
    display = await open_page(browser, f"{live_url}/e/{SLUG}/display?key={display_key}")

    # A viewer asks; the name is shown as text, never as HTML.
    await viewer.get_by_label("Your question", exact=True).fill(ASKED)
    await viewer.locator("#qa-name").fill("<b>Ola</b>")
    await viewer.get_by_label("Organisation (optional)").fill("Otta kommune")
    await viewer.get_by_role("button", name="Send question").click()
    mine = viewer.locator("[data-mine] li")
    await expect(mine).to_contain_text(ASKED)
    await expect(mine).to_contain_text("Awaiting moderation")

    # The moderator sees it arrive; nobody else does.
    incoming = moderator.locator("[data-list=pending] li[data-question]")
    await expect(incoming).to_contain_text(ASKED)
    await expect(incoming).to_contain_text("<b>Ola</b>, Otta kommune")
    assert await moderator.locator("[data-list=pending] b").count() == 0
    qid = int(await incoming.get_attribute("data-question") or 0)
    await expect(bystander.locator("[data-questions]")).to_contain_text("No questions yet.")
    assert not any(ASKED in frame for frame in seen_by_bystander)

    await moderator.locator(f"[data-key=approve-{qid}]").click()
    await expect(viewer.locator("[data-mine] li")).to_contain_text("Published")
    await expect(bystander.locator(f"[data-questions] [data-question='{qid}']")).to_contain_text(
        ASKED
    )
    # Each question and each typed name is its own bidi isolate: a right-to-left name, or an
    # override inside it, cannot reorder the rest of the line (the vote count on the desk).
    shown = bystander.locator(f"[data-questions] [data-question='{qid}']")
    await expect(shown.locator(".qa-text")).to_have_attribute("dir", "auto")
    await expect(shown.locator(".qa-by bdi")).to_have_text(["<b>Ola</b>", "Otta kommune"])
    desk = moderator.locator(f"li[data-question='{qid}'] .qa-by")
    await expect(desk.locator("bdi")).to_have_text(["<b>Ola</b>", "Otta kommune"])
    await expect(desk).to_contain_text("0 votes")

    # The bystander upvotes once; the button shows it is theirs.
    vote = bystander.locator(f"[data-vote='{qid}']")
    await vote.click()
    await expect(vote).to_have_attribute("aria-pressed", "true")
    await expect(viewer.locator(f"[data-vote='{qid}']")).to_contain_text("1")

    # A question from the floor goes straight onto the queue; then the viewer's question.
    await moderator.get_by_label("Question", exact=True).fill(FLOOR)
    await moderator.get_by_role("button", name="Add question").click()
    await expect(moderator.locator("[data-queue]")).to_contain_text(FLOOR)
    await moderator.locator(f"[data-key=enqueue-{qid}]").click()
    await expect(moderator.locator(f"[data-queue] [data-question='{qid}']")).to_be_visible()
    floor_id = (await queue_ids(moderator))[0]
    assert await queue_ids(moderator) == [floor_id, qid]

    # Reorder with the keyboard, then by drag and drop, then with a button.
    await moderator.locator(f"[data-key=menu-{floor_id}]").click()  # the "more actions" menu
    await moderator.locator(f"[data-key=down-{floor_id}]").focus()
    await moderator.keyboard.press("Enter")
    await expect(moderator.locator("[data-queue] > li").first).to_have_attribute(
        "data-question", str(qid)
    )
    await expect(display.locator("[data-next] li").first).to_contain_text(ASKED)
    await moderator.locator(f"[data-queue] [data-question='{floor_id}']").drag_to(
        moderator.locator(f"[data-queue] [data-question='{qid}']")
    )
    await expect(moderator.locator("[data-queue] > li").first).to_have_attribute(
        "data-question", str(floor_id)
    )
    await expect(display.locator("[data-next] li").first).to_contain_text(FLOOR)
    await moderator.locator(f"[data-key=menu-{qid}]").click()
    await moderator.locator(f"[data-key=up-{qid}]").click()
    await expect(moderator.locator("[data-queue] > li").first).to_have_attribute(
        "data-question", str(qid)
    )

    # Now answering: everyone sees the question on air.
    await moderator.locator(f"[data-queue] [data-key=now-{qid}]").click()
    await expect(viewer.locator("[data-now]")).to_contain_text(ASKED)
    await expect(display.locator("[data-now]")).to_contain_text(ASKED)
    await expect(display.locator("[data-now]")).to_contain_text("<b>Ola</b>, Otta kommune")
    await expect(display.locator("[data-next]")).to_contain_text(FLOOR)
    await expect(display.locator("[data-next]")).to_contain_text("From the floor")
    await expect(moderator.locator("[data-log]")).to_contain_text("put on air by Kari")

    for page in (viewer, moderator, display):
        await assert_accessible(page)

    # Answered: it leaves the screen and shows as answered to viewers.
    await moderator.locator(f"[data-key=done-{qid}]").click()
    await expect(display.locator("[data-now]")).not_to_contain_text(ASKED)
    await expect(viewer.locator(f"[data-questions] [data-question='{qid}']")).to_contain_text(
        "Answered"
    )
    await expect(viewer.locator("[data-mine] li")).to_contain_text("Answered")
    assert await moderator.locator("[data-list=answered] li[data-question]").count() == 1

    # A rejected question stays with its asker ("not published") and reaches nobody else.
    await viewer.get_by_label("Your question", exact=True).fill("Something rude")
    await viewer.get_by_role("button", name="Send question").click()
    rude = moderator.locator("[data-list=pending] li[data-question]")
    rude_id = await rude.get_attribute("data-question")
    await moderator.locator(f"[data-key=menu-{rude_id}]").click()
    await moderator.locator(f"[data-key=reject-{rude_id}]").click()
    await expect(viewer.locator("[data-mine] li").first).to_contain_text("Not published")
    await expect(moderator.locator("[data-list=rejected]")).to_contain_text("Something rude")
    await bystander.reload()
    await expect(bystander.locator("[data-questions]")).to_contain_text(FLOOR)
    assert not any("Something rude" in frame for frame in seen_by_bystander)
    state = await bystander.evaluate("() => JSON.stringify([...window.salenQa.state.questions])")
    assert "rude" not in state


async def test_page_reconnects_and_follows_the_settings(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """After a drop the page reconnects with ?since=V and catches up; settings reach the form."""
    moderator_token, _ = await tokens(settings)
    viewer = await open_page(browser, f"{live_url}/e/{SLUG}/live")
    urls: list[str] = []
    viewer.on("websocket", lambda ws: urls.append(ws.url))
    moderator = await open_page(browser, f"{live_url}/e/{SLUG}/moderate?token={moderator_token}")
    # Hold the reconnect back until the moderator has acted, so the change is missed.
    await viewer.evaluate(
        "() => { const s = window.salenQa.socket; s.delay = 60000; s.ws.close(); }"
    )
    await expect(viewer.locator("[data-connection]")).to_contain_text("reconnecting")
    await moderator.get_by_label("Question", exact=True).fill(FLOOR)
    await moderator.get_by_role("button", name="Add question").click()
    await expect(moderator.locator("[data-queue]")).to_contain_text(FLOOR)
    await viewer.evaluate("() => window.salenQa.socket.connect()")
    await expect(viewer.locator("[data-questions]")).to_contain_text(FLOOR)
    assert urls and "since=" in urls[-1]
    await expect(viewer.locator("[data-connection]")).to_be_hidden()

    # Closing Q&A disables the form; forbidding anonymity hides that choice.
    await expect(viewer.get_by_label("Ask anonymously")).to_be_visible()
    await moderator.evaluate(
        "() => window.salenQa.socket.call('qa.settings', {open: false, anonymous: false})"
    )
    await expect(viewer.get_by_role("button", name="Send question")).to_be_disabled()
    await expect(viewer.get_by_label("Ask anonymously")).to_be_hidden()
    await expect(viewer.locator("[data-closed-notice]")).to_contain_text("Questions are closed")
    await expect(viewer.get_by_label("Your question", exact=True)).to_be_disabled()


async def test_two_moderators_edit_merge_and_filter(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """One moderator's edit and another's merge show on both desks; votes carry over."""
    moderator_token, _ = await tokens(settings)
    viewer = await open_page(browser, f"{live_url}/e/{SLUG}/live")
    kari = await open_page(
        browser, f"{live_url}/e/{SLUG}/moderate?token={moderator_token}&name=Kari"
    )
    per = await open_page(browser, f"{live_url}/e/{SLUG}/moderate?token={moderator_token}&name=Per")
    ids = []
    for text, item in (("Wht about roads?", None), ("And the roads in Otta?", 1)):
        await viewer.get_by_label("Your question", exact=True).fill(text)
        if item is not None:
            await viewer.locator("#qa-item").select_option(index=item)
        await viewer.get_by_role("button", name="Send question").click()
        card = kari.locator("[data-list=pending] li[data-question]").filter(
            has=kari.get_by_text(text, exact=True)
        )
        ids.append(int(await card.get_attribute("data-question") or 0))
    first, second = ids
    for qid in ids:
        await kari.locator(f"[data-key=approve-{qid}]").click()
        await expect(per.locator(f"[data-list=approved] [data-question='{qid}']")).to_be_visible()
    await viewer.locator(f"[data-vote='{second}']").click()
    await expect(per.locator(f"[data-question='{second}']")).to_contain_text(re.compile(r"\b1 vote(?!s)"))

    await kari.locator(f"[data-key=menu-{first}]").click()
    await kari.locator(f"[data-key=edit-{first}]").click()
    await kari.locator(f"#edit-{first}").fill("What about the roads?")
    await kari.get_by_role("button", name="Save").click()
    edited = per.locator(f"[data-list=approved] [data-question='{first}']")
    await expect(edited).to_contain_text("What about the roads?")
    await expect(edited).to_contain_text("Original: Wht about roads?")
    await expect(per.locator("[data-log]")).to_contain_text("edited by Kari")

    await per.locator(f"[data-key=menu-{second}]").click()
    await per.locator(f"[data-key=merge-{second}]").click()
    await per.get_by_label("Merge question “And the roads in Otta?” into").select_option(str(first))
    await per.locator(f"[data-key=merge-go-{second}]").click()
    await expect(viewer.locator(f"[data-questions] [data-question='{second}']")).to_have_count(0)
    await expect(viewer.locator(f"[data-vote='{first}']")).to_contain_text("1")
    await expect(kari.locator(f"[data-question='{first}']")).to_contain_text(re.compile(r"\b1 vote(?!s)"))

    approved = kari.locator("[data-list=approved]")
    await kari.get_by_label("Show questions about").select_option(index=2)  # the first item
    await expect(approved).to_contain_text("None.")
    await kari.get_by_label("Show questions about").select_option("none")
    await expect(approved).to_contain_text("What about the roads?")


async def test_an_ask_whose_reply_was_lost_is_sent_again_once(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """The socket drops right after sending a question: once reconnected the page sends it
    again with its idempotency key and gets the first question back; it is stored once."""
    viewer = await open_page(browser, f"{live_url}/e/{SLUG}/live")
    text = "Did my question arrive only once?"
    asked = await viewer.evaluate(
        """(text) => {
            const s = window.salenQa.socket;
            s.delay = 100;
            const reply = s.call("qa.ask", {text, name: "Ada"});
            s.ws.close();
            return reply.then((ok) => ok.question.id);
        }""",
        text,
    )
    engine = create_engine(settings.database_url)
    try:
        async with sessionmaker(engine)() as session:
            ids = (await session.scalars(select(Question.id).where(Question.text == text))).all()
    finally:
        await engine.dispose()
    assert ids == [asked]


async def test_group_work_pushes_leave_the_q_and_a_state_alone(
    browser: Browser, live_url: str
) -> None:
    """The group work's pushes on the same socket (`rooms.state` with a version of its own,
    `rooms.resync` with none) change neither the Q&A's version nor the `since` it resumes from."""
    viewer = await open_page(browser, f"{live_url}/e/{SLUG}/live")
    before = await viewer.evaluate("() => [window.salenQa.state.v, window.salenQa.socket.v]")
    after = await viewer.evaluate(
        """() => {
            const s = window.salenQa.socket;
            s.receive({type: "rooms.state", v: 999999, state: "open"});
            s.receive({type: "rooms.resync"});
            return [window.salenQa.state.v, s.v];
        }"""
    )
    assert after == before
