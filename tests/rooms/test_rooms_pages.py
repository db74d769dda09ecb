"""Room pages in headless Chromium over uvicorn: opening, shared input, moderator controls, axe."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select
from starlette.applications import Starlette
from websockets.asyncio.client import connect

from live.app import create_app
from live.db import create_engine, sessionmaker
from live.hub import Entry
from live.hub.memory import MemoryHub
from live.identity import Participant
from live.models import Event, Occurrence, Organisation, Theme
from live.models.registration import Attendance, Registration, Status
from live.realtime.channels import room_channel
from live.rooms.domain import Placement
from live.rooms.feeds import RESYNC
from live.rooms.runtime import RoomsLive
from live.rooms.service import RoomsService, Who
from live.settings import Settings
from tests.support.app import ADMIN_TOKEN, LifespanApp, make_settings
from tests.support.axe import assert_accessible
from tests.support.browser import new_context
from tests.support.liveserver import serve_app

pytestmark = pytest.mark.browser
SLUG = "verksted-regional-utvikling"
GUARD_MS = 30_000
# Keeps what the lobby announced in sessionStorage, which survives the navigation to the room.
REMEMBER_READY = """() => {
  const box = document.querySelector("#rooms-ready");
  new MutationObserver(() => {
    if (!box.hidden) sessionStorage.setItem("ready", box.textContent);
  }).observe(box, {attributes: true, childList: true, subtree: true});
}"""
MODERATOR = Who("moderator", "Moderator", moderator=True)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Chromium tests run on SQLite only."""
    return sqlite_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The test settings with English pages (the msgids), whatever the bokmål catalogue holds."""
    return make_settings(database_url, tmp_path, default_locale="en")


def rooms_app(settings: Settings) -> tuple[Starlette, list[RoomsLive]]:
    """Salen's app, keeping hold of its group-work state (`state["rooms"]`) for the test."""
    base = create_app(settings)
    holder: list[RoomsLive] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with base.router.lifespan_context(base) as state:
            holder.append(state["rooms"])
            yield state

    app = Starlette(routes=base.routes, middleware=base.user_middleware, lifespan=lifespan,
                    exception_handlers=base.exception_handlers)
    return app, holder


@pytest.fixture
async def workshop(settings: Settings, demo_app: Starlette) -> dict[str, Any]:
    """The demo workshop with 12 online registrants (7 + 5 per theme), rooms of 4 planned."""
    engine = create_engine(settings.database_url)
    db = sessionmaker(engine)
    async with db() as session, session.begin():
        event = await session.scalar(select(Event).where(Event.slug == SLUG))
        assert event is not None
        occ = await session.scalar(select(Occurrence).where(Occurrence.event_id == event.id))
        themes = list(await session.scalars(
            select(Theme).where(Theme.event_id == event.id).order_by(Theme.position)))
        org = Organisation(name="Innlandet fylkeskommune", key="innlandet-test", region="Innlandet")
        session.add(org)
        await session.flush()
        regs = [Registration(event_id=event.id, occurrence_id=occ.id,  # type: ignore[union-attr]
                             attendance=Attendance.ONLINE, status=Status.CONFIRMED,
                             name=f"Deltaker {i}", email=f"d{i}@example.no",
                             organisation_id=org.id, theme_id=themes[0 if i < 7 else 1].id)
                for i in range(12)]
        session.add_all(regs)
        await session.flush()
        tokens = [r.token for r in regs]
        event_id, mod_token = event.id, event.moderator_token
    await engine.dispose()
    return {"event_id": event_id, "tokens": tokens, "moderator": mod_token}


@pytest.fixture
async def served(settings: Settings, workshop: dict[str, Any]
                 ) -> AsyncIterator[tuple[str, RoomsLive]]:
    """The app on uvicorn, with group work configured and rooms planned."""
    app, holder = rooms_app(settings)
    async with serve_app(app) as url:
        rooms = holder[0]
        await rooms.service.configure(workshop["event_id"], placement=Placement.THEME,
                                      room_size=4)
        await rooms.service.plan_rooms(workshop["event_id"])
        yield url, rooms


