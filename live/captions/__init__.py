"""Live captions typed by a captioner (skrivetolk): to viewers, into live HLS, onto recordings.

Rooms: `domain` (lines, splitting, cues), `messages` (the socket's structs), `feed` (one
event's captions in this process, coalesced per tick), `service` (commits and partial
lines), `handlers` (the live socket), `pages` (the captioner's page and its secret link),
`hls` (the live HLS subtitle rendition), `recording` (the draft track of a recording),
`editor` (the caption editor on a recording's admin page), `admin` (a new captioner link).
docs/captions.md tells the whole story.
"""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The feature's routes, imported on call."""
    from live.captions.admin import routes as admin_routes
    from live.captions.editor import routes as editor_routes
    from live.captions.pages import routes as page_routes

    return [*page_routes, *editor_routes, *admin_routes]
