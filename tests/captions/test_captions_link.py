"""The captioner link over a real uvicorn server: the organiser replaces it (asked first),
the old link and its open connections end; a captioner rehearses on an unpublished event
that viewers still cannot see; a new interpreter key, asked first, ends the old one."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from starlette.applications import Starlette
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from live.db import create_engine, sessionmaker
from live.models import Event
from live.settings import Settings
from tests.captions.test_captions_socket import (
    SLUG,
    captioner_cookie,
    event_row,
    socket,
    stored_lines,
)
from tests.support.admin import csrf_of
from tests.support.app import ADMIN, make_settings
from tests.support.liveserver import serve_app
from tests.support.ws_client import Client

SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The socket path runs on SQLite (the key is one column on either database)."""
    return sqlite_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, default_locale="en", tick_seconds=0.05)


@pytest.fixture
async def draft_url(demo_app: Starlette, settings: Settings) -> AsyncIterator[str]:
    """The demo served with its captions event not published (yet)."""
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session, session.begin():
        await session.execute(update(Event).where(Event.slug == SLUG).values(published=False))
    await engine.dispose()
    async with serve_app(demo_app) as url:
        yield url


async def close_code(client: Client) -> int:
    """Read until the server closes the socket; its close code."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await client.read()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def organiser_post(http: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    """POST an organiser's form on the stream page (with its CSRF token)."""
    page = await http.get(f"/admin/events/{SLUG}/stream", headers=ADMIN)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return await http.post(path, headers=ADMIN, data={"csrf_token": found.group(1), **fields})


async def test_new_captioner_link_asks_first_then_ends_the_old_one(
    live_url: str, settings: Settings
) -> None:
    """Replacing the captioner link asks first and changes nothing until confirmed; then the
    old link is 401, its browser's page says it was replaced, its open socket is closed
    (4401), the lines sent stay, and the new link works."""
    old = (await event_row(settings)).captions_token
    cookie = await captioner_cookie(live_url, old)
    path = f"/admin/events/{SLUG}/captions-key"
    async with socket(live_url, cookie) as captioner, httpx.AsyncClient(base_url=live_url) as http:
        assert (await captioner.call("captions.line", text="Før", key="k1"))["type"] == "ok"
        asked = await organiser_post(http, path)
        assert asked.status_code == 303
        assert asked.headers["location"] == f"/confirm/captions.key{path}"
        question = await http.get(asked.headers["location"], headers=ADMIN)
        assert "Make a new captioner link?" in question.text
        assert f'href="/admin/events/{SLUG}/stream' in question.text  # "no" goes back
        assert (await event_row(settings)).captions_token == old
        done = await organiser_post(http, path, confirm="yes")
        assert done.status_code == 303
        assert done.headers["location"] == f"/admin/events/{SLUG}/stream"
        assert await close_code(captioner) == 4401
        flash = await http.get(f"/admin/events/{SLUG}/stream", headers=ADMIN)
        assert "A new captioner link was made." in flash.text
    new = (await event_row(settings)).captions_token
    assert new != old and new in flash.text
    assert await stored_lines(settings) == ["Før"]
    async with httpx.AsyncClient(base_url=live_url, headers={"Accept": "application/json"},
                                 cookies={"salen_session": cookie.partition("=")[2]}) as http:
        stale = await http.get(f"/e/{SLUG}/captions")
        assert stale.status_code == 401 and stale.json()["code"] == "captions.link_replaced"
        again = await http.get(f"/e/{SLUG}/captions", params={"key": old})
        assert again.status_code == 401 and again.json()["code"] == "captions.bad_key"
    async with socket(live_url, cookie) as former:  # a viewer now: may not caption
        refused = await former.call("captions.line", text="Etter", key="k2")
        assert refused["type"] == "error" and refused["code"] == "forbidden"
    fresh = await captioner_cookie(live_url, new)
    async with httpx.AsyncClient(base_url=live_url,
                                 cookies={"salen_session": fresh.partition("=")[2]}) as http:
        page = await http.get(f"/e/{SLUG}/captions")
        assert page.status_code == 200
        sent = await http.post(f"/e/{SLUG}/captions", data={
            "csrf_token": csrf_of(page.text), "text": "Etter", "key": "k3", "name": "Ola"})
        assert sent.status_code == 303
    assert await stored_lines(settings) == ["Før", "Etter"]


