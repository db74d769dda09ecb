"""The remote speaker's publishing page: camera and microphone to the event's stream.

    GET  /e/{slug}/publish               publish camera and microphone (stream key, ?key=)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live.auth import same_secret
from live.events.service import find_event
from live.events.visibility import check_visible
from live.state import app_state
from live.web import localiser, render


async def publish_page(request: Request) -> Response:
    """The remote speaker's page: stream key, camera preview, start and stop."""
    async with app_state(request).db() as session:
        event = await find_event(session, request.path_params["slug"])
    key = request.query_params.get("key", "")
    role = "interpreter" if request.query_params.get("role") == "interpreter" else "speaker"
    if not same_secret(key, event.interpreter_key if role == "interpreter" else event.stream_key):  # the speaker's link shows an unpublished event
        await check_visible(request, event)
    context = {
        "event": event,
        "stream_key": key,
        "whip_url": f"/whip/{event.slug}",
        "interpreter_whip_url": f"/whip/{event.slug}/interpreter",
        "role": role,
        "texts": publish_texts(request),
    }
    response = render(request, "stream/publish.html", context)
    # the key may be in the address: keep the page out of caches and other sites' logs
    response.headers["cache-control"] = "no-store"
    response.headers["referrer-policy"] = "no-referrer"
    return response


def publish_texts(request: Request) -> dict[str, str]:
    """The publishing page's status texts, keyed by WhipPublisher mode or English message."""
    loc = localiser(request)
    return {
        "preview": loc.gettext("Camera and microphone are on; nothing is sent yet."),
        "starting": loc.gettext("Connecting…"),
        "live": loc.gettext("You are live."),
        "stopped": loc.gettext("Stopped. The recording is being prepared."),
        "error": loc.gettext("Could not start:"),
        "no_key": loc.gettext("Enter the stream key first."),
        "The stream key is wrong.": loc.gettext("The stream key is wrong."),
        "There is no such event.": loc.gettext("There is no such event."),
        "Someone is already streaming to this event.": loc.gettext(
            "Someone is already streaming to this event."
        ),
        "The connection to the server failed.": loc.gettext("The connection to the server failed."),
        "The server refused the offer.": loc.gettext("The server refused the offer."),
        "camera_denied": loc.gettext(
            "The browser was not allowed to use the camera and microphone. Allow them (the "
            "icon in the address bar) and try again."
        ),
        "camera_busy": loc.gettext("The camera or microphone is in use by another program."),
        "no_camera": loc.gettext("No camera or microphone was found."),
    }


routes = [
    Route("/e/{slug}/publish", publish_page, methods=["GET"], name="stream_publish"),
]
