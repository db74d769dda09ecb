"""Group work: breakout rooms by theme, with timer, video, shared input and return to plenary.

Rooms: `domain` (placement and note rules, pure), `service` (transactions and hub
notices), `views` (rows as clients see them), `messages` (the wire structs), `handlers`
(socket messages, registered through `RoomsFeature`; `feeds` keeps their pushes), `video`
(a room's call), `report` (the group's input), `pages` (lobby and room), `admin` (set-up
and the live overview), `runtime` (`open_rooms` for the lifespan).
"""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The feature's HTTP routes: lobby, rooms, video, reports, organiser pages."""
    from live.rooms import admin, pages

    return [*pages.routes, *admin.routes]