async def test_organiser_captioning_is_not_ended_by_a_new_link(
    live_url: str, settings: Settings
) -> None:
    """An organiser captions by role, not by the link: a new link leaves their socket open."""
    url = live_url.replace("http://", "ws://") + f"/ws/events/{SLUG}"
    async with connect(url, additional_headers=ADMIN) as ws, \
            httpx.AsyncClient(base_url=live_url) as http:
        organiser = Client(ws)
        assert (await organiser.read())["type"] == "snapshot"
        await organiser_post(http, f"/admin/events/{SLUG}/captions-key", confirm="yes")
        assert (await event_row(settings)).captions_token
        reply = await organiser.call("captions.line", text="Arrangøren skriver", key="o1")
        assert reply["type"] == "ok"


async def test_captioner_rehearses_on_an_unpublished_event(
    draft_url: str, settings: Settings
) -> None:
    """Before the event is published the captioner's page and socket work with the valid
    key (the page says viewers see nothing yet, the socket only captions), while viewers'
    sockets and pages, and a wrong key, still find no such event."""
    key = (await event_row(settings)).captions_token
    cookie = await captioner_cookie(draft_url, key)
    async with httpx.AsyncClient(base_url=draft_url, headers={"Cookie": cookie}) as http:
        page = await http.get(f"/e/{SLUG}/captions")
    assert page.status_code == 200 and "data-unpublished" in page.text
    async with socket(draft_url, cookie) as captioner:
        typed = await captioner.call("captions.type", text="Prøve", name="Kari")
        assert typed["type"] == "ok"
        line = await captioner.call("captions.line", text="Prøve, en, to", key="r1")
        assert line["type"] == "ok" and line["lines"][0]["text"] == "Prøve, en, to"
        asked = await captioner.call("qa.ask", text="Et spørsmål?")
        assert asked["type"] == "error" and asked["code"] == "forbidden"
    assert await stored_lines(settings) == ["Prøve, en, to"]
    url = draft_url.replace("http://", "ws://") + f"/ws/events/{SLUG}"
    async with connect(url) as ws:
        assert await close_code(Client(ws)) == 4004
    async with httpx.AsyncClient(base_url=draft_url) as http:
        assert (await http.get(f"/e/{SLUG}/live")).status_code == 404
        assert (await http.get(f"/e/{SLUG}/captions", params={"key": "nope"})).status_code == 404


async def test_new_interpreter_key_asks_first_then_ends_the_old_one(live_url: str) -> None:
    """A new interpreter key is made only once confirmed; then the old key is refused (401)
    and the stream page shows the new one."""
    path = f"/admin/events/{SLUG}/interpreter-key"
    async with httpx.AsyncClient(base_url=live_url) as http:
        old = (await http.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()
        asked = await organiser_post(http, path)
        assert asked.headers["location"] == f"/confirm/interpreter.key{path}"
        same = (await http.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()
        assert same["interpreter_key"] == old["interpreter_key"]
        assert (await organiser_post(http, path, confirm="yes")).status_code == 303
        new = (await http.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()
        assert new["interpreter_key"] != old["interpreter_key"]
        assert new["stream_key"] == old["stream_key"]
        refused = await http.post(f"/whip/{SLUG}/interpreter", content="v=0\r\n", headers={
            **SDP, "Authorization": f"Bearer {old['interpreter_key']}"})
        assert refused.status_code == 401 and refused.json()["code"] == "stream.key_wrong"
        page = await http.get(f"/admin/events/{SLUG}/stream", headers=ADMIN)
        assert "A new interpreter key was made." in page.text
        assert f'id="interpreter-key" readonly value="{new["interpreter_key"]}"' in page.text


async def test_api_makes_new_interpreter_and_captioner_keys(live_url: str) -> None:
    """The stream API makes a new interpreter key and a new captioner link for organisers
    (the others unchanged), and refuses anyone else."""
    async with httpx.AsyncClient(base_url=live_url) as http:
        old = (await http.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()
        anonymous = await http.post(f"/api/events/{SLUG}/stream/captions-key")
        assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthorized"
        interpreter = (await http.post(f"/api/events/{SLUG}/stream/interpreter-key",
                                       headers=ADMIN)).json()
        captions = (await http.post(f"/api/events/{SLUG}/stream/captions-key",
                                    headers=ADMIN)).json()
    assert interpreter["interpreter_key"] != old["interpreter_key"]
    assert interpreter["captions_link"] == old["captions_link"]
    assert captions["captions_link"] != old["captions_link"]
    assert captions["interpreter_key"] == interpreter["interpreter_key"]
    assert captions["stream_key"] == old["stream_key"]