async def participant_page(browser: Browser, url: str, token: str) -> Page:
    context = await new_context(browser)
    page = await context.new_page()
    await page.goto(f"{url}/e/{SLUG}/group-work?r={token}")
    return page


async def test_opening_takes_online_participants_to_their_rooms(
        browser: Browser, served: tuple[str, RoomsLive], workshop: dict[str, Any]) -> None:
    """The moderator opens the group work; each lobby says the room is ready and goes there."""
    url, rooms = served
    lobbies = [await participant_page(browser, url, t) for t in workshop["tokens"][::5]]
    for lobby in lobbies:
        await expect(lobby.locator("[data-rooms-state]")).to_contain_text("has not started yet")
        await lobby.evaluate(REMEMBER_READY)
    moderator = await (await new_context(browser)).new_page()
    await moderator.goto(f"{url}/admin/group-work/{SLUG}/live?token={workshop['moderator']}")
    await moderator.get_by_role("button", name="Open the group work").click()
    for lobby, token in zip(lobbies, workshop["tokens"][::5], strict=True):
        await lobby.wait_for_url("**/rooms/*")
        said = await lobby.evaluate("sessionStorage.getItem('ready')")
        assert said is not None and "Your room is ready" in said
        who = await _participant(rooms, token)
        room = await rooms.service.assignment(workshop["event_id"], who)
        assert room is not None and lobby.url.endswith(f"/e/{SLUG}/rooms/{room.id}")
        await expect(lobby.get_by_role("heading", level=1)).to_have_text(room.name)


async def _participant(rooms: RoomsLive, token: str) -> str:
    async with rooms.db() as session:
        reg = await session.scalar(select(Registration).where(Registration.token == token))
        assert reg is not None
        return f"reg:{reg.id}"


async def open_room_pages(browser: Browser, url: str, rooms: RoomsLive,
                          workshop: dict[str, Any]) -> tuple[list[Page], int]:
    """Two members of the first room on their room page, the group work open."""
    await rooms.service.open(workshop["event_id"], minutes=30)
    first = (await rooms.service.rooms(workshop["event_id"]))[0]
    members = {m.participant for m in first.members}
    tokens = [t for t in workshop["tokens"] if await _participant(rooms, t) in members][:2]
    result = []
    for token in tokens:
        page = await participant_page(browser, url, token)
        await page.wait_for_url("**/rooms/*")
        await expect(page.locator("[data-room-status]")).to_have_text("")
        result.append(page)
    return result, first.id


async def test_two_members_edit_at_once_and_both_edits_survive(
        browser: Browser, served: tuple[str, RoomsLive], workshop: dict[str, Any]) -> None:
    """Two pages add and edit the same item at once, no text is lost; a reconnect catches up."""
    url, rooms = served
    (a, b), room_id = await open_room_pages(browser, url, rooms, workshop)
    label = "New item under Challenges"
    await asyncio.gather(
        a.get_by_label(label).fill("Kollektivtilbud i distriktene"),
        b.get_by_label(label).fill("Rekruttering av fagfolk"))
    await asyncio.gather(a.locator("form[data-add-note='challenges'] button").click(),
                         b.locator("form[data-add-note='challenges'] button").click())
    for page in (a, b):
        notes = page.locator("[data-notes='challenges']")
        await expect(notes).to_contain_text("Kollektivtilbud i distriktene")
        await expect(notes).to_contain_text("Rekruttering av fagfolk")
    item = "[data-notes='challenges'] li:has-text('Rekruttering av fagfolk')"
    for page in (a, b):
        await page.locator(item).get_by_role("button", name="Edit this item").click()
    await a.locator(f"{item} textarea").fill("Rekruttering av sykepleiere")
    await b.locator(f"{item} textarea").fill("Rekruttering av ingeniører")
    await asyncio.gather(a.locator(f"{item} button[type=submit]").click(),
                         b.locator(f"{item} button[type=submit]").click())
    for page in (a, b):
        notes = page.locator("[data-notes='challenges']")
        await expect(notes).to_contain_text("Rekruttering av sykepleiere")
        await expect(notes).to_contain_text("Rekruttering av ingeniører")
        await expect(notes).to_contain_text("Kollektivtilbud i distriktene")
    # While a's socket is down, b's item can only reach a through the snapshot on rejoin.
    await a.evaluate("() => { const s = salenRooms.socket(); s.delay = 2000; s.ws.close(); }")
    await expect(a.locator("[data-room-status]")).to_contain_text("reconnecting")
    await b.get_by_label(label).fill("Bredbånd")
    await b.locator("form[data-add-note='challenges'] button").click()
    await expect(a.locator("[data-notes='challenges']")).to_contain_text("Bredbånd")
    await expect(a.locator("[data-room-status]")).to_have_text("")
    view = await rooms.service.rooms(workshop["event_id"])
    texts = {n.text for r in view if r.id == room_id for n in r.notes}
    assert {"Rekruttering av sykepleiere", "Rekruttering av ingeniører",
            "Kollektivtilbud i distriktene"} <= texts


