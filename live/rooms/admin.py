"""Group-work pages for organisers and moderators: set-up, the live overview, the reports.

    GET  /admin/group-work/{slug}                 set-up (POST: save, plan rooms, move, publish)
    GET  /admin/group-work/{slug}/live            moderators: every room and its input, live
    POST /admin/group-work/{slug}/return          moderators: everyone back to the plenary
    POST /admin/group-work/{slug}/rooms/{id}/close  moderators: close one room
    GET  /admin/group-work/{slug}/report[/{name}] the printable report, or one theme as .md/.csv

Each page checks the caller's role for the event (an organiser session or a role link's
`?token=`); the participant pages are in `live.rooms.pages`. Planning the rooms, returning
to the plenary and closing a room ask first (`live.confirm`): with JavaScript in a dialog,
without on a confirm page. The live page's socket does the rest of its controls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from live import auth, confirm
from live.bounds import parse_id, parse_int
from live.errors import Invalid, NotFound
from live.models import Event, ItemKind, ProgrammeItem, Role
from live.rooms import domain, report
from live.rooms.domain import Placement
from live.rooms.pages import event_of, participant, rooms_live, ws_url
from live.routing import id_param
from live.state import app_state
from live.web import localiser, render, token_query

N_ = confirm.N_
PLAN = confirm.declare(
    "rooms.plan", "/admin/group-work/{slug}", fixed={"action": "plan"},
    title=N_("Plan the rooms again?"),
    question=N_("The rooms are replaced with a fresh split of the confirmed registrations: "
                "everyone may get another room, and moves made by hand are lost."),
    button=N_("Yes, plan the rooms"))
WITHDRAW = confirm.declare(
    "rooms.withdraw_report", "/admin/group-work/{slug}", fixed={"action": "unpublish"},
    title=N_("Withdraw the report?"),
    question=N_("The group work's report disappears from the event page until it is "
                "published again."),
    button=N_("Yes, withdraw the report"))
ASK = {"plan": PLAN, "unpublish": WITHDRAW}
RETURN = confirm.declare(
    "rooms.return", "/admin/group-work/{slug}/return", back="/admin/group-work/{slug}/live",
    title=N_("Bring everyone back to the plenary?"),
    question=N_("Every room closes now, with its video, and the participants are sent back "
                "to the plenary. Their input is kept."),
    button=N_("Yes, back to the plenary"))
CLOSE = confirm.declare(
    "rooms.close", "/admin/group-work/{slug}/rooms/{room}/close",
    back="/admin/group-work/{slug}/live",
    title=N_("Close this room?"),
    question=N_("The room's participants can no longer write in it, and its video ends. "
                "Its input is kept."),
    button=N_("Yes, close the room"))


async def _staff(request: Request, needed: Role) -> Event:
    event = await event_of(request)
    auth.require(request, await auth.event_roles(request, event), needed)
    return event


async def setup(request: Request) -> Response:
    """Organisers: placement, room size, sections, venue rooms; plan rooms; move people."""
    event = await _staff(request, Role.ORGANISER)
    service = rooms_live(request).service
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        auth.check_csrf(request, str(form.get("csrf_token", "")))
        ask = ASK.get(str(form.get("action", "")))
        asked = confirm.ask(request, form, ask) if ask is not None else None
        if asked is not None:
            return asked
        try:
            await _apply(request, event, {k: str(v) for k, v in form.items()})
            request.session["flash"] = "Saved."
            return RedirectResponse(f"/admin/group-work/{event.slug}{token_query(request)}",
                                    status_code=303)
        except Invalid as exc:
            errors = {"form": exc.message, **exc.fields}
    group = await service.group(event.id)
    async with app_state(request).db() as session:
        items = list(await session.scalars(select(ProgrammeItem).where(
            ProgrammeItem.event_id == event.id, ProgrammeItem.kind == ItemKind.GROUP_WORK)))
    rooms = await service.rooms(event.id) if group is not None else []
    return render(request, "admin/rooms.html", {
        "event": event, "group": group, "rooms": rooms, "items": items, "errors": errors,
        "placements": list(Placement), "flash": request.session.pop("flash", None),
        "token_query": token_query(request),
        "sections_text": "\n".join(localiser(request).gettext(s["title"]) for s in (
            group.sections if group else domain.DEFAULT_SECTIONS)),
    }, status_code=422 if errors else 200)


async def _apply(request: Request, event: Event, form: dict[str, str]) -> None:
    service = rooms_live(request).service
    action = form.get("action", "save")
    if action == "save":
        try:
            size = parse_int(form.get("room_size", "").strip())
            if size is None:
                raise ValueError("room_size")
            placement = Placement(form.get("placement", ""))
        except ValueError:
            raise Invalid("Check the room size and placement.", code="rooms.bad_form",
                          fields={"room_size": "Give a whole number."}) from None
        item = form.get("item_id", "")
        await service.configure(
            event.id, placement=placement, room_size=size,
            sections=parse_sections(form.get("sections", ""), default_sections(request)),
            venue_rooms=form.get("venue_rooms", "").splitlines(),
            item_id=parse_id(item.strip()))
    elif action == "plan":
        await service.plan_rooms(event.id)
    elif action == "move":
        room = parse_id(form.get("room", "").strip())
        if room is None:
            raise Invalid("Choose a room.", code="rooms.bad_form", fields={"room": "Choose a room."})
        await service.move(event.id, form.get("participant", ""), room)
    elif action in ("publish", "unpublish"):
        await service.set_published(event.id, action == "publish")
    else:
        raise Invalid(f"Unknown action {action!r}.", code="rooms.bad_form")


def default_sections(request: Request) -> dict[str, dict[str, str]]:
    """The default sections by their title in the reader's language (the set-up shows them so)."""
    gettext = localiser(request).gettext
    return {gettext(s["title"]): dict(s) for s in domain.DEFAULT_SECTIONS}


