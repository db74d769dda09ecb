"""Live captions over a real uvicorn server: the captioner link, typing, lines, hand-over."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import connect

from live.db import create_engine, sessionmaker
from live.demo.captions import demo_captioner_link
from live.models import CaptionLine, Event
from live.settings import Settings
from tests.support.admin import csrf_of
from tests.support.app import make_settings
from tests.support.ws_client import Client, Message

SLUG = "planstrategi-4-0"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The socket path runs on SQLite (the service's tests cover PostgreSQL)."""
    return sqlite_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, tick_seconds=0.05, tick_min_seconds=0.02)


async def event_row(settings: Settings) -> Event:
    engine = create_engine(settings.database_url)
    try:
        async with sessionmaker(engine)() as session:
            event = await session.scalar(select(Event).where(Event.slug == SLUG))
            assert event is not None
            return event
    finally:
        await engine.dispose()


async def stored_lines(settings: Settings) -> list[str]:
    engine = create_engine(settings.database_url)
    try:
        async with sessionmaker(engine)() as session:
            rows = (await session.scalars(select(CaptionLine).order_by(CaptionLine.seq))).all()
            return [row.text for row in rows]
    finally:
        await engine.dispose()


async def captioner_cookie(base: str, key: str) -> str:
    """Exchange the captioner key for a session cookie, as the browser does."""
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.get(f"/e/{SLUG}/captions", params={"key": key})
        assert response.status_code == 303
        assert response.headers["location"] == f"/e/{SLUG}/captions"
        return f"salen_session={http.cookies['salen_session']}"


@contextlib.asynccontextmanager
async def socket(base: str, cookie: str = "") -> AsyncIterator[Client]:
    headers = {"Cookie": cookie} if cookie else {}
    url = base.replace("http://", "ws://") + f"/ws/events/{SLUG}"
    async with connect(url, additional_headers=headers) as ws:
        client = Client(ws)
        first = await client.read()
        assert first["type"] == "snapshot"
        yield client


def captions(push: Message) -> bool:
    return push["type"] == "captions"


async def until(client: Client, check: Any) -> Message:
    """The first captions push satisfying `check`."""
    return await client.push(lambda m: captions(m) and check(m))


async def test_wrong_captioner_key_is_401(live_url: str) -> None:
    """A wrong key in the captioner link is refused with 401, and so is the page without one."""
    async with httpx.AsyncClient(base_url=live_url) as http:
        wrong = await http.get(f"/e/{SLUG}/captions", params={"key": "nope"})
        bare = await http.get(f"/e/{SLUG}/captions")
        json_reply = await http.get(f"/e/{SLUG}/captions", params={"key": "nope"},
                                    headers={"Accept": "application/json"})
    assert wrong.status_code == 401 and bare.status_code == 401
    assert json_reply.json()["code"] == "captions.bad_key"


async def test_key_is_exchanged_for_the_session_and_dropped(
    live_url: str, settings: Settings
) -> None:
    """The link's key becomes a session grant; the page then opens without it."""
    event = await event_row(settings)
    async with httpx.AsyncClient(base_url=live_url) as http:
        response = await http.get(f"/e/{SLUG}/captions", params={"key": event.captions_token})
        assert response.status_code == 303 and "key" not in response.headers["location"]
        page = await http.get(f"/e/{SLUG}/captions")
    assert page.status_code == 200 and event.captions_token not in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_viewer_sees_partial_then_committed_line(
    live_url: str, settings: Settings
) -> None:
    """What the captioner types reaches a viewer as a partial, and Enter as a stored line."""
    cookie = await captioner_cookie(live_url, (await event_row(settings)).captions_token)
    async with socket(live_url, cookie) as captioner, socket(live_url) as viewer:
        reply = await captioner.call("captions.type", text="Velkommen til", name="Kari")
        assert reply["type"] == "ok" and reply["who"]
        partial = await until(viewer, lambda m: m.get("partial"))
        assert partial["partial"]["text"] == "Velkommen til"
        assert partial["partial"]["by"] == "Kari"
        reply = await captioner.call("captions.line", text="Velkommen til <b>seminaret</b>",
                                     key="line-1", name="Kari")
        assert [line["seq"] for line in reply["lines"]] == [1]
        pushed = await until(viewer, lambda m: m.get("lines"))
        assert pushed["lines"][0]["text"] == "Velkommen til <b>seminaret</b>"
        assert pushed["partial"] is None
    assert await stored_lines(settings) == ["Velkommen til <b>seminaret</b>"]


async def test_reconnecting_viewer_gets_recent_lines_not_partial_storage(
    live_url: str, settings: Settings
) -> None:
    """A viewer connecting later gets the committed lines; a partial line was never stored."""
    cookie = await captioner_cookie(live_url, (await event_row(settings)).captions_token)
    async with socket(live_url, cookie) as captioner:
        await captioner.call("captions.line", text="Første linje", key="a1")
        await captioner.call("captions.line", text="Andre linje", key="a2")
        await captioner.call("captions.type", text="halvferdig")
        async with socket(live_url) as viewer:
            snapshot = await until(viewer, lambda m: m.get("snapshot"))
    assert [line["text"] for line in snapshot["lines"]] == ["Første linje", "Andre linje"]
    assert await stored_lines(settings) == ["Første linje", "Andre linje"]


