"""Live streams of events: stream keys, the organiser's stream API, and recordings when a stream ends.

The media work is in `stream/`; this module ties it to events (one stream per event slug).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live import auth
from live.archive import Archive
from live.errors import NotFound
from live.events import find_event
from live.models import Event, Role
from live.models.events import new_token
from live.openapi import op
from live.settings import Settings

log = logging.getLogger(__name__)


async def check_stream_key(request: Request, slug: str, token: str) -> bool | None:
    """Is `token` the event's stream key? None when there is no such event."""
    async with request.state.db() as session:
        key = (await session.scalars(select(Event.stream_key).where(Event.slug == slug))).first()
    if key is None:
        return None
    return auth.same_secret(key, token)


def finished_recordings(archive: Archive) -> Any:
    """The stream manager's `on_finished`: the recording goes into the archive for processing."""

    async def on_finished(slug: str, path: Path, started_at: dt.datetime) -> None:
        try:
            recording_id = await archive.register_stream_recording(slug, path, started_at)
        except NotFound:
            log.warning("stream %s ended but the event is gone; recording kept at %s", slug, path)
            return
        log.info("stream %s ended; recording %s is being prepared", slug, recording_id)

    return on_finished


def stream_info(settings: Settings, event: Event, state: dict[str, object]) -> dict[str, object]:
    base = settings.base_url.rstrip("/")
    return {
        "whip_url": f"{base}/whip/{event.slug}",
        "stream_key": event.stream_key,
        "whep_url": f"{base}/whep/{event.slug}",
        "hls_url": f"{base}/live/{event.slug}/index.m3u8",
        "publish_page": f"{base}/e/{event.slug}/publish",
        "state": state["state"],
        "viewers": state["viewers"],
        "started_at": state["started_at"],
    }


async def _organiser_event(request: Request) -> Event:
    async with request.state.db() as session:
        event = await find_event(session, request.path_params["slug"])
    auth.require(request, await auth.event_roles(request, event), Role.ORGANISER)
    return event


async def get_stream(request: Request) -> Response:
    """The organiser's view: where to publish, the key, and the stream's state."""
    event = await _organiser_event(request)
    state = request.state.streams.state(event.slug).as_dict()
    return JSONResponse(stream_info(request.state.settings, event, state))


async def new_stream_key(request: Request) -> Response:
    """A new stream key; the old one stops working for new publishers."""
    event = await _organiser_event(request)
    if not auth.presented_token(request):
        auth.check_csrf(request, request.headers.get("x-csrf-token"))
    async with request.state.db() as session, session.begin():
        row = await find_event(session, event.slug)
        row.stream_key = new_token()
        event = row
    state = request.state.streams.state(event.slug).as_dict()
    return JSONResponse(stream_info(request.state.settings, event, state))


async def public_state(request: Request) -> Response:
    """Anyone: is the event's stream live, paused, ended (recording being prepared)?"""
    async with request.state.db() as session:
        event = await find_event(session, request.path_params["slug"])
    state = request.state.streams.state(event.slug).as_dict()
    return JSONResponse(state, headers={"cache-control": "no-cache"})


get_stream.openapi = op(  # type: ignore[attr-defined]
    "Stream settings of an event", "WHIP/WHEP/HLS URLs, the stream key and the state. Organisers.",
    responses={"200": "Stream settings", "401": "Not logged in", "403": "Not an organiser"},
    tag="streams")
new_stream_key.openapi = op(  # type: ignore[attr-defined]
    "Generate a new stream key", "The old key stops working. Organisers.",
    responses={"200": "Stream settings with the new key", "403": "Not an organiser"},
    tag="streams")
public_state.openapi = op(  # type: ignore[attr-defined]
    "Stream state", "idle | live | paused | finalising | ended, with the viewer count.",
    responses={"200": "The state", "404": "Unknown event"}, tag="streams")

routes = [
    Route("/api/events/{slug}/stream", get_stream, methods=["GET"]),
    Route("/api/events/{slug}/stream/key", new_stream_key, methods=["POST"]),
    Route("/api/events/{slug}/stream/state", public_state, methods=["GET"]),
]