def parse_sections(
    text: str, known: Mapping[str, dict[str, str]] | None = None
) -> list[dict[str, str]]:
    """One section title per line; keys are made from the titles. A line that is a `known`
    section's shown title keeps that section (its key, so its notes, and its msgid title)."""
    sections: list[dict[str, str]] = []
    for line in text.splitlines():
        title = line.strip()[:100]
        if not title:
            continue
        key = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or f"s{len(sections)}"
        section = dict((known or {}).get(title) or {"key": key, "title": title})
        if section["key"] not in {s["key"] for s in sections}:
            sections.append(section)
    if not sections:
        raise Invalid("Name at least one section.", code="rooms.no_sections",
                      fields={"sections": "Name at least one section."})
    return sections


async def overview(request: Request) -> Response:
    """Moderators: every room, who is in it and its input as it grows; the controls."""
    event = await _staff(request, Role.MODERATOR)
    service = rooms_live(request).service
    group = await service.group(event.id)
    if group is None:
        raise NotFound("This event has no group work.", code="rooms.no_session")
    person = await participant(request, event)
    return render(request, "admin/rooms_live.html", {
        "event": event, "group": group, "rooms": await service.rooms(event.id),
        "session": await service.session_view(event.id),
        "ws_url": ws_url(request, event, person), "token_query": token_query(request),
    })


async def return_to_plenary(request: Request) -> Response:
    """Moderators: every room closes and everyone goes back to the plenary (once confirmed)."""
    event = await _staff(request, Role.MODERATOR)
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    if (asked := confirm.ask(request, form, RETURN)) is not None:
        return asked
    live = rooms_live(request)
    await live.service.return_to_plenary(event.id)
    for room in await live.service.rooms(event.id):
        await live.video.close_room(room.id)
    return _to_overview(request, event)


async def close_room(request: Request) -> Response:
    """Moderators: one room closes, with its video (once confirmed)."""
    event = await _staff(request, Role.MODERATOR)
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    if (asked := confirm.ask(request, form, CLOSE)) is not None:
        return asked
    live, room = rooms_live(request), request.path_params["room"]
    await live.service.close_room(event.id, room)
    await live.video.close_room(room)
    return _to_overview(request, event)


def _to_overview(request: Request, event: Event) -> Response:
    url = f"/admin/group-work/{event.slug}/live{token_query(request)}"
    return RedirectResponse(url, status_code=303)


async def admin_report(request: Request) -> Response:
    """Organisers: the printable report of every theme, or one theme as Markdown or CSV."""
    event = await _staff(request, Role.ORGANISER)
    reports = await report.build(app_state(request).db, event.id)
    name = request.path_params.get("name")
    if name is None:
        return render(request, "rooms_report.html", {"event": event, "reports": reports,
                                                     "admin": True,
                                                     "token_query": token_query(request)})
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
    Route("/admin/group-work/{slug}", setup, methods=["GET", "POST"], name="rooms_setup"),
    Route("/admin/group-work/{slug}/live", overview, name="rooms_overview"),
    Route("/admin/group-work/{slug}/return", return_to_plenary, methods=["POST"]),
    Route(f"/admin/group-work/{{slug}}/rooms/{id_param('room')}/close", close_room,
          methods=["POST"]),
    Route("/admin/group-work/{slug}/report", admin_report, name="rooms_report"),
    Route("/admin/group-work/{slug}/report/{name}", admin_report),
]
