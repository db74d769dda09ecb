"""Group-work pages: a participant's lobby and room, video signalling, set-up, overview, reports.

Participants are recognised by a signed identity kept in the session cookie: a registrant
arriving through their personal link (`?r=<manage token>`) becomes `reg:<id>` with their
name; anyone else gets an anonymous identity (enough for free choice of rooms). Room pages
and video endpoints answer members and moderators only.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from live import auth
from live.errors import Invalid, NotFound
from live.events.service import find_event
from live.identity import Participant
from live.models import Event, ItemKind, ProgrammeItem, Role
from live.models.registration import Registration, Status
from live.rooms import domain, report
from live.rooms.domain import Placement
from live.rooms.runtime import RoomsLive
from live.rooms.service import Who, registration_participant
from live.web import localiser, render

SESSION_KEY = "salen_participant"
SDP = "application/sdp"


def _rooms(request: Request) -> RoomsLive:
    rooms: RoomsLive = request.state.rooms
    return rooms


async def _event(request: Request) -> Event:
    async with request.state.db() as session:
        return await find_event(session, request.path_params["slug"])


async def participant(request: Request, event: Event) -> Participant:
    """Who this browser is: from `?r=` (a registration), a presented token, or the session."""
    rooms = _rooms(request)
    manage = request.query_params.get("r")
    if manage:
        async with request.state.db() as session:
            reg = await session.scalar(select(Registration).where(
                Registration.token == manage, Registration.event_id == event.id,
                Registration.status == Status.CONFIRMED))
        if reg is None:
            raise NotFound("That personal link is not valid for this event.",
                           code="rooms.bad_link")
        found = Participant(id=registration_participant(reg.id), name=reg.name)
    else:
        presented = request.headers.get("x-salen-participant") or request.session.get(SESSION_KEY)
        found = rooms.identities.load(presented) or rooms.identities.new()
    request.session[SESSION_KEY] = rooms.identities.token(found)
    return found


async def _who(request: Request, event: Event) -> tuple[Who, frozenset[Role]]:
    roles = await auth.event_roles(request, event)
    person = await participant(request, event)
    return Who(person.id, person.name, moderator=Role.MODERATOR in roles), roles


def ws_url(request: Request, event: Event, person: Participant) -> str:
    """The live socket's address, with the participant token (and a moderator link's token)."""
    query = {"p": _rooms(request).identities.token(person)}
    if request.query_params.get("token"):
        query["token"] = request.query_params["token"]
    return f"/ws/events/{event.slug}?{urlencode(query)}"


# --- participants ------------------------------------------------------------------------


async def lobby(request: Request) -> Response:
    """Your theme and room; told "your room is ready" and taken there when the rooms open."""
    event = await _event(request)
    person = await participant(request, event)
    service = _rooms(request).service
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
    return await _rooms(request).service.room_view(event.id, Who(person.id), placed.id)


async def room_page(request: Request) -> Response:
    """A room: brief, input by section, countdown, call a moderator, video."""
    event = await _event(request)
    who, _ = await _who(request, event)
    room_id = int(request.path_params["room"])
    service = _rooms(request).service
    view = await service.room_view(event.id, who, room_id)
    person = Participant(who.participant, who.name)
    return render(request, "rooms_room.html", {
        "event": event, "room": view, "who": who, "session": await service.session_view(event.id),
        "ws_url": ws_url(request, event, person), "note_max": domain.NOTE_MAX_CHARS,
        "participant_token": _rooms(request).identities.token(person),
    })


async def _member(request: Request) -> tuple[Event, Who, int]:
    event = await _event(request)
    who, _ = await _who(request, event)
    room_id = int(request.path_params["room"])
    await _rooms(request).service.room_view(event.id, who, room_id)  # members only
    return event, who, room_id


async def video_publishers(request: Request) -> Response:
    """Who publishes video in the room now, as of version `v` (that of `room.video` pushes)."""
    _, _, room_id = await _member(request)
    video = _rooms(request).video
    return JSONResponse({"v": video.version, "publishers": video.publishers(room_id)})


async def video_publish(request: Request) -> Response:
    """A member's camera: SDP offer in, SDP answer out (as WHIP)."""
    _, who, room_id = await _member(request)
    offer = (await request.body()).decode("utf-8", "replace")
    answer = await _rooms(request).video.publish(room_id, who.participant, offer)
    return PlainTextResponse(answer, status_code=201, media_type=SDP)


async def video_view(request: Request) -> Response:
    """Another member's camera: SDP offer in, SDP answer out (as WHEP)."""
    _, who, room_id = await _member(request)
    offer = (await request.body()).decode("utf-8", "replace")
    answer = await _rooms(request).video.view(room_id, who.participant,
                                              request.path_params["publisher"], offer)
    return PlainTextResponse(answer, status_code=201, media_type=SDP)


async def public_report(request: Request) -> Response:
    """The reports on the event's site, once the organiser publishes them."""
    event = await _event(request)
    group = await _rooms(request).service.group(event.id)
    if group is None or not group.report_published:
        raise NotFound("The group work's report is not published.", code="rooms.no_report")
    reports = await report.build(request.state.db, event.id)
    return render(request, "rooms_report.html", {"event": event, "reports": reports,
                                                 "admin": False})


# --- organisers and moderators -----------------------------------------------------------


async def _staff(request: Request, needed: Role) -> Event:
    event = await _event(request)
    auth.require(request, await auth.event_roles(request, event), needed)
    return event


