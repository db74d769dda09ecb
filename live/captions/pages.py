"""The captioner's page, opened through the event's secret captioner link.

    GET  /e/{slug}/captions?key=<captioner key>   exchange the key for the session, then
                                                  303 to /e/{slug}/captions (key dropped)
    GET  /e/{slug}/captions                       the captioner's page (the session's grant,
                                                  or an organiser)
    POST /e/{slug}/captions                       commit one line without JavaScript

A wrong key is 401 (`captions.bad_key`), and so is the page without a grant
(`captions.no_key`) or with the grant of a link the organiser has since replaced
(`captions.link_replaced`; `live.captions.admin`). The key leaves the address at once (a redirect), so it stays out of
the history, later Referer headers and screenshots; the grant in the session cookie holds
a digest of the key, so a new key ends it (`live.auth.grant_captioner`). With JavaScript
the page types over the live socket (static/js/captioner.js, `live.captions.handlers`);
without it, the form posts one line at a time, with a key made for the form so that
sending it twice stores it once.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from live import auth
from live.captions.messages import LineView
from live.captions.service import CaptionService, line_view
from live.errors import SalenError, Unauthorized
from live.events.service import load_event
from live.events.visibility import check_visible
from live.models import Event, Role
from live.state import app_state
from live.web import render

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def captions_service(request: Request) -> CaptionService:
    """The process's caption service (from the lifespan state)."""
    service: CaptionService = request.state.captions
    return service


async def _event(request: Request) -> Event:
    async with app_state(request).db() as session:
        return await load_event(session, request.path_params["slug"])


async def _captioner_event(request: Request) -> Event:
    """The path's event, for its captioners and organisers only (401 otherwise)."""
    event = await _event(request)
    roles = await auth.event_roles(request, event)
    if Role.CAPTIONER in roles or Role.ORGANISER in roles:
        return event
    if auth.captioner_link_replaced(request, event):
        raise Unauthorized("The organiser has replaced this captioner link with a new one. "
                           "Ask them for the new link.", code="captions.link_replaced")
    await check_visible(request, event)  # an unpublished event is unknown, not "no key"
    raise Unauthorized("Open the captioner link the organiser sent you.", code="captions.no_key")


async def captioner_page(request: Request) -> Response:
    """Exchange a presented key for the session, or show the captioner's page."""
    key = request.query_params.get("key")
    if key is not None:
        event = await _event(request)
        if not auth.same_secret(key, event.captions_token):
            await check_visible(request, event)  # an unpublished event is unknown, not "bad key"
            raise Unauthorized("This captioner link is not valid.", code="captions.bad_key")
        auth.grant_captioner(request, event)
        return RedirectResponse(f"/e/{event.slug}/captions", status_code=303, headers=NO_STORE)
    event = await _captioner_event(request)
    return await _render(request, event, {})


async def _render(request: Request, event: Event, errors: dict[str, str],
                  text: str = "", status: int = 200) -> Response:
    recent = await captions_service(request).recent(event.id, 20)
    lines: list[LineView] = [line_view(row) for row in recent]
    response = render(request, "captions/captioner.html", {
        "event": event, "lines": lines, "errors": errors, "text": text,
        "form_key": secrets.token_urlsafe(12), "name": request.session.get("captioner_name", ""),
    }, status_code=status)
    response.headers.update(NO_STORE)
    return response


async def commit_form(request: Request) -> Response:
    """Commit one line from the page's form (the page without JavaScript)."""
    event = await _captioner_event(request)
    form = await request.form()
    auth.check_csrf(request, _field(form, "csrf_token"))
    text, name = _field(form, "text"), _field(form, "name")[:80].strip()
    key = _field(form, "key")[:64] or secrets.token_urlsafe(12)
    request.session["captioner_name"] = name
    try:
        await captions_service(request).commit(event.id, "form", name, key, text)
    except SalenError as exc:
        return await _render(request, event, {"text": exc.message}, text, status=exc.status)
    return RedirectResponse(f"/e/{event.slug}/captions", status_code=303, headers=NO_STORE)


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


routes: list[BaseRoute] = [
    Route("/e/{slug}/captions", captioner_page, methods=["GET"], name="captions_captioner"),
    Route("/e/{slug}/captions", commit_form, methods=["POST"], name="captions_commit"),
]
