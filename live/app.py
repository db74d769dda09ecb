"""`create_app(settings)`: the Starlette application; everything stateful is on its lifespan
(`live.lifespan.open_state`)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from live import (
    admin,
    archive,
    assets,
    attendance,
    confirm,
    events,
    ops,
    organisations,
    polls,
    qa,
    registration,
    rooms,
    streaming,
)
from live.auth import event_roles
from live.captions import routes as caption_routes
from live.errors import SalenError
from live.guard import InputGuard, Unforeseen
from live.lifespan import open_state
from live.realtime.connection import ws_route
from live.routing import by_segment
from live.server import UnixSocketProxy
from live.settings import Settings
from live.web import STATIC_DIR, SecurityHeaders, error_response
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

    def lifespan(app: Starlette) -> contextlib.AbstractAsyncContextManager[dict[str, Any]]:
        return open_state(settings)

    # One list per feature. No two routes match the same path and method (tests/test_routing.py),
    # so their order does not matter; `by_segment` groups them by first path segment.
    routes: list[BaseRoute] = by_segment([
        *events.routes(),
        *archive.routes(),
        *assets.routes,
        *registration.routes(),
        *organisations.routes(),
        *streaming.routes(),
        *admin.routes(),
        *qa.routes(),
        *polls.routes(),
        *rooms.routes(),
        *attendance.routes(),
        *caption_routes(),
        *ops.routes(),
        *confirm.routes,
        ws_route(resolve_roles=event_roles),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ])
    middleware = [
        Middleware(UnixSocketProxy),
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
