"""Tryout: a moderator and 30 phones run a word cloud and a multiple-choice poll live during
the demo workshop "Verksted for regional utvikling" in Chromium (issue 25's "Done when").

    PYTHONPATH=$PWD python -m bench.phones SHOTS_DIR

It starts `salen serve --demo`, logs in as the demo organiser, opens the moderator's desk
(1280 px) and the big screen (1280 × 720, as a projector), publishes a synthetic stream so
the workshop records, and opens 30 phone contexts (390 × 844, touch, nb-NO) in one Chromium
at the join address the big screen shows (its QR code is checked to encode that address).
The moderator blocks a word, makes a word cloud on the fly and launches the prepared
multiple-choice poll; the phones answer (æøå, a long word, a right-to-left word, one word in
three cases, the blocked word); the moderator reveals; the script checks the big screen's
counts and words, the CSV and .xlsx exports, the polls on the recording's timeline, axe on
the pages, sideways scrolling and tap-target sizes, and writes screenshots to SHOTS_DIR.
A failed check raises; the figures and the findings are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from openpyxl import load_workbook  # type: ignore[import-untyped]
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from bench.procs import BenchError
from bench.tryout import demo_server, organiser, publishing, server_log, wait_for
from live.qrcode import qr_svg
from tests.support.axe import assert_accessible
from tests.support.browser import launch_chromium, new_context

SLUG = "verksted-regional-utvikling"
PHONES = 30
CLOUD_Q = "Hvilket ord beskriver regionen din om ti år?"
CHOICE_Q = "Hva bør verkstedet prioritere i dag?"  # the demo's prepared poll
BLOCKED = "dritt"
LONG = "Distriktsnæringsutviklingsprogrammene"  # 37 characters, one word
RTL = "تعاون"  # Arabic, "cooperation"
BASE_WORDS = [["Grønn omstilling", "bærekraft"], ["Samarbeid"], ["Ungdom", "Bolig"],
              ["Kompetanse", "tillit"], ["Fiber", "samferdsel"], ["Øyrike"]]
SPECIAL = {0: ["Kompetanse"], 1: ["kompetanse", "Samarbeid"], 2: ["KOMPETANSE"],
           3: ["Grønn  omstilling!", "Ærlighet"], 4: [LONG], 5: [RTL], 6: [BLOCKED],
           7: ["Åpenhet", "og", "Små og store"]}


def word_answers() -> list[list[str]]:
    """What each phone types into the word cloud."""
    return [SPECIAL.get(i, BASE_WORDS[i % len(BASE_WORDS)]) for i in range(PHONES)]


def expected_words() -> Counter[str]:
    """The counts the big screen must show, worked out by hand from `word_answers`: case and
    spaces folded, punctuation and stop words ("og") dropped, the blocked word not counted."""
    fold = {"Grønn  omstilling!": "grønn omstilling", "Små og store": "små store"}
    counts: Counter[str] = Counter()
    for words in word_answers():
        for word in words:
            if word in (BLOCKED, "og"):
                continue
            counts[fold.get(word, word.lower())] += 1
    return counts


def choice_picks(i: int) -> list[int]:
    """The options phone i chooses in the multiple-choice poll (up to two)."""
    return [[0], [2], [0, 2], [1], [3, 0], [2]][i % 6]


async def phone(browser: Browser, join_url: str) -> tuple[BrowserContext, Page]:
    """A phone: 390 × 844, touch, bokmål, at the join address once its polls are in."""
    context = await new_context(browser, viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True, device_scale_factor=2)
    page = await context.new_page()
    await page.goto(join_url)
    await page.wait_for_function("() => window.salenPolls && window.salenPolls.state.pv > 0")
    return context, page


async def check_qr(display: Page) -> str:
    """The join address on the big screen, after checking its QR code encodes it."""
    url = await display.locator("[data-join-url]").get_attribute("href")
    assert url, "the big screen shows no join address"
    shown = await display.locator("[data-join-qr] svg path").first.get_attribute("d")
    made = re.search(r'<path[^>]* d="([^"]+)"', qr_svg(url, title=""))
    assert made and shown == made.group(1), "the QR code on the big screen is not the join address"
    return url


async def make_cloud(moderator: Page) -> None:
    """Block a word, then make the word cloud on the fly and launch it at once."""
    block = moderator.locator("[data-block-form]")
    await moderator.locator(".poll-blocked summary").click()
    await block.locator("input[name=words]").fill(BLOCKED)
    await block.locator("button[type=submit]").click()
    await expect(moderator.locator("[data-blocked]")).to_contain_text(BLOCKED)
    await moderator.locator(".poll-new summary").click()
    form = moderator.locator("[data-poll-form]")
    await form.locator("#poll-kind").select_option("words")
    await form.locator("#poll-question").fill(CLOUD_Q)
    await form.locator("button[type=submit]").click()
    await expect(card(moderator, CLOUD_Q).locator("[data-action=close]")).to_be_visible()


def card(page: Page, question: str) -> Any:
    return page.locator("[data-poll]", has_text=question)


async def answer_words(page: Page, words: list[str]) -> None:
    box = card(page, CLOUD_Q)
    await expect(box.locator("form")).to_be_visible()
    for i, word in enumerate(words):
        field = box.locator("input[name=word]").nth(i)
        await field.tap()
        await field.fill(word)
    await box.locator("button[type=submit]").tap()
    await expect(box.locator(".poll-mine")).to_be_visible()


async def answer_choices(page: Page, picks: list[int]) -> None:
    box = card(page, CHOICE_Q)
    await expect(box.locator("form")).to_be_visible()
    for i in picks:
        await box.locator(f"label[for$='-o{i}']").tap()
    await box.locator("button[type=submit]").tap()
    await expect(box.locator(".poll-mine")).to_be_visible()


async def shown_summary(display: Page) -> dict[str, int]:
    """The big screen's text alternative of the result, as {label: count}."""
    items = await display.locator("[data-polls=display] .poll-summary li").all_text_contents()
    found = {}
    for item in items:
        label, _, rest = item.rpartition(": ")
        found[label] = int(rest.split()[0])
    return found


