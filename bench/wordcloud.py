"""Word cloud render time on the big screen: a word cloud of 5,000 answers, next to the same
display drawing a multiple-choice poll's bars from 5,000 answers in the same run.

    PYTHONPATH=$PWD python -m bench.wordcloud                     # 5,000 answers, 20 renders
    PYTHONPATH=$PWD python -m bench.wordcloud --answers 500 --renders 5   # a smoke run

A fresh SQLite database gets an event with two closed, revealed polls: a word cloud whose
5,000 answers hold one to three entries drawn from 300 compound words (æøå among them) with
a Zipf-like frequency (s = 1.1), and a multiple-choice poll with 5,000 answers. `salen serve`
runs on core 0; Debian's Chromium opens the big screen (`/e/{slug}/display?key=`, 1280 × 720)
and a moderator's desk. A script injected before the page's own records when each WebSocket
frame carrying polls arrives and, through a MutationObserver on the display's poll element,
when the new result is in the DOM and when the frame after it has been painted
(requestAnimationFrame, then a task). Two ways to draw, each measured `renders` times:

- load: the page (re)loads with the poll on the big screen: the snapshot's arrival → painted,
  with a fresh layout (no remembered places);
- update: the moderator hides and reveals the poll: the update's arrival → painted, with the
  layout kept from before (the words keep their places).

The peer is the same display drawing the bars (the multiple-choice poll). Reported: median
and p95 in ms per case, and the cloud's time as a ratio of the bars'; the issue's goal is
under 200 ms for the cloud. The figures go to bench/results/ by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import statistics
from pathlib import Path
from typing import Any

from playwright.async_api import Page, async_playwright

from bench.procs import SERVER_CORE, WORK, BenchError, free_port, pinned, salen_cmd, salen_env
from tests.support.browser import launch_chromium, new_context

SLUG = "bench-wordcloud"
MOD_TOKEN = "bench-wordcloud-mod"
FIRSTS = ["grønn", "bære", "sam", "kompetanse", "nærings", "by", "distrikts", "fjell", "kyst",
          "øy", "fjord", "skog", "ungdoms", "bolig", "kultur", "helse", "klima", "energi",
          "samferdsels", "digital"]
SECONDS = ["kraft", "arbeid", "utvikling", "liv", "politikk", "plan", "næring", "sted",
           "miljø", "løft", "fellesskap", "tilbud", "satsing", "vekst", "økonomi"]
OPTIONS = ["Samstyring på tvers av sektorer", "Bærekraftsmålene i planarbeidet",
           "Kompetanse i distriktene", "Erfaringsdeling mellom fylkene", "Bolig og tilflytting"]

# Runs in the page before its own scripts (Playwright adds it through DevTools, past the CSP).
PROBE = """(() => {
  const bench = window.__bench = { arrivals: [], renders: [] };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        if (typeof e.data === "string" && e.data.includes('"type":"polls')) bench.arrivals.push(performance.now());
      });
    }
  };
  document.addEventListener("DOMContentLoaded", () => {
    const target = document.querySelector("[data-poll-active]");
    new MutationObserver(() => {
      const inDom = performance.now();
      const kind = target.querySelector("svg.poll-cloud") ? "cloud" : target.querySelector(".poll-bars") ? "bars" : "other";
      const arrived = bench.arrivals[bench.arrivals.length - 1];
      const marks = performance.getEntriesByName("salen:polls-push");
      const handled = marks.length ? marks[marks.length - 1].startTime : arrived;
      requestAnimationFrame(() => setTimeout(() => bench.renders.push(
        { kind, arrived, handled, inDom, painted: performance.now(), words: target.querySelectorAll("svg.poll-cloud text").length })));
    }).observe(target, { childList: true });
  });
})();"""


def vocabulary() -> list[str]:
    """300 compound words, shuffled once so frequency does not follow the alphabet."""
    words = [a + b for a in FIRSTS for b in SECONDS]
    random.Random(7).shuffle(words)
    return words


def word_answers(n: int, rng: random.Random) -> list[list[str]]:
    """`n` answers of one to three distinct entries, Zipf-like over the vocabulary."""
    words = vocabulary()
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(words))]
    answers = []
    for _ in range(n):
        size = rng.choice((1, 1, 2, 2, 3))
        picked = list(dict.fromkeys(rng.choices(words, weights, k=size)))
        answers.append([w.capitalize() if rng.random() < 0.3 else w for w in picked])
    return answers


async def seed(url: str, answers: int) -> str:
    """The event and its two revealed polls; returns the display key."""
    from live.db import create_engine, sessionmaker
    from live.migrate import upgrade_async
    from live.models import Event
    from live.models.polls import Poll, PollAnswer, PollCount, PollState
    from live.polls import domain
    from live.polls.domain import PollKind, PollStatus
    from live.polls.words import stopwords

    await upgrade_async(url)
    engine = create_engine(url)
    rng = random.Random(25)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    async with sessionmaker(engine)() as session, session.begin():
        event = Event(slug=SLUG, title="Ordsky-benk", moderator_token=MOD_TOKEN)
        session.add(event)
        await session.flush()
        session.add(PollState(event_id=event.id, version=3, blocked_words=[]))
        choice = Poll(event_id=event.id, kind=PollKind.MULTIPLE, question="Hva bør vi prioritere?",
                      options=OPTIONS, max_choices=2, position=1)
        cloud = Poll(event_id=event.id, kind=PollKind.WORDS, options=[], position=2,
                     question="Hvilke ord beskriver regionen din om ti år?")
        raw: dict[int, list[Any]] = {}
        for n, poll in enumerate((choice, cloud)):
            poll.v, poll.status, poll.revealed, poll.answers = 2 + n, PollStatus.CLOSED, True, answers
            poll.opened_at = start + dt.timedelta(minutes=10 * n)
            poll.closed_at = poll.revealed_at = poll.opened_at + dt.timedelta(minutes=5)
            session.add(poll)
        await session.flush()
        raw[choice.id] = [sorted(set(rng.choices(range(len(OPTIONS)), [5, 4, 3, 2, 1],
                                                 k=rng.choice((1, 2))))) for _ in range(answers)]
        raw[cloud.id] = [domain.clean_answer(cloud, domain.Answer(words=tuple(w)), stopwords(),
                                             frozenset()) for w in word_answers(answers, rng)]
        for poll in (choice, cloud):
            for i, value in enumerate(raw[poll.id]):
                session.add(PollAnswer(poll_id=poll.id, participant=f"p{i}", value=value, v=2,
                                       answered_at=start))
            for key, count in domain.recount(poll.kind, raw[poll.id]).items():
                session.add(PollCount(poll_id=poll.id, key=key, n=count))
        key = event.display_token
        distinct = len(domain.recount(PollKind.WORDS, raw[cloud.id]))
    await engine.dispose()
    print(f"seeded {answers} answers per poll; the cloud has {distinct} distinct entries")
    return key


async def wait_renders(page: Page, count: int) -> list[dict[str, Any]]:
    """The display's render records once there are at least `count`."""
    await page.wait_for_function(f"() => window.__bench.renders.length >= {count}", timeout=60_000)
    records: list[dict[str, Any]] = await page.evaluate("() => window.__bench.renders")
    return records