async def test_hand_over_loses_and_doubles_nothing(live_url: str, settings: Settings) -> None:
    """Two captioners take turns; a line resent with its key is stored once, in sequence."""
    key = (await event_row(settings)).captions_token
    first, second = await captioner_cookie(live_url, key), await captioner_cookie(live_url, key)
    async with socket(live_url, first) as kari, socket(live_url, second) as ola:
        await kari.call("captions.type", text="Kari skriver", name="Kari")
        seen = await until(ola, lambda m: m.get("partial"))
        assert seen["partial"]["by"] == "Kari"
        await kari.call("captions.line", text="Kari sin linje", key="k-1")
        again = await kari.call("captions.line", text="Kari sin linje", key="k-1")
        assert [line["seq"] for line in again["lines"]] == [1]
        await ola.call("captions.line", text="Ola tar over", key="o-1")
        await asyncio.gather(
            kari.call("captions.line", text="Kari igjen", key="k-2"),
            ola.call("captions.line", text="Ola igjen", key="o-2"),
        )
    assert sorted(await stored_lines(settings)) == sorted(
        ["Kari sin linje", "Ola tar over", "Kari igjen", "Ola igjen"])


async def test_viewer_may_not_caption_and_long_lines_are_split(
    live_url: str, settings: Settings
) -> None:
    """A viewer's caption message is forbidden; an over-long line is split, not refused."""
    cookie = await captioner_cookie(live_url, (await event_row(settings)).captions_token)
    async with socket(live_url) as viewer, socket(live_url, cookie) as captioner:
        refused = await viewer.call("captions.line", text="hei", key="v-1")
        assert refused["type"] == "error" and refused["code"] == "forbidden"
        reply = await captioner.call("captions.line", text=" ".join(["ord"] * 100), key="long")
        assert len(reply["lines"]) > 1
        blank = await captioner.call("captions.line", text="   ", key="blank")
        assert blank["code"] == "captions.empty"
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session:
        count = await session.scalar(select(func.count()).select_from(CaptionLine))
    await engine.dispose()
    assert count == len(reply["lines"])


async def test_flooding_captioner_is_limited(live_url: str, settings: Settings) -> None:
    """Partial updates past the captions bucket get `captions.rate_limited`."""
    cookie = await captioner_cookie(live_url, (await event_row(settings)).captions_token)
    async with socket(live_url, cookie) as captioner:
        # Sent without waiting for replies: 80 updates exceed the bucket (burst 40, 20 a
        # second) unless the server takes two seconds over them, and stay below the strikes.
        for i in range(1, 81):
            await captioner.ws.send(json.dumps({"type": "captions.type", "id": i, "text": f"x{i}"}))
        codes = {(await captioner.reply(i)).get("code", "ok") for i in range(1, 81)}
    assert "captions.rate_limited" in codes




async def test_demo_event_has_a_working_captioner_link(
    live_url: str, settings: Settings
) -> None:
    """The demo's captioner link (printed by `salen serve --demo`) opens the captioner page."""
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session:
        link = await demo_captioner_link(session, live_url)
    await engine.dispose()
    assert link is not None and link.startswith(f"{live_url}/e/{SLUG}/captions?key=")
    async with httpx.AsyncClient() as http:
        response = await http.get(link, follow_redirects=True)
    assert response.status_code == 200 and str(response.url) == f"{live_url}/e/{SLUG}/captions"


async def test_captioner_leaving_mid_line_clears_the_partial(
    live_url: str, settings: Settings
) -> None:
    """When a captioner's socket closes mid-line, viewers get `partial: null`."""
    cookie = await captioner_cookie(live_url, (await event_row(settings)).captions_token)
    async with socket(live_url) as viewer:
        async with socket(live_url, cookie) as captioner:
            await captioner.call("captions.type", text="halv setning", name="Kari")
            await until(viewer, lambda m: m.get("partial"))
        cleared = await until(viewer, lambda m: "partial" in m and m["partial"] is None)
    assert cleared["type"] == "captions"


async def test_page_without_javascript_commits_lines_through_its_form(
    live_url: str, settings: Settings
) -> None:
    """The captioner's form stores a line once per form key; a blank line is re-shown."""
    event = await event_row(settings)
    async with httpx.AsyncClient(base_url=live_url) as http:
        await http.get(f"/e/{SLUG}/captions", params={"key": event.captions_token})
        page = (await http.get(f"/e/{SLUG}/captions")).text
        csrf = csrf_of(page)
        form = {"csrf_token": csrf, "key": "form-1", "name": "Kari", "text": "Uten skript"}
        first = await http.post(f"/e/{SLUG}/captions", data=form)
        again = await http.post(f"/e/{SLUG}/captions", data=form)
        blank = await http.post(f"/e/{SLUG}/captions", data=form | {"key": "f2", "text": " "})
    assert first.status_code == again.status_code == 303
    assert blank.status_code == 422 and "ds-error-summary" in blank.text
    assert await stored_lines(settings) == ["Uten skript"]