async def reveal(moderator: Page, display: Page, question: str) -> None:
    await card(moderator, question).locator("[data-action=reveal]").click()
    await expect(display.locator("[data-polls=display] .poll-summary")).to_be_attached()
    await expect(display.locator(".poll-display-question")).to_have_text(question)


async def tap_targets(page: Page) -> list[tuple[str, float, float]]:
    """Controls in the polls section smaller than 44 × 24 CSS px (WCAG 2.5.8 asks 24)."""
    small = await page.evaluate("""() => [...document.querySelectorAll(
        '[data-polls] button, [data-polls] input, [data-polls] label, [data-polls] a')]
      .filter((n) => n.offsetParent !== null)
      .map((n) => { const r = n.getBoundingClientRect();
        return [n.tagName + (n.type ? '[' + n.type + ']' : '') + ' ' + (n.textContent || n.value || '').trim().slice(0, 30), r.width, r.height]; })
      .filter(([, w, h]) => w < 24 || h < 24)""")
    return [(str(a), float(b), float(c)) for a, b, c in small]


async def overflow(page: Page) -> int:
    return int(await page.evaluate("() => document.documentElement.scrollWidth"))


async def exports(organiser_page: Page, base: str, out: Path) -> dict[str, Any]:
    """Download both exports from the polls admin page and check them against the result."""
    await organiser_page.goto(f"{base}/admin/events/{SLUG}/polls")
    files = {}
    for ext in ("csv", "xlsx"):
        async with organiser_page.expect_download() as info:
            await organiser_page.locator(f"a[href$='polls.{ext}']").first.click()
        download = await info.value
        path = out / f"polls.{ext}"
        await download.save_as(path)
        files[ext] = path
    rows = list(csv.DictReader(io.StringIO(files["csv"].read_text(encoding="utf-8-sig"))))
    words = {r["answer"]: int(r["count"]) for r in rows if r["question"] == CLOUD_Q}
    assert words == dict(expected_words()), f"CSV word counts {words}"
    choices = {r["answer"]: int(r["count"]) for r in rows if r["question"] == CHOICE_Q}
    book = load_workbook(files["xlsx"])
    sheet = book["Results"]
    header = [c.value for c in sheet[1]]
    xl = [dict(zip(header, [c.value for c in row], strict=True)) for row in sheet.iter_rows(min_row=2)]
    xl_words = {r["answer"]: r["count"] for r in xl if r["question"] == CLOUD_Q}
    assert xl_words == words, f"xlsx words {xl_words} differ from the CSV's"
    answers = [r for r in book["Answers"].iter_rows(min_row=2, values_only=True)]
    return {"csv_rows": len(rows), "choices": choices, "xlsx_answers": len(answers)}