async def test_a_room_page_reads_its_room_again_on_resync(
        browser: Browser, served: tuple[str, RoomsLive], workshop: dict[str, Any]) -> None:
    """An item whose notice never reached the page (added through another hub, as by a
    process while Redis was away) appears once the page is told `rooms.resync`."""
    url, rooms = served
    (member, _), room_id = await open_room_pages(browser, url, rooms, workshop)
    elsewhere = RoomsService(rooms.db, MemoryHub())  # its notices reach no page here
    await elsewhere.add_note(workshop["event_id"], MODERATOR, room_id, "challenges", "Ferjer")
    notes = member.locator("[data-notes='challenges']")
    await rooms.hub.publish(room_channel(room_id), Entry(0, 0, RESYNC.encode()))
    await expect(notes).to_contain_text("Ferjer")


async def test_timer_broadcast_and_return_reach_the_room_pages(
        browser: Browser, served: tuple[str, RoomsLive], workshop: dict[str, Any]) -> None:
    """The moderator's extension, message and return-to-plenary reach every member's page."""
    url, rooms = served
    pages_, _ = await open_room_pages(browser, url, rooms, workshop)
    moderator = await (await new_context(browser)).new_page()
    await moderator.goto(f"{url}/admin/group-work/{SLUG}/live?token={workshop['moderator']}")
    before = [await p.locator("[data-countdown]").text_content() for p in pages_]
    await moderator.get_by_role("button", name="Add 10 minutes").click()
    for page, shown in zip(pages_, before, strict=True):
        assert shown is not None and shown.startswith(("29:", "30:"))
        await expect(page.locator("[data-countdown]")).to_have_text(
            re.compile(r"^(39|40):\d\d$"))
    await moderator.get_by_label("Message to every room").fill("Ti minutter igjen")
    await moderator.get_by_role("button", name="Send to all rooms").click()
    for page in pages_:
        await expect(page.locator("[data-broadcast]")).to_have_text("Ti minutter igjen")
    await moderator.get_by_role("button", name="Back to the plenary").click()
    dialog = moderator.get_by_role("dialog", name="Bring everyone back to the plenary?")
    await dialog.get_by_role("button", name="Yes, back to the plenary").click()
    for page in pages_:
        await page.wait_for_url(f"**/e/{SLUG}")


