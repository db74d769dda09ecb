"""Group-work pages for participants: the lobby, a room, video signalling, the public report.

Participants are recognised by `live.identity.participant` (the session, the token the
room page's script presents in `X-Salen-Participant`, or a registrant's personal link
`?r=<manage token>`, which makes them `reg:<id>` with their name; a link that is not valid
is refused); anyone else gets an anonymous identity (enough for free choice of rooms). Room
pages and video endpoints answer members and moderators only. Organiser and moderator pages
are in `live.rooms.admin`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from live import auth
from live.errors import NotFound
from live.events.service import find_event
from live.events.visibility import check_visible
from live.identity import Participant, identities
from live.identity import participant as resolve_participant
from live.models import Event, Role
from live.rooms import domain, report
from live.rooms.domain import Placement
from live.rooms.runtime import RoomsLive
from live.rooms.service import Who
from live.routing import id_param
from live.state import app_state
from live.web import render

SDP = "application/sdp"


def rooms_live(request: Request) -> RoomsLive:
    """The process's group-work state (from the lifespan state)."""
    rooms: RoomsLive = request.state.rooms
    return rooms


async def event_of(request: Request) -> Event:
    """The event of the path (404 when there is none)."""
    async with app_state(request).db() as session:
        return await find_event(session, request.path_params["slug"])


async def public_event(request: Request) -> Event:
    """The event of the path, 404 when there is none or it is unpublished and the caller no
    organiser or moderator."""
    event = await event_of(request)
    await check_visible(request, event)
    return event


async def participant(request: Request, event: Event) -> Participant:
    """Who this browser is: from `?r=` (a registration), a presented token, or the session."""
    return await resolve_participant(
        request, event.id, presented=request.headers.get("x-salen-participant"),
        bad_link=NotFound("That personal link is not valid for this event.",
                          code="rooms.bad_link"))


async def _who(request: Request, event: Event) -> tuple[Who, frozenset[Role]]:
    roles = await auth.event_roles(request, event)
    person = await participant(request, event)
    return Who(person.id, person.name, moderator=Role.MODERATOR in roles), roles


def ws_url(request: Request, event: Event, person: Participant) -> str:
    """The live socket's address, with the participant token (and a moderator link's token)."""
    query = {"p": identities(request).token(person)}
    if request.query_params.get("token"):
        query["token"] = request.query_params["token"]
    return f"/ws/events/{event.slug}?{urlencode(query)}"


# --- participants ------------------------------------------------------------------------


async def lobby(request: Request) -> Response:
    """Your theme and room; told "your room is ready" and taken there when the rooms open."""
    event = await public_event(request)
    person = await participant(request, event)
    service = rooms_live(request).service
    group = await service.group(event.id)
    if group is None:
        raise NotFound("This event has no group work.", code="rooms.no_session")
    placed = await service.assignment(event.id, person.id)
    choices = []
    if group.placement == Placement.FREE and placed is None:
        choices = [r for r in await service.rooms(event.id) if len(r.members) < r.capacity]
    return render(request, "rooms_lobby.html", {
        "event": event, "group": group, "room": placed, "person": person, "choices": choices,
        "ws_url": ws_url(request, event, person),
        "placed_view": await _placed_view(request, event, person, placed),
    })


async def _placed_view(request: Request, event: Event, person: Participant,
                       placed: Any) -> Any:
    if placed is None:
        return None
    return await rooms_live(request).service.room_view(event.id, Who(person.id), placed.id)


async def room_page(request: Request) -> Response:
    """A room: brief, input by section, countdown, call a moderator, video."""
    event = await public_event(request)
    who, _ = await _who(request, event)
    room_id = int(request.path_params["room"])
    service = rooms_live(request).service
    view = await service.room_view(event.id, who, room_id)
    person = Participant(who.participant, who.name)
    return render(request, "rooms_room.html", {
        "event": event, "room": view, "who": who, "session": await service.session_view(event.id),
        "ws_url": ws_url(request, event, person), "note_max": domain.NOTE_MAX_CHARS,
        "participant_token": identities(request).token(person),
    })


async def _member(request: Request) -> tuple[Event, Who, int]:
    event = await public_event(request)
    who, _ = await _who(request, event)
    room_id = int(request.path_params["room"])
    await rooms_live(request).service.room_view(event.id, who, room_id)  # members only
    return event, who, room_id


async def video_publishers(request: Request) -> Response:
    """Who publishes video in the room now, as of version `v` (that of `room.video` pushes)."""
    _, _, room_id = await _member(request)
    video = rooms_live(request).video
    return JSONResponse({"v": video.version, "publishers": video.publishers(room_id)})


async def video_publish(request: Request) -> Response:
    """A member's camera: SDP offer in, SDP answer out (as WHIP)."""
    _, who, room_id = await _member(request)
    offer = (await request.body()).decode("utf-8", "replace")
    answer = await rooms_live(request).video.publish(room_id, who.participant, offer)
    return PlainTextResponse(answer, status_code=201, media_type=SDP)


async def video_view(request: Request) -> Response:
    """Another member's camera: SDP offer in, SDP answer out (as WHEP)."""
    _, who, room_id = await _member(request)
    offer = (await request.body()).decode("utf-8", "replace")
    answer = await rooms_live(request).video.view(room_id, who.participant,
                                              request.path_params["publisher"], offer)
    return PlainTextResponse(answer, status_code=201, media_type=SDP)


async def public_report(request: Request) -> Response:
    """The reports on the event's site, once the organiser publishes them."""
    event = await public_event(request)
    group = await rooms_live(request).service.group(event.id)
    if group is None or not group.report_published:
        raise NotFound("The group work's report is not published.", code="rooms.no_report")
    reports = await report.build(app_state(request).db, event.id)
    return render(request, "rooms_report.html", {"event": event, "reports": reports,
                                                 "admin": False})


ROOM = f"/e/{{slug}}/rooms/{id_param('room')}"
routes: list[BaseRoute] = [
    Route("/e/{slug}/group-work", lobby, name="rooms_lobby"),
    Route("/e/{slug}/group-work/report", public_report, name="rooms_public_report"),
    Route(ROOM, room_page, name="rooms_room"),
    Route(f"{ROOM}/video", video_publishers, name="rooms_video"),
    Route(f"{ROOM}/video/publish", video_publish, methods=["POST"]),
    Route(f"{ROOM}/video/view/{{publisher}}", video_view, methods=["POST"]),
]