async def measure(base: str, key: str, renders: int) -> dict[str, list[dict[str, Any]]]:
    """Render records per case: load and update, cloud and bars."""
    cases: dict[str, list[dict[str, Any]]] = {}
    async with async_playwright() as driver:
        browser = await launch_chromium(driver)
        desk_ctx = await new_context(browser, viewport={"width": 1280, "height": 800})
        desk = await desk_ctx.new_page()
        await desk.goto(f"{base}/e/{SLUG}/moderate?token={MOD_TOKEN}")
        await desk.wait_for_selector("[data-poll] [data-action=hide]")
        screen_ctx = await new_context(browser, viewport={"width": 1280, "height": 720})
        await screen_ctx.add_init_script(PROBE)
        display = await screen_ctx.new_page()
        polls = {"cloud": "[data-poll]:has(svg.poll-cloud)", "bars": "[data-poll]:has(.poll-bars)"}
        for kind in ("bars", "cloud"):
            # Put this kind on the big screen: it is the one revealed last.
            await toggle(desk, polls[kind])
            cases[f"load {kind}"] = []
            for i in range(renders + 1):
                await display.goto(f"{base}/e/{SLUG}/display?key={key}")
                record = (await wait_renders(display, 1))[0]
                if record["kind"] != kind:
                    raise BenchError(f"the display drew {record['kind']}, not {kind}")
                if i:  # the first load warms the caches
                    cases[f"load {kind}"].append(record)
        await display.goto(f"{base}/e/{SLUG}/display?key={key}")
        await wait_renders(display, 1)
        for i in range(renders + 1):
            for kind in ("bars", "cloud"):
                done = len(await display.evaluate("() => window.__bench.renders"))
                await toggle(desk, polls[kind])
                records = await wait_renders(display, done + 2)
                shown = [r for r in records[done:] if r["kind"] == kind]
                if not shown:
                    raise BenchError(f"no {kind} render after its reveal: {records[done:]}")
                if i:
                    cases.setdefault(f"update {kind}", []).append(shown[-1])
        await browser.close()
    return cases


