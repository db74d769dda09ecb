"""Streams of events: stream keys, stream settings, and recordings when a stream ends.

The media work (ingest, relay, HLS, recording) is in the `stream` library; this ties it
to events: one stream per event slug, published with the event's stream key.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from live import auth
from live.archive import Archive
from live.errors import NotFound
from live.events.page_cache import remembered
from live.events.service import find_event
from live.events.visibility import may_see
from live.models import Event, Role
from live.models.events import new_token
from live.state import app_state
from live.streaming.whip import interpreter_of

log = logging.getLogger(__name__)


async def check_stream_key(request: Request, slug: str, token: str) -> bool | None:
    """Is `token` the event's stream key? None when there is no such event."""
    async with app_state(request).db() as session:
        key = (await session.scalars(select(Event.stream_key).where(Event.slug == slug))).first()
    if key is None:
        return None
    return auth.same_secret(key, token)


async def check_interpreter_key(request: Request, slug: str, token: str) -> bool | None:
    """Is `token` the event's sign-language interpreter key? None when there is no such event."""
    async with app_state(request).db() as session:
        key = (await session.scalars(
            select(Event.interpreter_key).where(Event.slug == slug))).first()
    if key is None:
        return None
    return auth.same_secret(key, token)


async def may_watch(request: Request, slug: str) -> bool:
    """May the caller watch the event's stream (WHEP, live HLS)? Published events: anyone;
    unpublished ones: their organisers and moderators; no such event: nobody.

    Whether the event is published is read once per database change on SQLite
    (`remembered`), so live HLS requests cost no query there.
    """
    published = await remembered(request, ("published", slug), lambda s: _published(s, slug))
    if published is None or published:
        return bool(published)
    async with app_state(request).db() as session:
        event = await find_event(session, slug)
    return may_see(event, await auth.event_roles(request, event))


async def _published(session: AsyncSession, slug: str) -> bool | None:
    found: bool | None = await session.scalar(select(Event.published).where(Event.slug == slug))
    return found


def finished_recordings(archive: Archive) -> Any:
    """The stream manager's `on_finished`: the recording goes into the archive for processing."""

    async def on_finished(slug: str, path: Path, started_at: dt.datetime) -> None:
        if (event_slug := interpreter_of(slug)) is not None:
            try:
                attached = await archive.register_interpreter_recording(event_slug, path, started_at)
            except NotFound:
                log.warning("interpreter of %s ended but the event is gone; kept at %s",
                            event_slug, path)
                return
            log.info("interpreter of %s ended; kept with recording(s) %s", event_slug, attached)
            return
        try:
            recording_id = await archive.register_stream_recording(slug, path, started_at)
        except NotFound:
            log.warning("stream %s ended but the event is gone; recording kept at %s", slug, path)
            return
        log.info("stream %s ended; recording %s is being prepared", slug, recording_id)

    return on_finished


def stream_info(base: str, event: Event, state: dict[str, object]) -> dict[str, object]:
    """Where to publish and watch (links under `base`, `live.links.page_base`), the key, and
    the state: the organiser's stream settings."""
    return {
        "whip_url": f"{base}/whip/{event.slug}",
        "stream_key": event.stream_key,
        "whep_url": f"{base}/whep/{event.slug}",
        "hls_url": f"{base}/live/{event.slug}/master.m3u8",
        "publish_page": f"{base}/e/{event.slug}/publish",
        "captions_link": f"{base}/e/{event.slug}/captions?key={event.captions_token}",
        "interpreter_whip_url": f"{base}/whip/{event.slug}/interpreter",
        "interpreter_key": event.interpreter_key,
        "interpreter_whep_url": f"{base}/whep/{event.slug}/interpreter",
        "interpreter_hls_url": f"{base}/live/{event.slug}/interpreter/index.m3u8",
        "state": state["state"],
        "viewers": state["viewers"],
        "started_at": state["started_at"],
        "hls": state["hls"],
        "problem": state["problem"],
    }


async def organiser_event(request: Request) -> Event:
    """The event at the path's slug, for its organisers only."""
    async with app_state(request).db() as session:
        event = await find_event(session, request.path_params["slug"])
    auth.require(request, await auth.event_roles(request, event), Role.ORGANISER)
    return event


async def rotate_interpreter_key(request: Request, slug: str) -> Event:
    """Give the event a new interpreter key; the old one stops working for new publishers."""
    async with app_state(request).db() as session, session.begin():
        event = await find_event(session, slug)
        event.interpreter_key = new_token()
    return event


async def rotate_stream_key(request: Request, slug: str) -> Event:
    """Give the event a new stream key; the old one stops working for new publishers."""
    async with app_state(request).db() as session, session.begin():
        event = await find_event(session, slug)
        event.stream_key = new_token()
    return event
