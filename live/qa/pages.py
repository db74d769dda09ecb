"""Q&A pages for the event's audience and its moderators: the live page, the desk, the big screen.

    GET  /e/{slug}/live                    ask, vote, follow the panel (no account needed)
    GET  /e/{slug}/moderate                moderators: organiser session or ?token=<moderator>
    GET  /e/{slug}/display?key=<display>   the current question and the next few (OBS source)

The pages are shells: the questions arrive over `/ws/events/{slug}` (docs/protocol.md) and
are drawn by static/js/qa-*.js. Who a viewer is comes from `live.identity.participant` (the
session, a presented `?p=` token, or a registrant's personal link `?r=<token>` with their
name), the same participant as in group work. Organiser pages are in `live.qa.admin`.
"""

from __future__ import annotations

import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from live import auth
from live.errors import Forbidden
from live.events.join import join_info
from live.events.service import load_event
from live.events.visibility import check_visible, visible_roles
from live.identity import Participant, identities, participant, remember, remembered
from live.models import Event, ProgrammeItem, Role
from live.models.qa import QaSettings
from live.qa.service import QaService
from live.state import app_state
from live.web import login_redirect, render


def qa_service(request: Request) -> QaService:
    """The process's Q&A service (from the lifespan state)."""
    qa: QaService = request.state.qa
    return qa


async def event_and_roles(request: Request) -> tuple[Event, frozenset[Role]]:
    """The event of the path with Q&A set up, and the caller's roles; unpublished: moderators."""
    async with app_state(request).db() as session:
        event = await load_event(session, request.path_params["slug"])
    roles = await visible_roles(request, event)
    await qa_service(request).ensure(event.id)
    return event, roles


def programme_items(event: Event) -> list[ProgrammeItem]:
    """Every programme item of the event, in programme order."""
    return [item for block in event.blocks for item in block.items]


def _item_options(event: Event) -> list[dict[str, Any]]:
    return [{"id": item.id, "title": item.title} for item in programme_items(event)]


# --- viewers -------------------------------------------------------------------------------


async def viewer_page(request: Request) -> Response:
    """Ask, vote and follow the panel beside the stream; phone-first."""
    event, _ = await event_and_roles(request)
    person = await participant(request, event.id, presented=request.query_params.get("p"))
    async with app_state(request).db() as session:
        settings = await session.get(QaSettings, event.id)
    return render(request, "qa/live.html", {
        "event": event, "person": person, "items": _item_options(event),
        "participant_token": identities(request).token(person),
        "qa_open": settings is None or settings.open,
    })


# --- moderators ------------------------------------------------------------------------------


async def _moderator_name(request: Request) -> str:
    async with app_state(request).db() as session:
        user = await auth.current_user(request, session)
    if user is not None:
        return user.name or user.email
    return request.query_params.get("name", "").strip()[:80]


@login_redirect
async def moderator_page(request: Request) -> Response:
    """The moderators' desk: incoming questions, the panel queue, questions from the floor."""
    event, roles = await event_and_roles(request)
    auth.require(request, roles, Role.MODERATOR)
    current = remembered(request) or identities(request).new()
    name = await _moderator_name(request) or current.name
    person = Participant(id=current.id, name=name)
    return render(request, "qa/moderate.html", {
        "event": event, "person": person, "items": _item_options(event),
        "participant_token": remember(request, person),
        "token": request.query_params.get("token", ""),
        "join": join_info(request, event),
    })


# --- the big screen ----------------------------------------------------------------------------


async def display_page(request: Request) -> Response:
    """The current question and the next few in large type, opened with the display key."""
    async with app_state(request).db() as session:
        event = await load_event(session, request.path_params["slug"])
    key = request.query_params.get("key", "")
    if not (key and hmac.compare_digest(key.encode(), event.display_token.encode())):
        await check_visible(request, event)  # an unpublished event is unknown, not "bad key"
        raise Forbidden("This display link is not valid.", code="qa.bad_display_key")
    await qa_service(request).ensure(event.id)
    return render(request, "qa/display.html", {
        "event": event, "key": key, "overlay": request.query_params.get("overlay") == "1",
        "count": _int(request.query_params.get("next"), 3, 0, 10),
        "join": join_info(request, event),
    })


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value))) if value is not None else default
    except ValueError:
        return default


routes: list[BaseRoute] = [
    Route("/e/{slug}/live", viewer_page, methods=["GET"], name="qa_live"),
    Route("/e/{slug}/moderate", moderator_page, methods=["GET"], name="qa_moderate"),
    Route("/e/{slug}/display", display_page, methods=["GET"], name="qa_display"),
]
