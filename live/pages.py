"""Public pages: the event list, an event's page, and the language switch."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live.events import event_status, load_event
from live.i18n import LOCALES
from live.models import Event, Recording, RecordingState, utcnow
from live.web import LANG_COOKIE, render


async def index(request: Request) -> Response:
    """Upcoming and live events first (soonest first), then past events (newest first)."""
    async with request.state.db() as session:
        events = list(await session.scalars(
            select(Event).where(Event.published.is_(True)).options(selectinload(Event.occurrences))
        ))
    now = utcnow()
    listed = [(event, event_status(event, now)) for event in events]
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    upcoming = sorted((x for x in listed if x[1].state != "ended"),
                      key=lambda x: x[1].starts_at or far)
    past = sorted((x for x in listed if x[1].state == "ended"),
                  key=lambda x: x[1].starts_at or far, reverse=True)
    return render(request, "index.html", {"upcoming": upcoming, "past": past})


async def event_page(request: Request) -> Response:
    """Everything about one event; readable without JavaScript."""
    async with request.state.db() as session:
        event = await load_event(session, request.path_params["slug"])
        recording = (await session.scalars(
            select(Recording).where(Recording.event_id == event.id,
                                    Recording.state == RecordingState.PUBLISHED)
            .order_by(Recording.started_at.desc()).limit(1)
        )).first()
    speakers = {s.id: s for s in event.speakers}
    context = {
        "event": event,
        "status": event_status(event, utcnow()),
        "speakers": speakers,
        "recording": recording,
        "places": await places_left(request, event),
    }
    return render(request, "event.html", context)


async def places_left(request: Request, event: Event) -> dict[int, dict[str, int | None]]:
    """Places left per occurrence and mode (None = no limit); registration fills in counts."""
    counter = getattr(request.state, "registration_counts", None)
    counts = await counter(request, event) if counter else {}
    result: dict[int, dict[str, int | None]] = {}
    for occ in event.occurrences:
        taken = counts.get(occ.id, {})
        result[occ.id] = {
            "in_person": None if occ.capacity_in_person is None
            else max(0, occ.capacity_in_person - taken.get("in_person", 0)),
            "online": None if occ.capacity_online is None
            else max(0, occ.capacity_online - taken.get("online", 0)),
        }
    return result


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
