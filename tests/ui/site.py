"""Every page of Salen, once per audience, for the page check and `scripts/screenshots`.

`seed` adds what the demo lacks for a full tour (online registrants of the workshop, so
group work can be planned and opened); `serve_site` runs the app on uvicorn with the
group work planned (a page's `step` opens it) and yields the `Site`; `pages(site)` is the list both tools walk. Who a
page is for decides how it is opened: public and participant pages without login (the
participant's personal token is in the address), moderator pages with the event's
moderator link, organiser pages after logging in as the demo organiser (and with the
admin bearer token, which pages other than the dashboard accept).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from playwright.async_api import Page
from sqlalchemy import select
from starlette.applications import Starlette

from live.app import create_app
from live.db import create_engine, sessionmaker
from live.demo import DEMO_ORGANISER
from live.identity import Participant
from live.models import Event, Occurrence, Organisation, Recording, Theme
from live.models.registration import Attendance, Registration, Status
from live.qa.messages import Approve, Ask, Enqueue, Now
from live.qa.service import Actor, QaService
from live.rooms.domain import Placement
from live.settings import Settings
from tests.support.app import ADMIN_TOKEN
from tests.support.liveserver import serve_app

STREAMED = "planstrategi-4-0"
WORKSHOP = "verksted-regional-utvikling"
FINISHED = "regional-utvikling-samling-1"  # the demo's finished event, its report published
AUDIENCES = ("public", "participant", "moderator", "organiser")
# Real input, so the pages are checked with it: letters beyond ASCII, a 40-character word
# (no line break inside it unless the page allows one), right-to-left text.
LONG_WORD = "Forvaltningsreformsutredningsprosjektene"
REAL_NAMES = (("Åse Ærlig Øvergård", "aase@example.no"),
              (f"{LONG_WORD} Hansen", f"{LONG_WORD.lower()}@example.no"),
              ("فاطمة الزهراء", "fatima@example.no"))
QUESTIONS = (  # (text, name): on air, queued, approved, pending
    ("Hvordan påvirker planstrategien små kommuner i Nord-Norge?", "Åse Ærlig Øvergård"),
    (f"Hva betyr {LONG_WORD} for oss?", "Bjørn"),
    ("ما هو دور البلديات الصغيرة في التخطيط؟", "فاطمة الزهراء"),
    ("Kommer opptaket på nett-tv?", ""),
)


@dataclasses.dataclass(frozen=True)
class Site:
    """The running app's address and the secrets and ids the page list needs."""

    url: str
    registrant: str          # a workshop registrant's personal token
    registration_id: int
    workshop_id: int
    moderator: str           # the streamed event's moderator link token
    display: str             # the streamed event's display key
    stream_key: str
    recording_id: int
    room_id: int = 0
    captions: str = ""       # the streamed event's captioner link key
    streamed_id: int = 0
    # Steps a page needs first, by name (run once): the room page needs the group work open,
    # while the lobby is visited before, when it does not yet move on to the room by itself.
    steps: dict[str, Callable[[], Awaitable[None]]] = dataclasses.field(default_factory=dict)
    done: set[str] = dataclasses.field(default_factory=set)

    async def prepare(self, step: str) -> None:
        """Run the named step unless it has run."""
        if step and step not in self.done:
            await self.steps[step]()
            self.done.add(step)


@dataclasses.dataclass(frozen=True)
class PageSpec:
    """One page to visit: a short name (file names), its path and who opens it."""

    name: str
    path: str
    audience: str
    status: int = 200
    step: str = ""  # a `Site.steps` name to run before the first visit

    def address(self, site: Site) -> str:
        return site.url + self.path


