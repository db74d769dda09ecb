"""The organisers' start: login, logout and the dashboard listing their events under /admin.

Each feature keeps its own organiser pages (`live.events.admin` for the event editor,
`live.registration.admin`, `live.archive.admin`, `live.streaming.admin`...).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from live.admin import login


def routes() -> list[BaseRoute]:
    """Login, logout and the dashboard."""
    return list(login.routes)
