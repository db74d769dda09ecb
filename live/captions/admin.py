"""The organiser replaces the captioner link (a new captioner key), behind a confirmation.

    POST /admin/events/{slug}/captions-key   organisers: a new captioner key (CSRF form,
                                             confirmed first: `live.confirm`)
    POST /api/events/{slug}/stream/captions-key  the same for API clients: the stream
                                             settings with the new `captions_link`

The old link stops working at once: opening it is 401 (`captions.bad_key`), the page of a
browser that exchanged it says it was replaced (`captions.link_replaced`), and captioners'
connections opened with it end (`CaptionService.replace_key`). The lines already sent stay.
The link is shown on the organiser's stream page (`live.streaming.admin`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from live import confirm
from live.captions.pages import captions_service
from live.events.admin import organiser_page
from live.events.service import find_event
from live.models import Event
from live.models.events import new_token
from live.openapi import operation
from live.state import app_state
from live.streaming.admin import replace_key_page
from live.streaming.api import replaced_key_reply

PATH = "/admin/events/{slug}/captions-key"
REPLACED = confirm.N_("A new captioner link was made. The old one no longer works, and "
                      "captioners who were using it have been disconnected.")
REPLACE = confirm.declare(
    "captions.key", PATH, back="/admin/events/{slug}/stream",
    title=confirm.N_("Make a new captioner link?"),
    question=confirm.N_("The old captioner link stops working at once, and captioners using "
                        "it are disconnected: send the new link to every captioner. The "
                        "lines they have sent are kept."),
    button=confirm.N_("Yes, make a new link"))


@organiser_page
async def replace_key(request: Request) -> Response:
    """A new captioner key; the old link and its sessions end."""
    return await replace_key_page(request, REPLACE, new_captions_key, REPLACED)


@operation(
    "Generate a new captioner link",
    "The old captioner link stops working and captioners using it are disconnected; the "
    "lines sent stay. Organisers.",
    responses={"200": "Stream settings with the new captions_link", "403": "Not an organiser"},
    tag="streams"
)
async def replace_key_api(request: Request) -> Response:
    """A new captioner key for API clients; the old link and its sessions end."""
    return await replaced_key_reply(request, new_captions_key)


async def new_captions_key(request: Request, slug: str) -> Event:
    """Store a new captioner key, then end the connections made with the old one."""
    async with app_state(request).db() as session, session.begin():
        event = await find_event(session, slug)
        event.captions_token = new_token()
    await captions_service(request).replace_key(event.id)
    return event


routes: list[BaseRoute] = [
    Route(PATH, replace_key, methods=["POST"], name="captions_key"),
    Route("/api/events/{slug}/stream/captions-key", replace_key_api, methods=["POST"]),
]
