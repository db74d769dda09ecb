"""The stream API under /api/events/{slug}/stream: settings and key for organisers, state for all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live import auth
from live.events.service import find_event
from live.events.visibility import check_visible
from live.links import page_base
from live.models import Event
from live.openapi import operation
from live.state import app_state
from live.streaming.service import (
    organiser_event,
    rotate_interpreter_key,
    rotate_stream_key,
    stream_info,
)


@operation(
    "Stream settings of an event", "WHIP/WHEP/HLS URLs, the stream key and the state. Organisers.",
    responses={"200": "Stream settings", "401": "Not logged in", "403": "Not an organiser"},
    tag="streams"
)
async def get_stream(request: Request) -> Response:
    """The organiser's view: where to publish, the key, and the stream's state."""
    event = await organiser_event(request)
    state = request.state.streams.state(event.slug).as_dict()
    return JSONResponse(stream_info(page_base(request), event, state))


@operation(
    "Generate a new stream key", "The old key stops working. Organisers.",
    responses={"200": "Stream settings with the new key", "403": "Not an organiser"},
    tag="streams"
)
async def new_stream_key(request: Request) -> Response:
    """A new stream key; the old one stops working for new publishers."""
    return await replaced_key_reply(request, rotate_stream_key)


async def replaced_key_reply(
    request: Request, replace: Callable[[Request, str], Awaitable[Event]]
) -> Response:
    """An API client replaces a key of the event (CSRF header unless it presents a token):
    the stream settings with the new key."""
    event = await organiser_event(request)
    if not auth.presented_token(request):
        auth.check_csrf(request, request.headers.get("x-csrf-token"))
    event = await replace(request, event.slug)
    state = request.state.streams.state(event.slug).as_dict()
    return JSONResponse(stream_info(page_base(request), event, state))


@operation(
    "Generate a new interpreter key",
    "The sign-language interpreter's old key stops working; an interpreter who is live goes "
    "on. Organisers.",
    responses={"200": "Stream settings with the new interpreter key", "403": "Not an organiser"},
    tag="streams"
)
async def new_interpreter_key(request: Request) -> Response:
    """A new interpreter key; the old one stops working for new publishers."""
    return await replaced_key_reply(request, rotate_interpreter_key)


@operation(
    "Stream state",
    "idle | live | paused | finalising | ended, with the viewer count; `hls` (live HLS is "
    "advertised) and `problem` ({code, message} when the recordings folder is full or "
    "read-only, else null).",
    responses={"200": "The state", "404": "Unknown (or unpublished) event"}, tag="streams"
)
async def public_state(request: Request) -> Response:
    """Anyone: is the event's stream live, paused, ended (recording being prepared)?"""
    async with app_state(request).db() as session:
        event = await find_event(session, request.path_params["slug"])
    await check_visible(request, event)
    state = request.state.streams.state(event.slug).as_dict()
    return JSONResponse(state, headers={"cache-control": "no-cache"})


routes = [
    Route("/api/events/{slug}/stream", get_stream, methods=["GET"]),
    Route("/api/events/{slug}/stream/key", new_stream_key, methods=["POST"]),
    Route("/api/events/{slug}/stream/interpreter-key", new_interpreter_key, methods=["POST"]),
    Route("/api/events/{slug}/stream/state", public_state, methods=["GET"]),
]