async def test_room_pages_have_no_serious_axe_findings(
        browser: Browser, served: tuple[str, RoomsLive], workshop: dict[str, Any]) -> None:
    """Lobby, room, moderator overview, set-up and report pass axe-core (serious/critical)."""
    url, rooms = served
    (member, _), room_id = await open_room_pages(browser, url, rooms, workshop)
    await rooms.service.add_note(workshop["event_id"], MODERATOR, room_id, "proposals",
                                 "Felles kompetanseplan")
    await member.reload()
    await expect(member.locator("[data-notes='proposals']")).to_contain_text("Felles")
    await assert_accessible(member)
    staff = await (await new_context(browser)).new_page()
    for path in ("live", "", "report"):
        await staff.goto(f"{url}/admin/group-work/{SLUG}{'/' + path if path else ''}"
                         f"?token={ADMIN_TOKEN}")
        await expect(staff.get_by_role("heading", level=1)).to_be_visible()
        await assert_accessible(staff)
    await rooms.service.return_to_plenary(workshop["event_id"])
    fresh = await participant_page(browser, url, workshop["tokens"][0])
    await expect(fresh.locator("[data-rooms-state]")).to_contain_text("plenary")
    await assert_accessible(fresh)


async def test_report_downloads_and_access(
        settings: Settings, workshop: dict[str, Any]) -> None:
    """Markdown and CSV per theme for organisers (pages in bokmål); strangers get 403."""
    app, holder = rooms_app(settings)
    async with app.router.lifespan_context(app) as state:
        rooms = holder[0]
        await rooms.service.configure(workshop["event_id"], placement=Placement.THEME,
                                      room_size=4)
        planned = await rooms.service.plan_rooms(workshop["event_id"])
        await rooms.service.open(workshop["event_id"])
        for room in planned:
            await rooms.service.add_note(workshop["event_id"], MODERATOR, room.id,
                                         "challenges", f"Innspill fra {room.name}")
        transport = httpx.ASGITransport(app=LifespanApp(app, dict(state or {})))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            md = await http.get(f"/admin/group-work/{SLUG}/report/baerekraft.md", headers=admin)
            csv_ = await http.get(f"/admin/group-work/{SLUG}/report/kompetanse.csv",
                                  headers=admin)
            stranger = await http.get(f"/e/{SLUG}/rooms/{planned[0].id}",
                                      headers={"Accept": "application/json"})
            anonymous = await http.get(f"/admin/group-work/{SLUG}/report",
                                       headers={"Accept": "application/json"})
            bokmal = await http.get(f"/admin/group-work/{SLUG}/report?lang=nb", headers=admin)
    assert md.status_code == 200 and csv_.status_code == 200
    for room in planned:
        body = md.text if room.theme_id == planned[0].theme_id else csv_.text
        assert f"Innspill fra {room.name}" in body
    assert stranger.status_code == 403 and stranger.json()["code"] == "rooms.not_member"
    assert anonymous.status_code == 401
    assert "Rapport fra gruppearbeidet" in bokmal.text and "Utfordringer" in bokmal.text


async def test_video_signalling_is_for_members_only(
        settings: Settings, workshop: dict[str, Any]) -> None:
    """A member's SDP offer gets a 201 answer; a stranger's is refused with 403."""
    from aiortc import RTCConfiguration, RTCPeerConnection

    from stream.aiortc_fence import limit_host_candidates
    from stream.client import SyntheticVideo

    app, holder = rooms_app(settings)
    async with app.router.lifespan_context(app) as state:
        rooms = holder[0]
        await rooms.service.configure(workshop["event_id"], placement=Placement.THEME,
                                      room_size=4)
        room = (await rooms.service.plan_rooms(workshop["event_id"]))[0]
        await rooms.service.open(workshop["event_id"])
        member = (await rooms.service.room_view(workshop["event_id"], MODERATOR,
                                                room.id)).members[0]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver(SyntheticVideo(), direction="sendonly")
        limit_host_candidates(pc, ["127.0.0.1"])
        await pc.setLocalDescription(await pc.createOffer())
        transport = httpx.ASGITransport(app=LifespanApp(app, dict(state or {})))
        path = f"/e/{SLUG}/rooms/{room.id}/video"
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            tokens = {who: rooms.identities.token(Participant(who)) for who in
                      (member.participant, "stranger")}
            headers = {"Content-Type": "application/sdp", "Accept": "application/json"}
            ok = await http.post(f"{path}/publish", content=pc.localDescription.sdp, headers={
                **headers, "X-Salen-Participant": tokens[member.participant]})
            refused = await http.post(f"{path}/publish", content=pc.localDescription.sdp, headers={
                **headers, "X-Salen-Participant": tokens["stranger"]})
            listed = await http.get(path, headers={
                "X-Salen-Participant": tokens[member.participant]})
        await pc.close()
    assert ok.status_code == 201 and ok.text.startswith("v=0")
    assert refused.status_code == 403 and refused.json()["code"] == "rooms.not_member"
    assert listed.json()["publishers"] == [member.participant]
    assert listed.json()["v"] >= 1  # the version of the announcement it matches