def _token_query(request: Request) -> str:
    token = request.query_params.get("token")
    return f"?{urlencode({'token': token})}" if token else ""


async def setup(request: Request) -> Response:
    """Organisers: placement, room size, sections, venue rooms; plan rooms; move people."""
    event = await _staff(request, Role.ORGANISER)
    service = _rooms(request).service
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        auth.check_csrf(request, str(form.get("csrf_token", "")))
        try:
            await _apply(request, event, {k: str(v) for k, v in form.items()})
            request.session["flash"] = "Saved."
            return RedirectResponse(f"/admin/group-work/{event.slug}{_token_query(request)}",
                                    status_code=303)
        except Invalid as exc:
            errors = {"form": exc.message, **exc.fields}
    group = await service.group(event.id)
    async with request.state.db() as session:
        items = list(await session.scalars(select(ProgrammeItem).where(
            ProgrammeItem.event_id == event.id, ProgrammeItem.kind == ItemKind.GROUP_WORK)))
    rooms = await service.rooms(event.id) if group is not None else []
    return render(request, "admin/rooms.html", {
        "event": event, "group": group, "rooms": rooms, "items": items, "errors": errors,
        "placements": list(Placement), "flash": request.session.pop("flash", None),
        "token_query": _token_query(request),
        "sections_text": "\n".join(s["title"] for s in (
            group.sections if group else domain.DEFAULT_SECTIONS)),
    }, status_code=422 if errors else 200)


async def _apply(request: Request, event: Event, form: dict[str, str]) -> None:
    service = _rooms(request).service
    action = form.get("action", "save")
    if action == "save":
        try:
            size = int(form.get("room_size", ""))
            placement = Placement(form.get("placement", ""))
        except ValueError:
            raise Invalid("Check the room size and placement.", code="rooms.bad_form",
                          fields={"room_size": "Give a whole number."}) from None
        item = form.get("item_id", "")
        await service.configure(
            event.id, placement=placement, room_size=size,
            sections=parse_sections(form.get("sections", "")),
            venue_rooms=form.get("venue_rooms", "").splitlines(),
            item_id=int(item) if item.isdigit() else None)
    elif action == "plan":
        await service.plan_rooms(event.id)
    elif action == "move":
        await service.move(event.id, form.get("participant", ""), int(form.get("room", "0")))
    elif action in ("publish", "unpublish"):
        await service.set_published(event.id, action == "publish")
    else:
        raise Invalid(f"Unknown action {action!r}.", code="rooms.bad_form")


def parse_sections(text: str) -> list[dict[str, str]]:
    """One section title per line; keys are made from the titles."""
    sections: list[dict[str, str]] = []
    for line in text.splitlines():
        title = line.strip()[:100]
        if not title:
            continue
        key = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or f"s{len(sections)}"
        if key not in {s["key"] for s in sections}:
            sections.append({"key": key, "title": title})
    if not sections:
        raise Invalid("Name at least one section.", code="rooms.no_sections",
                      fields={"sections": "Name at least one section."})
    return sections


async def overview(request: Request) -> Response:
    """Moderators: every room, who is in it and its input as it grows; the controls."""
    event = await _staff(request, Role.MODERATOR)
    service = _rooms(request).service
    group = await service.group(event.id)
    if group is None:
        raise NotFound("This event has no group work.", code="rooms.no_session")
    person = await participant(request, event)
    return render(request, "admin/rooms_live.html", {
        "event": event, "group": group, "rooms": await service.rooms(event.id),
        "session": await service.session_view(event.id),
        "ws_url": ws_url(request, event, person), "token_query": _token_query(request),
    })


async def admin_report(request: Request) -> Response:
    """Organisers: the printable report of every theme, or one theme as Markdown or CSV."""
    event = await _staff(request, Role.ORGANISER)
    reports = await report.build(request.state.db, event.id)
    name = request.path_params.get("name")
    if name is None:
        return render(request, "rooms_report.html", {"event": event, "reports": reports,
                                                     "admin": True,
                                                     "token_query": _token_query(request)})
    slug, _, ext = name.rpartition(".")
    found = next((r for r in reports if r.slug == slug), None)
    if found is None or ext not in ("md", "csv"):
        raise NotFound("No such report.", code="rooms.no_report")
    gettext = localiser(request).gettext
    if ext == "md":
        return PlainTextResponse(report.markdown(found, gettext),
                                 media_type="text/markdown; charset=utf-8")
    return PlainTextResponse(report.csv_text(found, gettext), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition":
                                      f'attachment; filename="{event.slug}-{slug}.csv"'})


routes: list[BaseRoute] = [
    Route("/e/{slug}/group-work", lobby, name="rooms_lobby"),
    Route("/e/{slug}/group-work/report", public_report, name="rooms_public_report"),
    Route("/e/{slug}/rooms/{room:int}", room_page, name="rooms_room"),
    Route("/e/{slug}/rooms/{room:int}/video", video_publishers, name="rooms_video"),
    Route("/e/{slug}/rooms/{room:int}/video/publish", video_publish, methods=["POST"]),
    Route("/e/{slug}/rooms/{room:int}/video/view/{publisher}", video_view, methods=["POST"]),
    Route("/admin/group-work/{slug}", setup, methods=["GET", "POST"], name="rooms_setup"),
    Route("/admin/group-work/{slug}/live", overview, name="rooms_overview"),
    Route("/admin/group-work/{slug}/report", admin_report, name="rooms_report"),
    Route("/admin/group-work/{slug}/report/{name}", admin_report),
]