async def seed(settings: Settings) -> dict[str, Any]:
    """Twelve online workshop registrants; the ids and secrets of the demo's parts."""
    engine = create_engine(settings.database_url)
    db = sessionmaker(engine)
    async with db() as session, session.begin():
        workshop = await session.scalar(select(Event).where(Event.slug == WORKSHOP))
        streamed = await session.scalar(select(Event).where(Event.slug == STREAMED))
        assert workshop is not None and streamed is not None
        occ = await session.scalar(select(Occurrence).where(Occurrence.event_id == workshop.id))
        themes = list(await session.scalars(
            select(Theme).where(Theme.event_id == workshop.id).order_by(Theme.position)))
        org = Organisation(name="Innlandet fylkeskommune", key="innlandet-ui", region="Innlandet")
        session.add(org)
        await session.flush()
        assert occ is not None
        regs = [Registration(event_id=workshop.id, occurrence_id=occ.id,
                             attendance=Attendance.ONLINE, status=Status.CONFIRMED,
                             name=f"Deltaker {i}", email=f"d{i}@example.no",
                             organisation_id=org.id, theme_id=themes[i % len(themes)].id)
                for i in range(12)]
        session.add_all(regs)
        session.add_all(Registration(
            event_id=workshop.id, occurrence_id=occ.id, attendance=Attendance.IN_PERSON,
            status=Status.CONFIRMED, name=name, email=email, organisation_id=org.id,
            theme_id=themes[0].id) for name, email in REAL_NAMES)
        await session.flush()
        recording = await session.scalar(select(Recording).order_by(Recording.id))
        assert recording is not None
        found = {
            "registrant": regs[0].token, "registration_id": regs[0].id,
            "workshop_id": workshop.id, "moderator": streamed.moderator_token,
            "display": streamed.display_token, "stream_key": streamed.stream_key,
            "captions": streamed.captions_token,
            "recording_id": recording.id, "streamed_id": streamed.id,
        }
    await engine.dispose()
    return found


@contextlib.asynccontextmanager
async def serve_site(settings: Settings) -> AsyncIterator[Site]:
    """The app (demo loaded, `seed` applied) on uvicorn, with the group work planned."""
    found = await seed(settings)
    base = create_app(settings)
    states: list[dict[str, Any]] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with base.router.lifespan_context(base) as state:
            states.append(dict(state or {}))
            yield state

    app = Starlette(routes=base.routes, middleware=base.user_middleware, lifespan=lifespan,
                    exception_handlers=base.exception_handlers)
    async with serve_app(app) as url:
        rooms = states[0]["rooms"].service
        await rooms.configure(found["workshop_id"], placement=Placement.THEME, room_size=4)
        await rooms.plan_rooms(found["workshop_id"])
        planned = await rooms.rooms(found["workshop_id"])

        await ask_questions(states[0]["qa"], found["streamed_id"])

        async def open_group_work() -> None:
            await rooms.open(found["workshop_id"], minutes=30)

        yield Site(url=url, room_id=planned[0].id, steps={"open": open_group_work}, **found)


async def ask_questions(qa: QaService, event_id: int) -> None:
    """`QUESTIONS` asked by viewers; the first on air, the second queued, the last pending."""
    await qa.ensure(event_id)
    moderator = Actor(Participant("ui-moderator"), moderator=True, label="Kari Nordmann")
    asked = [await qa.ask(event_id, Actor(Participant(f"ui-viewer-{i}")),
                          Ask(id=0, text=text, name=name))
             for i, (text, name) in enumerate(QUESTIONS)]
    for q in asked[:3]:
        await qa.moderate(event_id, moderator, Approve(id=0, question=q.id))
    await qa.panel(event_id, moderator, Enqueue(id=0, question=asked[0].id))
    await qa.panel(event_id, moderator, Enqueue(id=0, question=asked[1].id))
    await qa.panel(event_id, moderator, Now(id=0, question=asked[0].id))