async def test_two_browsers_see_each_other_in_the_room_call(
        browser: Browser, served: tuple[str, RoomsLive], workshop: dict[str, Any]) -> None:
    """Two members start their (fake) cameras; each page plays the other's forwarded video."""
    url, rooms = served
    members, room_id = await open_room_pages(browser, url, rooms, workshop)
    ids = [await p.locator("[data-rooms-page]").get_attribute("data-participant")
           for p in members]
    for page in members:
        await page.get_by_role("button", name="Start camera and join the call").click()
    for page, other in ((members[0], ids[1]), (members[1], ids[0])):
        selector = f"[data-video='{other}'] video"
        # Guards against a hang, not a performance bound: ICE and DTLS are slow on a busy machine.
        await expect(page.locator(selector)).to_have_count(1, timeout=GUARD_MS)
        # Decoded pictures have a size: the forwarded H.264 really plays.
        await page.wait_for_function("s => document.querySelector(s).videoWidth > 0", arg=selector,
                                     timeout=GUARD_MS)
    assert sorted(rooms.video.publishers(room_id)) == sorted(ids)  # type: ignore[type-var]


async def test_a_busy_camera_is_explained_in_the_pages_language(
        browser: Browser, served: tuple[str, RoomsLive], workshop: dict[str, Any]) -> None:
    """A camera another program holds: the room says so in the page's words, not the
    browser's own message ("Could not start video source")."""
    url, rooms = served
    (member, _), _ = await open_room_pages(browser, url, rooms, workshop)
    await member.evaluate(
        "() => { navigator.mediaDevices.getUserMedia = () => Promise.reject("
        "new DOMException('Could not start video source', 'NotReadableError')); }")
    await member.get_by_role("button", name="Start camera and join the call").click()
    problem = member.locator("[data-room-status]")
    await expect(problem).to_have_text("The camera or microphone is in use by another program.")


async def test_a_refusal_is_shown_in_the_pages_language(
        browser: Browser, served: tuple[str, RoomsLive], workshop: dict[str, Any]) -> None:
    """A note of only spaces is refused by the server; a bokmål page says so in bokmål
    ("Skriv noe først."), not in the server's English ("Write something first.")."""
    url, rooms = served
    (member, _), _ = await open_room_pages(browser, url, rooms, workshop)
    await member.goto(member.url + ("&" if "?" in member.url else "?") + "lang=nb")
    await member.get_by_label("Nytt punkt under Utfordringer").fill("   ")
    await member.get_by_role("button", name="Legg til").first.click()
    await expect(member.locator("[data-room-status]")).to_have_text("Skriv noe først.")


