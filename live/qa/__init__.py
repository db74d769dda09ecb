"""Live Q&A and the panel queue.

Rooms: `domain` (the question lifecycle and queue order, pure), `service` (one transaction
per action, then a hub notice), `transaction`/`rows`/`views` (the Core write path and what
clients see), `messages` (the wire structs), `handlers` (one handler per socket message,
registered through `QaFeature`), `pages` (viewer, moderator, display), `join` (the short
join address, its QR code and the printable poster), `admin` (settings and export),
`export`, `runtime` (`open_qa` for the lifespan).
"""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The feature's HTTP routes: the live, moderator and display pages, settings, export."""
    from live.qa import admin, join, pages

    return [*pages.routes, *admin.routes, *join.routes]
