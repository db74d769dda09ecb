"""Joining the Q&A from a screen or a wall: a short address, its QR code, a printable poster.

    GET  /j/{code}              the event's live page (303); the code is case-insensitive
    GET  /e/{slug}/poster       an A4 "Ask a question" poster: QR code and short address

The big screen, the moderators' desk, the poster and the event page show the same
`live.events.join.JoinInfo`.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from live.errors import NotFound
from live.events.join import join_info
from live.events.service import find_event
from live.events.visibility import check_visible
from live.models import Event
from live.state import app_state
from live.web import render

CODE = re.compile(r"[A-Za-z0-9]{4,12}")


def unknown_code() -> NotFound:
    return NotFound("No event has that join code.", code="event.join_code")


async def join(request: Request) -> Response:
    """Send a short join address on to the event's live page."""
    code = request.path_params["code"]
    if not CODE.fullmatch(code):
        raise unknown_code()
    async with app_state(request).db() as session:
        event = await session.scalar(select(Event).where(Event.join_code == code.upper()))
    if event is None:
        raise unknown_code()
    await check_visible(request, event)
    return RedirectResponse(f"/e/{event.slug}/live", status_code=303)


async def poster(request: Request) -> Response:
    """A printable A4 poster that invites the room to ask questions (print CSS, no script)."""
    async with app_state(request).db() as session:
        event = await find_event(session, request.path_params["slug"])
    await check_visible(request, event)
    return render(request, "qa/poster.html", {"event": event, "join": join_info(request, event)})


routes: list[BaseRoute] = [
    Route("/j/{code}", join, methods=["GET"], name="join"),
    Route("/e/{slug}/poster", poster, methods=["GET"], name="qa_poster"),
]