async def test_organiser_form_configures_plans_moves_and_publishes(
        settings: Settings, workshop: dict[str, Any]) -> None:
    """The set-up form saves settings, plans rooms (asking first), moves someone, publishes
    the report and withdraws it (asking first)."""
    app, holder = rooms_app(settings)
    async with app.router.lifespan_context(app) as state:
        transport = httpx.ASGITransport(app=LifespanApp(app, dict(state or {})))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            page = f"/admin/group-work/{SLUG}?token={ADMIN_TOKEN}"
            form = await http.get(page)
            match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert form.status_code == 200 and match is not None
            csrf = match.group(1)

            async def post(**fields: str) -> httpx.Response:
                return await http.post(page, data={"csrf_token": csrf, **fields})

            saved = await post(action="save", placement="balanced", room_size="3",
                               sections="Utfordringer\nForslag\n", venue_rooms="", item_id="")
            assert saved.status_code == 303
            asked = await post(action="plan")
            assert asked.headers["location"] == (
                f"/confirm/rooms.plan/admin/group-work/{SLUG}?token={ADMIN_TOKEN}")
            assert await holder[0].service.rooms(workshop["event_id"]) == []
            assert (await post(action="plan", confirm="yes")).status_code == 303
            rooms = holder[0]
            planned = await rooms.service.rooms(workshop["event_id"])
            assert [len(r.members) for r in planned] == [3, 3, 3, 3]
            assert [s.key for s in planned[0].sections] == ["utfordringer", "forslag"]
            mover = planned[0].members[0].participant
            moved = await post(action="move", participant=mover, room=str(planned[3].id))
            assert moved.status_code == 303
            placed = await rooms.service.assignment(workshop["event_id"], mover)
            assert placed is not None and placed.id == planned[3].id
            hidden = await http.get(f"/e/{SLUG}/group-work/report")
            assert (await post(action="publish")).status_code == 303
            shown = await http.get(f"/e/{SLUG}/group-work/report")
            withdraw = await post(action="unpublish")
            still = await http.get(f"/e/{SLUG}/group-work/report")
            assert withdraw.headers["location"].startswith("/confirm/rooms.withdraw_report/")
            assert (await post(action="unpublish", confirm="yes")).status_code == 303
            gone = await http.get(f"/e/{SLUG}/group-work/report")
            bad = await post(action="save", placement="theme", room_size="1", sections="x")
            forged = await http.post(page, data={"csrf_token": "forged", "action": "plan"})
    assert hidden.status_code == 404 and shown.status_code == 200
    assert still.status_code == 200 and gone.status_code == 404
    assert bad.status_code == 422 and forged.status_code == 403


async def test_return_and_close_without_javascript_ask_first(
        settings: Settings, workshop: dict[str, Any]) -> None:
    """Returning to the plenary and closing a room, posted without `confirm` from the live
    page, lead to the confirm page (the moderator's token kept) and change nothing;
    confirmed, they happen."""
    app, holder = rooms_app(settings)
    async with app.router.lifespan_context(app) as state:
        rooms, event_id = holder[0], workshop["event_id"]
        await rooms.service.configure(event_id, placement=Placement.THEME, room_size=4)
        planned = await rooms.service.plan_rooms(event_id)
        await rooms.service.open(event_id, minutes=15)
        transport = httpx.ASGITransport(app=LifespanApp(app, dict(state or {})))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            query = f"?token={workshop['moderator']}"
            live = await http.get(f"/admin/group-work/{SLUG}/live{query}")
            match = re.search(r'name="csrf_token" value="([^"]+)"', live.text)
            assert live.status_code == 200 and match is not None
            csrf = {"csrf_token": match.group(1)}
            close = f"/admin/group-work/{SLUG}/rooms/{planned[0].id}/close"
            assert f'action="{close}{query}"' in live.text
            asked = await http.post(f"{close}{query}", data=csrf)
            assert asked.headers["location"] == f"/confirm/rooms.close{close}{query}"
            page = await http.get(asked.headers["location"])
            assert page.status_code == 200 and f'action="{close}{query}"' in page.text
            back = await http.post(f"/admin/group-work/{SLUG}/return{query}", data=csrf)
            assert back.headers["location"].startswith("/confirm/rooms.return/")
            assert not any(r.closed for r in await rooms.service.rooms(event_id))
            view = await rooms.service.session_view(event_id)
            assert view is not None and view.state == "open"
            closed = await http.post(f"{close}{query}", data=csrf | {"confirm": "yes"})
            assert closed.headers["location"] == f"/admin/group-work/{SLUG}/live{query}"
            assert {r.id: r.closed for r in await rooms.service.rooms(event_id)}[planned[0].id]
            await http.post(f"/admin/group-work/{SLUG}/return{query}",
                            data=csrf | {"confirm": "yes"})
            view = await rooms.service.session_view(event_id)
            assert view is not None and view.state == "returned"


