"""Public pages: the event list, an event's page, and the language switch."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live.events.domain import EventStatus, event_status, places_left, status_until
from live.events.facts import EventFacts, event_facts
from live.events.join import join_info
from live.events.livestate import LiveState, live_state
from live.events.page_cache import PageCache, cached_page, remembered
from live.events.player import player_key
from live.events.service import load_event
from live.events.visibility import check_visible
from live.i18n import LOCALES
from live.models import Attendance, Event, ItemKind, Recording, RecordingState, utcnow
from live.state import app_state
from live.web import LANG_COOKIE, render


async def index(request: Request) -> Response:
    """Live and upcoming events first (soonest first), then past events (newest first)."""
    listed = await published_now(request)
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    ended = {"ended", "recorded"}
    upcoming = sorted((x for x in listed if x[1].phase not in ended),
                      key=lambda x: (x[1].phase != "live", x[1].starts_at or far))
    past = sorted((x for x in listed if x[1].phase in ended),
                  key=lambda x: x[2] or far, reverse=True)
    return render(request, "index.html", {
        "upcoming": [(e, s, s.starts_at) for e, s, _ in upcoming],
        "past": [(e, s, first) for e, s, first in past],
    })


async def published_now(request: Request) -> list[tuple[Event, LiveState, dt.datetime | None]]:
    """Every published event with its live state and first start, in two queries."""
    async with app_state(request).db() as session:
        events = list(await session.scalars(
            select(Event).where(Event.published.is_(True)).options(selectinload(Event.occurrences))
        ))
        recordings = await latest_recordings(session, [e.id for e in events])
    now = utcnow()
    listed = []
    for event in events:
        status = event_status(event, now)
        first = min((o.starts_at for o in event.occurrences), default=None)
        listed.append((event, state_of(request, event, status, recordings.get(event.id)), first))
    return listed


async def latest_recordings(session: AsyncSession, event_ids: list[int]) -> dict[int, int]:
    """The newest published recording of each of `event_ids`."""
    if not event_ids:
        return {}
    rows = await session.execute(
        select(Recording.event_id, Recording.id)
        .where(Recording.event_id.in_(event_ids), Recording.state == RecordingState.PUBLISHED)
        .order_by(Recording.started_at, Recording.id)
    )
    return {event_id: recording_id for event_id, recording_id in rows}


def state_of(request: Request, event: Event, status: EventStatus,
             recording_id: int | None) -> LiveState:
    """The event's live state: its timetable joined with this process's stream state."""
    stream = request.state.streams.state(event.slug).status.value if event.streamed else None
    return live_state(status, stream, recording_id, event.streamed)


async def event_page(request: Request) -> Response:
    """Everything about one event; readable without JavaScript.

    At most one query per view (`event_facts`, reused on SQLite until the database changes);
    the event with its programme is read again only after it was saved, and the page is
    rendered again only when something it shows changed.
    """
    event, status, facts = await event_and_status(request, request.path_params["slug"])
    now = state_of(request, event, status, facts.recording_id)
    key = ("event", event.id, event.updated_at, status, facts, now, player_key(request, event))
    has_panel = any(i.kind == ItemKind.PANEL for b in event.blocks for i in b.items)
    return cached_page(request, key, "event.html", lambda: {
        "event": event,
        "status": status,
        "now": now,
        "speakers": {s.id: s for s in event.speakers},
        "recording_id": facts.recording_id,
        "places": places(event, facts.taken()),
        "has_panel": has_panel,
        "group_work": facts.group_work,
        "join": join_info(request, event) if event.streamed or has_panel else None,
    })


async def event_and_status(request: Request, slug: str) -> tuple[Event, EventStatus, EventFacts]:
    """The visible event at `slug`, where its timetable stands, and its facts; cached."""
    cache: PageCache = request.state.page_cache
    facts = await remembered(request, ("event", slug), lambda session: event_facts(session, slug))
    event = cache.get(("event", facts.event_id, facts.updated_at))
    if event is None:
        async with app_state(request).db() as session:
            event = await load_event(session, slug)
        cache.put(("event", event.id, event.updated_at), event)  # as loaded, maybe newer
    await check_visible(request, event)
    now = utcnow()
    # The status changes only at the occurrences' edges: worked out once until the next one.
    known = cache.get(("status", event.id, event.updated_at))
    if known is None or (known[1] is not None and now >= known[1]):
        known = cache.put(("status", event.id, event.updated_at), status_until(event, now))
    return event, known[0], facts


def places(event: Event, counts: dict[int, dict[str, int]]) -> dict[int, dict[str, int | None]]:
    """Places left per occurrence and mode, from the confirmed counts of `EventFacts.taken`."""
    return {
        occ.id: {str(mode): places_left(occ, mode, counts.get(occ.id, {}).get(str(mode), 0))
                 for mode in Attendance}
        for occ in event.occurrences
    }


async def switch_language(request: Request) -> Response:
    """Remember the chosen language in a cookie and go back where the visitor was."""
    lang = request.query_params.get("to", "")
    target = request.query_params.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    response = RedirectResponse(target, status_code=303)
    if lang in LOCALES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax")
    return response


routes = [
    Route("/", index, name="index"),
    Route("/e/{slug}", event_page, name="event"),
    Route("/lang", switch_language, name="lang"),
]
