"""The events JSON API under /api/, and its OpenAPI description."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live import auth
from live.errors import Forbidden, Invalid, Unauthorized
from live.events.document import EventDoc, to_event_doc
from live.events.domain import event_status
from live.events.livestate import MAX_AGE
from live.events.page_cache import PageCache
from live.events.pages import event_and_status, published_now, state_of
from live.events.service import export_event, find_event, load_event, save_event
from live.events.visibility import check_visible
from live.models import Event, Role, utcnow
from live.openapi import build_spec, operation
from live.routing import flatten
from live.state import app_state
from live.web import json_body, render

MEMO_SECONDS = 2  # how long one process reuses its answer to GET /api/now


def _summary(event: Event) -> dict[str, Any]:
    status = event_status(event, utcnow())
    return {
        "slug": event.slug,
        "title": event.title,
        "type": event.event_type,
        "status": status.state,
        "starts_at": status.starts_at.isoformat() if status.starts_at else None,
        "url": f"/e/{event.slug}",
    }


def _document(event: Event) -> dict[str, Any]:
    doc = msgspec.to_builtins(export_event(event))
    return doc | {"status": event_status(event, utcnow()).state}  # type: ignore[no-any-return]


@operation("List events", "Published events; organisers see all.")
async def list_events(request: Request) -> Response:
    organiser = await auth.site_organiser(request)
    async with app_state(request).db() as session:
        query = select(Event).options(selectinload(Event.occurrences)).order_by(Event.id)
        if not organiser:
            query = query.where(Event.published.is_(True))
        events = list(await session.scalars(query))
    return JSONResponse({"events": [_summary(e) for e in events]})


@operation(
    "Create an event", "Needs a site organiser (session or SALEN_ADMIN_TOKEN bearer).",
    body=EventDoc, responses={"201": "The created event document", "409": "Slug taken",
                               "422": "Invalid document"}
)
async def create_event(request: Request) -> Response:
    if not await auth.site_organiser(request):
        if not auth.identified(request):
            raise Unauthorized("Log in as an organiser to create events.")
        raise Forbidden("Only site organisers may create events.")
    _check_session_csrf(request)
    doc = to_event_doc(await json_body(request))
    async with app_state(request).db() as session, session.begin():
        event = await save_event(session, doc, create=True,
                                 embed_hosts=app_state(request).settings.embed_hosts)
        slug = event.slug
    async with app_state(request).db() as session:
        event = await load_event(session, slug)
    return JSONResponse(_document(event), status_code=201, headers={"location": f"/api/events/{slug}"})


@operation(
    "Get an event document", "The event with its programme.",
    responses={"200": "The event document",
               "404": "Unknown slug, or unpublished and the caller no organiser or moderator"}
)
async def get_event(request: Request) -> Response:
    async with app_state(request).db() as session:
        event = await load_event(session, request.path_params["slug"])
    await check_visible(request, event)
    return JSONResponse(_document(event))


@operation(
    "Change an event", "Top-level fields of the document; lists are replaced whole. Organisers.",
    body={"type": "object"}, responses={"200": "The event document", "422": "Invalid",
                                        "401": "Not logged in", "403": "Not an organiser"}
)
async def patch_event(request: Request) -> Response:
    """Change some fields of the event document; lists given are replaced as a whole."""
    slug = request.path_params["slug"]
    async with app_state(request).db() as session:
        event = await find_event(session, slug)
    auth.require(request, await auth.event_roles(request, event), Role.ORGANISER)
    _check_session_csrf(request)
    patch = await json_body(request)
    if not isinstance(patch, dict):
        raise Invalid("The body must be a JSON object.", code="invalid_body")
    if patch.get("slug", slug) != slug:
        raise Invalid("The address (slug) of an event cannot change.", code="event.slug_fixed",
                      fields={"slug": "The address cannot change."})
    async with app_state(request).db() as session, session.begin():
        current = msgspec.to_builtins(export_event(await load_event(session, slug)))
        doc = to_event_doc(current | patch)
        await save_event(session, doc, embed_hosts=app_state(request).settings.embed_hosts)
    async with app_state(request).db() as session:
        event = await load_event(session, slug)
    return JSONResponse(_document(event))


def _check_session_csrf(request: Request) -> None:
    """Cookie-authenticated writes need the CSRF header; token-authenticated ones do not."""
    if auth.presented_token(request):
        return
    auth.check_csrf(request, request.headers.get("x-csrf-token"))


@operation(
    "Live state of every published event",
    "`{events: {slug: {phase, starts_at, recording, streamed}}}`; phase is upcoming | soon | "
    "live | ended | recorded. Cacheable for a few seconds: poll it rather than the pages.",
    responses={"200": "The live states"}
)
async def all_now(request: Request) -> Response:
    """Every published event's phase, for the front page's badges.

    Worked out at most once per `MEMO_SECONDS` per process, so a crowd that bypasses any
    shared cache costs one database query per process every two seconds, not one per viewer.
    """
    cache: PageCache = request.state.page_cache
    key = ("api-now", int(time.monotonic() // MEMO_SECONDS))
    body = cache.get(key)
    if body is None:
        listed = await published_now(request)
        body = cache.put(key, {"events": {e.slug: s.as_dict() for e, s, _ in listed}})
    return JSONResponse(body, headers={"cache-control": f"public, max-age={MAX_AGE}"})


@operation(
    "Live state of an event",
    "The phase (upcoming | soon | live | ended | recorded), start, recording URL, the "
    "stream's state and viewers as in `/stream/state`, and whether the sign-language "
    "interpreter is on air (`interpreter`). Cacheable for a few seconds when the "
    "event is published.",
    responses={"200": "The live state", "404": "Unknown (or unpublished) event"}
)
async def event_now(request: Request) -> Response:
    """One event's phase and stream state, for its page's badge and player."""
    event, status, facts = await event_and_status(request, request.path_params["slug"])
    state = state_of(request, event, status, facts.recording_id)
    streams = request.state.streams
    # the sign-language interpreter's stream (live.streaming.whip.interpreter_name) is on air
    interpreter = streams.state(f"{event.slug}_interpreter").status in ("live", "paused")
    body = {"slug": event.slug, **streams.state(event.slug).as_dict(), **state.as_dict(),
            "interpreter": interpreter}
    cache = f"public, max-age={MAX_AGE}" if event.published else "private, no-cache"
    return JSONResponse(body, headers={"cache-control": cache})


async def openapi(request: Request) -> Response:
    return JSONResponse(build_spec(flatten(request.app.routes)))


async def api_docs(request: Request) -> Response:
    return render(request, "api_docs.html", {"spec": build_spec(flatten(request.app.routes))})


routes = [
    Route("/api/events", list_events, methods=["GET"], name="api_events"),
    Route("/api/events", create_event, methods=["POST"]),
    Route("/api/events/{slug}", get_event, methods=["GET"], name="api_event"),
    Route("/api/events/{slug}", patch_event, methods=["PATCH"]),
    Route("/api/now", all_now, methods=["GET"], name="api_now"),
    Route("/api/events/{slug}/now", event_now, methods=["GET"], name="api_event_now"),
    Route("/api/openapi.json", openapi, name="openapi", include_in_schema=False),
    Route("/api/docs", api_docs, name="api_docs", include_in_schema=False),
]