async def test_live_socket_carries_room_messages(
        settings: Settings, workshop: dict[str, Any]) -> None:
    """On /ws/events/{slug}: snapshot, then rooms.state; room messages get replies and pushes."""
    app, holder = rooms_app(settings)
    async with serve_app(app) as url:
        rooms = holder[0]
        await rooms.service.configure(workshop["event_id"], placement=Placement.THEME,
                                      room_size=4)
        planned = await rooms.service.plan_rooms(workshop["event_id"])
        await rooms.service.open(workshop["event_id"], minutes=15)
        view = await rooms.service.room_view(workshop["event_id"], MODERATOR, planned[0].id)
        token = rooms.identities.token(Participant(view.members[0].participant, "Deltaker"))
        base = url.replace("http://", "ws://")
        async with connect(f"{base}/ws/events/{SLUG}?p={token}") as ws:
            pushes: list[dict[str, Any]] = []

            async def call(message: dict[str, Any]) -> dict[str, Any]:
                await ws.send(json.dumps(message))
                while True:
                    got = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if got["type"] in ("ok", "error") and got.get("id") == message["id"]:
                        return got
                    pushes.append(got)

            assert json.loads(await ws.recv())["type"] == "snapshot"
            state = json.loads(await ws.recv())
            assert state["type"] == "rooms.state" and state["state"] == "open"
            other = next(r for r in planned if r.theme_id != planned[0].theme_id)
            wrong = await call({"type": "room.join", "id": 1, "room": other.id})
            assert wrong["code"] == "rooms.wrong_theme"
            mine = await call({"type": "room.join", "id": 2})
            assert mine["type"] == "ok" and mine["room"]["id"] == planned[0].id
            added = await call({"type": "room.note.add", "id": 3, "room": planned[0].id,
                                "section": "challenges", "text": "Over the live socket"})
            assert added["note"]["text"] == "Over the live socket"
            refused = await call({"type": "rooms.return", "id": 4})
            assert refused["code"] == "forbidden"
            ping = await call({"type": "ping", "id": 5})
            assert ping == {"type": "ok", "id": 5}
            while not any(p["type"] == "room.update" for p in pushes):
                pushes.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            update = next(p for p in pushes if p["type"] == "room.update")
            assert update["room"] == planned[0].id
            assert update["notes"][0]["text"] == "Over the live socket"


async def test_event_and_personal_pages_lead_to_the_group_work(
        settings: Settings, workshop: dict[str, Any]) -> None:
    """The personal page names the room; the event page shows open rooms and the report."""
    app, holder = rooms_app(settings)
    async with app.router.lifespan_context(app) as state:
        transport = httpx.ASGITransport(app=LifespanApp(app, dict(state or {})))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            rooms, event_id = holder[0], workshop["event_id"]
            await rooms.service.configure(event_id, placement=Placement.THEME, room_size=4)
            await rooms.service.plan_rooms(event_id)
            token = workshop["tokens"][0]
            personal = await http.get(f"/r/{token}")
            before = await http.get(f"/e/{SLUG}")
            await rooms.service.open(event_id, minutes=30)
            during = await http.get(f"/e/{SLUG}")
            await rooms.service.return_to_plenary(event_id)
            await rooms.service.set_published(event_id, True)
            after = await http.get(f"/e/{SLUG}")
            lobby = await http.get(f"/e/{SLUG}/group-work?r={token}")
            placed = await rooms.service.assignment(event_id, await _participant(rooms, token))
    assert placed is not None
    assert "Your group room" in personal.text and placed.name in personal.text
    assert f'href="/e/{SLUG}/group-work?r={token}"' in personal.text
    assert "The group work is on." not in before.text
    assert "The group work is on." in during.text and f'href="/e/{SLUG}/group-work"' in during.text
    assert "The group work is on." not in after.text
    assert f'href="/e/{SLUG}/group-work/report"' in after.text
    assert f'href="/e/{SLUG}/group-work/report"' not in during.text
    assert lobby.status_code == 200 and placed.name in lobby.text
