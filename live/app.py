"""`create_app(settings)`: the Starlette application with everything stateful on its lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from live import admin, archive, events, qa, registration, rooms, streaming
from live.auth import event_roles
from live.db import create_engine, sessionmaker
from live.errors import SalenError
from live.events.page_cache import PageCache, change_counter
from live.events.player import install as install_player
from live.guard import InputGuard, Unforeseen
from live.hub import open_hub
from live.i18n import load_translations
from live.jobs import open_jobs
from live.outbox import open_outbox
from live.qa.handlers import QaFeature
from live.qa.runtime import open_qa
from live.ratelimit import Limiter
from live.realtime.connection import open_live, ws_route
from live.registration.ratelimit import RateLimiter
from live.rooms.handlers import RoomsFeature
from live.rooms.runtime import open_rooms
from live.routing import by_segment
from live.settings import Settings
from live.streaming.service import finished_recordings
from live.web import STATIC_DIR, SecurityHeaders, create_templates, error_response
from stream.manager import LiveStreams
from stream.recovery import check_folder


def embed_frame_hosts(settings: Settings) -> list[str]:
    """Hosts whose players may be framed (Content-Security-Policy frame-src)."""
    return ["https://www.youtube-nocookie.com", "https://player.vimeo.com"] + [
        f"https://{h.strip()}" for h in settings.embed_hosts.split(",")
        if h.strip() and h.strip() not in {"youtube.com", "youtu.be", "vimeo.com"}
    ]


class RecordingsFolderCheck:
    """Refuses start-up in one line when the recordings folder cannot be written.

    Checked before the lifespan runs, so uvicorn logs this line and exits instead of a
    traceback from whichever part first touches the folder.
    """

    def __init__(self, app: ASGIApp, folder: Path) -> None:
        self.app = app
        self.folder = folder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan" or (problem := check_folder(self.folder)) is None:
            await self.app(scope, receive, send)
            return
        await receive()  # lifespan.startup
        await send({"type": "lifespan.startup.failed", "message": f"error: {problem}"})


def create_app(settings: Settings | None = None) -> Starlette:
    """Build Salen for these settings (default: from the environment)."""
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with contextlib.AsyncExitStack() as stack:
            engine = create_engine(settings.database_url)
            stack.push_async_callback(engine.dispose)
            db = sessionmaker(engine)
            jobs = await stack.enter_async_context(open_jobs(db))  # features register jobs on it
            hub = await stack.enter_async_context(open_hub(settings.hub_url))
            # Rate limits over connections, and over processes through the hub's Redis.
            limiter = Limiter.for_hub(settings.hub_url)
            stack.push_async_callback(limiter.aclose)
            qa = await stack.enter_async_context(open_qa(db, hub))
            rooms = await stack.enter_async_context(open_rooms(settings, db, hub))
            # The live socket's message types: each feature registers its own.
            live = await stack.enter_async_context(
                open_live(settings, db, hub, features=[QaFeature(qa), RoomsFeature(rooms)],
                          limiter=limiter)
            )
            state: dict[str, Any] = {
                "settings": settings,
                "engine": engine,
                "db": db,
                "hub": hub,
                "live": live,
                "qa": qa,
                "rooms": rooms,
                "registration_limiter": RateLimiter(store=limiter),
                "jobs": jobs,
                "outbox": await open_outbox(settings, db, jobs),
                "templates": create_templates(),
                "translations": load_translations(),
                "archive": archive.Archive(settings, db),
                "page_cache": PageCache(),
                "db_changes": change_counter(settings.database_url),
            }
            if state["db_changes"] is not None:
                stack.callback(state["db_changes"].close)
            stack.push_async_callback(state["archive"].aclose)
            await state["archive"].resume_at_start_up()
            install_player(state["templates"])
            state["streams"] = await stack.enter_async_context(LiveStreams(
                settings, on_finished=finished_recordings(state["archive"])))
            yield state

    # One list per feature. No two routes match the same path and method (tests/test_routing.py),
    # so their order does not matter; `by_segment` groups them by first path segment.
    routes: list[BaseRoute] = by_segment([
        *events.routes(),
        *archive.routes(),
        *registration.routes(),
        *streaming.routes(),
        *admin.routes(),
        *qa.routes(),
        *rooms.routes(),
        ws_route(resolve_roles=event_roles),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ])
    middleware = [
        Middleware(RecordingsFolderCheck, folder=Path(settings.recordings_dir)),
        Middleware(SecurityHeaders, frame_hosts=embed_frame_hosts(settings)),
        Middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie="salen_session",
                   same_site="lax", https_only=settings.secure_cookies, max_age=14 * 24 * 3600),
        # Inside the session, so that their replies render like any other error page.
        Middleware(Unforeseen),
        Middleware(InputGuard),
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={SalenError: error_response, HTTPException: error_response},
    )