def pages(site: Site) -> list[PageSpec]:
    """Every page, in the order a visitor, a participant, a moderator, an organiser meet them."""
    s, w, rec = STREAMED, WORKSHOP, site.recording_id
    public = [
        PageSpec("front", "/", "public"),
        PageSpec("event-streamed", f"/e/{s}", "public"),
        PageSpec("event-workshop", f"/e/{w}", "public"),
        PageSpec("event-council", "/e/fylkestinget-internasjonal-plan", "public"),
        PageSpec("register", f"/e/{s}/register", "public"),
        PageSpec("live", f"/e/{s}/live", "public"),
        PageSpec("archive", "/archive", "public"),
        PageSpec("archive-search", "/archive?q=plan", "public"),
        PageSpec("recording", f"/recordings/{rec}", "public"),
        PageSpec("login", "/admin/login", "public"),
        PageSpec("api-docs", "/api/docs", "public"),
        PageSpec("poster", f"/e/{s}/poster", "public"),
        PageSpec("group-work-report", f"/e/{FINISHED}/group-work/report", "public"),
        PageSpec("not-found", "/e/no-such-event", "public", status=404),
    ]
    participant = [
        PageSpec("personal", f"/r/{site.registrant}", "participant"),
        PageSpec("confirm-cancel",
                 f"/confirm/registration.cancel/r/{site.registrant}/cancel", "participant"),
        PageSpec("lobby", f"/e/{w}/group-work?r={site.registrant}", "participant"),
        PageSpec("room", f"/e/{w}/rooms/{site.room_id}?r={site.registrant}", "participant",
                 step="open"),
    ]
    mod = f"token={site.moderator}"
    moderator = [
        PageSpec("moderate", f"/e/{s}/moderate?{mod}", "moderator"),
        PageSpec("display", f"/e/{s}/display?key={site.display}", "moderator"),
        PageSpec("publish", f"/e/{s}/publish?key={site.stream_key}", "moderator"),
        PageSpec("captioner", f"/e/{s}/captions?key={site.captions}", "moderator"),
    ]
    admin = "/admin/events/"
    organiser = [
        PageSpec("dashboard", "/admin", "organiser"),
        PageSpec("event-new", f"{admin}new", "organiser"),
        PageSpec("event-edit", f"{admin}{w}", "organiser"),
        PageSpec("event-yaml", f"{admin}{w}/yaml", "organiser"),
        PageSpec("occurrence-new", f"{admin}{w}/occurrences/new", "organiser"),
        PageSpec("speaker-new", f"{admin}{w}/speakers/new", "organiser"),
        PageSpec("theme-new", f"{admin}{w}/themes/new", "organiser"),
        PageSpec("quota-new", f"{admin}{w}/quotas/new", "organiser"),
        PageSpec("block-new", f"{admin}{w}/blocks/new", "organiser"),
        PageSpec("registrations", f"{admin}{w}/registrations", "organiser"),
        PageSpec("registration-edit",
                 f"{admin}{w}/registrations/{site.registration_id}/edit", "organiser"),
        PageSpec("checkin", f"{admin}{w}/checkin", "organiser"),
        PageSpec("organisations", "/admin/organisations", "organiser"),
        PageSpec("qa-settings", f"{admin}{s}/qa", "organiser"),
        PageSpec("stream", f"{admin}{s}/stream", "organiser"),
        PageSpec("confirm-stream-key", f"/confirm/stream.key{admin}{s}/stream", "organiser"),
        PageSpec("confirm-captions-key",
                 f"/confirm/captions.key{admin}{s}/captions-key", "organiser"),
        PageSpec("recordings", f"{admin}{s}/recordings", "organiser"),
        PageSpec("recording-admin", f"/admin/recordings/{rec}", "organiser"),
        PageSpec("captions-editor", f"/admin/recordings/{rec}/captions/nb-auto/edit", "organiser"),
        PageSpec("polls", f"{admin}{w}/polls", "organiser"),
        PageSpec("innspill", f"{admin}{w}/innspill", "organiser"),
        PageSpec("rooms-setup", f"/admin/group-work/{w}", "organiser"),
        PageSpec("rooms-live", f"/admin/group-work/{w}/live", "organiser"),
        PageSpec("rooms-report", f"/admin/group-work/{w}/report", "organiser"),
        PageSpec("outbox", "/admin/outbox", "organiser"),
    ]
    return public + participant + moderator + organiser


async def sign_in(page: Page, site: Site, audience: str) -> None:
    """Organisers log in through the login form (the dashboard wants a session)."""
    if audience != "organiser":
        return
    await page.goto(f"{site.url}/admin/login")
    await page.fill("#email", DEMO_ORGANISER[0])
    await page.fill("#password", DEMO_ORGANISER[1])
    async with page.expect_navigation():
        await page.click("button[type=submit]")


def context_options(audience: str) -> dict[str, Any]:
    """Browser-context options for an audience: organisers carry the admin bearer token."""
    if audience == "organiser":
        return {"extra_http_headers": {"Authorization": f"Bearer {ADMIN_TOKEN}"}}
    return {}


def file_name(spec: PageSpec, lang: str, width: int) -> str:
    """`<audience>-<name>-<lang>-<width>.png`, safe as a file name."""
    return re.sub(r"[^a-z0-9.-]", "-", f"{spec.audience}-{spec.name}-{lang}-{width}.png")
