"""The recording archive: import and packaging, the API, the pages and the file server.

Wiring: put `Archive(settings, db)` on the lifespan state as "archive" (await its
`aclose()` on shutdown) and add `routes` to the app.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from live.archive import admin, api, files, pages
from live.archive.service import Archive

routes: list[BaseRoute] = [*pages.routes, *files.routes, *api.routes, *admin.routes]

__all__ = ["Archive", "routes"]