async def timeline(organiser_page: Page, base: str) -> list[str]:
    """The polls on the workshop's new recording, once it is processed."""
    await organiser_page.goto(f"{base}/admin/events/{SLUG}/recordings")
    link = organiser_page.locator("a[href^='/admin/recordings/']").first

    async def listed() -> bool:
        await organiser_page.reload()
        return await link.count() > 0

    await wait_for(listed, "the workshop's recording to be listed")
    rid = (await link.get_attribute("href") or "").rsplit("/", 1)[-1]

    async def moments() -> bool:
        await organiser_page.goto(f"{base}/recordings/{rid}")
        return await organiser_page.locator("[data-poll-moment]").count() >= 2

    await wait_for(moments, "the polls on the recording's timeline", timeout=300)
    return await organiser_page.locator("[data-poll-moment]").all_inner_texts()


def memory() -> str:
    return subprocess.run(["free", "-m"], check=True, capture_output=True,
                          text=True).stdout.splitlines()[1]


async def run(out: Path) -> None:
    """The whole tryout; screenshots into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    with demo_server("phones") as base:
        try:
            await tryout(base, out)
        except Exception:
            print(server_log("phones")[-4000:])
            raise
        log = server_log("phones")
        assert "Traceback" not in log, "the server logged a traceback"


async def tryout(base: str, out: Path) -> None:
    expect.set_options(timeout=30_000)  # 30 phones on a shared 2-core machine answer slowly
    async with async_playwright() as driver:
        browser = await launch_chromium(driver)
        org_ctx, org = await organiser(browser, base, f"/admin/events/{SLUG}/qa")
        moderator_url = await org.locator("[data-moderator-link]").get_attribute("href")
        display_url = await org.locator("[data-display-link]").get_attribute("href")
        await org.goto(f"{base}/admin/events/{SLUG}/stream")
        key = await org.locator("#stream-key").input_value()
        mod_ctx, moderator = org_ctx, await org_ctx.new_page()
        await moderator.goto(str(moderator_url))
        screen_ctx = await new_context(browser, viewport={"width": 1280, "height": 720})
        display = await screen_ctx.new_page()
        await display.goto(str(display_url))
        await display.wait_for_function("() => window.salenPolls && window.salenPolls.state.pv > 0")
        join_url = await check_qr(display)
        print(f"join address on the big screen: {join_url}")
        await display.screenshot(path=out / "display-0-before.png")
        phones = [await phone(browser, join_url) for _ in range(PHONES)]
        pages = [p for _, p in phones]
        print(f"{PHONES} phones open; memory: {memory()}")
        async with publishing(base, SLUG, key):
            await asyncio.sleep(3)  # the recording's first seconds, before the polls
            await run_polls(moderator, display, pages, out)
            await asyncio.sleep(2)
        findings = await checks(moderator, display, pages)
        for ctx, _ in phones:
            await ctx.close()
        print("exports:", await exports(org, base, out))
        moments = await timeline(org, base)
        print("recording's timeline:", *moments, sep="\n  ")
        await org.screenshot(path=out / "recording-1280.png", full_page=True)
        for line in findings:
            print(line)
        await mod_ctx.close()
        await screen_ctx.close()
        await browser.close()


async def run_polls(moderator: Page, display: Page, pages: list[Page], out: Path) -> None:
    await make_cloud(moderator)
    await expect(display.locator(".poll-display-question")).to_have_text(CLOUD_Q)
    await pages[0].screenshot(path=out / "phone-cloud-0-first-screen.png")  # what one sees first
    await pages[0].screenshot(path=out / "phone-cloud-0-form.png", full_page=True)
    await asyncio.gather(*(answer_words(p, w) for p, w in zip(pages, word_answers(), strict=True)))
    await expect(display.locator(".poll-display-count")).to_contain_text(str(PHONES))
    for i in (0, 4, 5, 6):
        await pages[i].screenshot(path=out / f"phone-cloud-{i}-answered.png", full_page=True)
    await display.screenshot(path=out / "display-1-cloud-open.png")
    await reveal(moderator, display, CLOUD_Q)
    shown = await shown_summary(display)
    assert shown == dict(expected_words()), f"the big screen shows {shown}"
    drawn = await display.locator("svg.poll-cloud text").evaluate_all(
        "(ns) => ns.map((n) => n.dataset.word)")
    assert set(drawn) == set(expected_words()), f"the cloud draws {drawn}"
    await display.screenshot(path=out / "display-2-cloud-revealed.png")
    await pages[5].screenshot(path=out / "phone-cloud-5-revealed.png", full_page=True)
    await moderator.screenshot(path=out / "moderator-1-cloud.png", full_page=True)

    await card(moderator, CHOICE_Q).locator("[data-action=launch]").click()
    await expect(display.locator(".poll-display-question")).to_have_text(CHOICE_Q)
    await pages[1].screenshot(path=out / "phone-choice-1-form.png", full_page=True)
    await asyncio.gather(*(answer_choices(p, choice_picks(i)) for i, p in enumerate(pages)))
    await expect(display.locator(".poll-display-count")).to_contain_text(str(PHONES))
    await reveal(moderator, display, CHOICE_Q)
    options = await display.evaluate(
        "(q) => window.salenPolls.state.list().find((p) => p.question === q).options", CHOICE_Q)
    want = Counter(options[i] for n in range(PHONES) for i in choice_picks(n))
    shown = await shown_summary(display)
    assert shown == {o: want[o] for o in options}, f"the big screen shows {shown}"
    await display.screenshot(path=out / "display-3-choice-revealed.png")
    await pages[2].screenshot(path=out / "phone-choice-2-revealed.png", full_page=True)
    for question in (CLOUD_Q, CHOICE_Q):
        close = card(moderator, question).locator("[data-action=close]")
        if await close.count():
            await close.click()
    await moderator.screenshot(path=out / "moderator-2-after.png", full_page=True)


async def checks(moderator: Page, display: Page, pages: list[Page]) -> list[str]:
    """axe on the three pages, sideways scrolling and small tap targets on a phone."""
    for page in (pages[0], moderator, display):
        await assert_accessible(page)
    findings = ["axe: no serious or critical violations on the live, moderator and display pages"]
    widths = {await overflow(p) for p in pages[:6]}
    findings.append(f"phone page widths: {sorted(widths)} (viewport 390)")
    if max(widths) > 390:
        raise BenchError(f"a phone scrolls sideways: {widths}")
    findings.append(f"small tap targets on a phone: {await tap_targets(pages[0]) or 'none'}")
    return findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shots", type=Path, help="folder for the screenshots")
    asyncio.run(run(parser.parse_args().shots))


if __name__ == "__main__":
    main()
