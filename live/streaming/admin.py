"""The organiser's stream page: where and how to publish (URLs, key, OBS settings), the state.

    GET  /admin/events/{slug}/stream     organisers: WHIP URL, key, OBS settings, state
    POST /admin/events/{slug}/stream     organisers: a new stream key (CSRF form)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import auth
from live.events import embeds
from live.events.admin import organiser_page, page
from live.events.player import status_line, stream_texts
from live.streaming.service import organiser_event, rotate_stream_key, stream_info

POLL_MS = 4000
KEY_ROTATED = embeds.N_("A new stream key was made. The old key no longer works.")


@organiser_page
async def admin_stream(request: Request) -> Response:
    """The organiser's stream page: where and how to publish, the key, the state."""
    event = await organiser_event(request)
    state = request.state.streams.state(event.slug).as_dict()
    info = stream_info(request.state.settings, event, state)
    embed_problem = (
        embeds.stream_url_problem(event.stream_url, request.state.settings.embed_hosts)
        if event.stream_url
        else None
    )
    texts = stream_texts(request, None)
    context = {
        "event": event,
        "info": info,
        "state": state,
        "embed_problem": embed_problem,
        "texts": texts,
        "line": status_line(texts, state),
        "poll_ms": POLL_MS,
    }
    response = page(request, "admin/stream.html", context)
    response.headers["cache-control"] = "no-store"
    return response


@organiser_page
async def rotate_key(request: Request) -> Response:
    """A new stream key (form with CSRF token); the old one stops working for new publishers."""
    event = await organiser_event(request)
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    await rotate_stream_key(request, event.slug)
    request.session["flash"] = KEY_ROTATED
    return RedirectResponse(f"/admin/events/{event.slug}/stream", status_code=303)


routes = [
    Route("/admin/events/{slug}/stream", admin_stream, methods=["GET"], name="admin_stream"),
    Route("/admin/events/{slug}/stream", rotate_key, methods=["POST"]),
]
