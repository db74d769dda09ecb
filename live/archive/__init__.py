"""The recording archive: import and packaging, the API, the pages and the file server.

Wiring: put `Archive(settings, db)` on the lifespan state as "archive" (await its
`aclose()` on shutdown) and add `routes()` to the app.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from live.archive.service import Archive


def routes() -> list[BaseRoute]:
    """The feature's routes: pages, files, API and organiser pages.

    Imported on call, so that importing `Archive` does not pull in the web layer.
    """
    from live.archive import admin, api, files, pages

    return [*pages.routes, *files.routes, *api.routes, *admin.routes]

__all__ = ["Archive", "routes"]