async def toggle(desk: Page, card: str) -> None:
    """Hide the poll's results, then reveal them: the display switches to it."""
    box = desk.locator(card)
    await box.locator("[data-action=hide]").click()
    await box.locator("[data-action=reveal]").wait_for()
    await box.locator("[data-action=reveal]").click()
    await box.locator("[data-action=hide]").wait_for()


def stats(records: list[dict[str, Any]], start: str, end: str) -> tuple[float, float]:
    """Median and p95 of `end` - `start` over the records."""
    times = sorted(r[end] - r[start] for r in records)
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def summary(cases: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Median and p95 (ms) per case: from the frame's arrival, and from the page's handling of
    it (`salen:polls-push`: on a load the module may still be loading when the frame comes),
    to painted; and from the handling to the result in the DOM."""
    out = {}
    for case, records in cases.items():
        arrival, handled = stats(records, "arrived", "painted"), stats(records, "handled", "painted")
        dom = stats(records, "handled", "inDom")
        out[case] = {"renders": len(records), "words": max(r["words"] for r in records),
                     "arrival_median": arrival[0], "arrival_p95": arrival[1],
                     "median": handled[0], "p95": handled[1], "dom_median": dom[0]}
    return out


def report(figures: dict[str, dict[str, float]]) -> None:
    print("ms; 'arrival' from the frame's arrival, 'page' from the page's handling of it, to painted")
    print(f"{'case':14} {'renders':>7} {'words':>5} {'arrival med':>11} {'p95':>7} {'page med':>9}"
          f" {'p95':>7} {'in DOM med':>10}")
    for case, f in figures.items():
        print(f"{case:14} {f['renders']:7.0f} {f['words']:5.0f} {f['arrival_median']:11.1f} "
              f"{f['arrival_p95']:7.1f} {f['median']:9.1f} {f['p95']:7.1f} {f['dom_median']:10.1f}")
    for mode in ("load", "update"):
        cloud, bars = figures[f"{mode} cloud"], figures[f"{mode} bars"]
        verdict = "meets" if cloud["p95"] < 200 else "misses"
        print(f"{mode}: cloud/bars median ratio {cloud['median'] / bars['median']:.2f}; "
              f"cloud p95 {cloud['p95']:.1f} ms {verdict} the 200 ms goal")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=5000)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / "wordcloud.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{db}"
    key = asyncio.run(seed(url, args.answers))
    port = free_port()
    with pinned(salen_cmd(port), SERVER_CORE, WORK / "wordcloud-server.log", env=salen_env(url),
                port=port):
        cases = asyncio.run(measure(f"http://127.0.0.1:{port}", key, args.renders))
    figures = summary(cases)
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
