"""Events: the event document, its public pages, the event editor and the events API.

Rooms: `document` (the schema, read and written as YAML or JSON), `domain` (pure rules:
checks, local times, status), `service` (save, load, export), `pages` (the event list and
an event's page, cached by `page_cache` on the keys of `facts`), `livestate` (the phase the
audience sees: timetable and stream joined), `player` (the stream player on those pages),
`join` (the short join address and its QR code), `embeds` (external players), `api` (JSON), `admin` (the editor,
with `forms` and `parts`), `visibility` (who may see an unpublished event; every public
route of every feature asks it). Other features build on `service`, `domain`, `visibility`
and `admin`'s page helpers; nothing here imports another feature's web layer.
"""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The feature's routes: public pages, API and editor.

    Imported on call, so that importing `live.events.service` (as every feature does) does
    not pull in the web layer of this one.
    """
    from live.events import admin, api, manage, pages

    return [*pages.routes, *api.routes, *admin.routes, *manage.routes]
