"""Whole-event actions and reordering in the event editor.

    POST /admin/events/{slug}/publish                       organisers: publish
    POST /admin/events/{slug}/unpublish                     organisers: unpublish (asks first)
    POST /admin/events/{slug}/delete                        site organisers: delete (asks first)
    POST /admin/events/{slug}/{part}/{key}/move             organisers: move up, down or to
    POST /admin/events/{slug}/blocks/{block}/items/{key}/move         a position (ordered parts)

Unpublishing and deleting ask first (`live.confirm`), as removing a part of the event does
(`live.events.admin`).
A move is a plain form (`direction=up|down`, or `position=N` from the drag-and-drop script),
so the keyboard buttons work without JavaScript. An event with recordings is not deleted:
their files would stay on the disk, so the organiser deletes the recordings first.
"""

from __future__ import annotations

import msgspec
from sqlalchemy import delete, func, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import auth, confirm
from live.errors import Conflict, Invalid
from live.events import forms
from live.events.admin import (
    editable,
    event_page,
    event_url,
    organiser_page,
    posted,
    requested_part,
    require_site_organiser,
    save,
    saved,
)
from live.events.document import EventDoc
from live.events.forms import N_
from live.events.service import find_event
from live.models import Event, Recording, Registration
from live.outbox import Ref, forget
from live.state import app_state
from live.web import localiser

UNPUBLISH = confirm.declare(
    "event.unpublish", "/admin/events/{slug}/unpublish", back="/admin/events/{slug}",
    title=N_("Unpublish this event?"),
    question=N_("The event disappears from the front page, and its pages, live stream and "
                "registration answer “not found” to everyone but its organisers and "
                "moderators until it is published again."),
    button=N_("Yes, unpublish"))
DELETE = confirm.declare(
    "event.delete", "/admin/events/{slug}/delete", back="/admin/events/{slug}",
    title=N_("Delete this event?"),
    question=N_("The event is deleted with its programme, registrations, questions and group "
                "work. Nobody is told. This cannot be undone."),
    button=N_("Yes, delete the event"))
PUBLISHED = N_("The event is published.")
UNPUBLISHED = N_("The event is no longer published.")
DELETED = N_("The event was deleted.")
HAS_RECORDINGS = N_("Delete the event's recordings first: their files would stay on the disk.")


async def _set_published(request: Request, published: bool) -> Response:
    doc = await editable(request)
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    if not published and (asked := confirm.ask(request, form, UNPUBLISH)) is not None:
        return asked
    await save(request, lambda current: msgspec.structs.replace(current, published=published))
    request.session["flash"] = PUBLISHED if published else UNPUBLISHED
    return RedirectResponse(event_url(doc.slug, "publishing-h"), status_code=303)


@organiser_page
async def publish(request: Request) -> Response:
    return await _set_published(request, True)


@organiser_page
async def unpublish(request: Request) -> Response:
    return await _set_published(request, False)


@organiser_page
async def delete_event(request: Request) -> Response:
    """Delete the event and everything under it (the database cascades), once confirmed."""
    await require_site_organiser(request)
    doc = await editable(request)
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    if (asked := confirm.ask(request, form, DELETE)) is not None:
        return asked
    try:
        async with app_state(request).db() as session, session.begin():
            event = await find_event(session, doc.slug)
            if await session.scalar(select(func.count()).where(Recording.event_id == event.id)):
                raise Conflict(HAS_RECORDINGS, code="event.has_recordings")
            registrations = await session.scalars(
                select(Registration.id).where(Registration.event_id == event.id))
            for registration in registrations:
                await forget(session, Ref("registration", registration))
            await session.execute(delete(Event).where(Event.id == event.id))
    except Conflict as exc:
        errors = {"form": localiser(request).gettext(exc.message)}
        return event_page(request, doc, forms.event_values(doc), errors, exc.status,
                          can_delete=True)
    request.session["flash"] = DELETED
    return RedirectResponse("/admin", status_code=303)


@organiser_page
async def move_part(request: Request) -> Response:
    """Move an element of an ordered part one up, one down, or to a 1-based position."""
    doc = await editable(request)
    part, name = requested_part(request)
    params, key = request.path_params, request.path_params["key"]
    if not part.ordered:
        raise Invalid(N_("This part of the event has no order."), code="event.not_ordered")
    part.find(doc, params, key)  # 404 for an unknown element
    r = await posted(request)
    direction, position = r.raw("direction"), r.raw("position")
    if direction not in ("up", "down", "") or (not direction and not position.isdigit()):
        raise Invalid(N_("Say where to move it: up, down or a position."), code="event.bad_move")

    def change(current: EventDoc) -> EventDoc:
        items = part.items(current, params)
        at = part.find(current, params, key)
        to = (at - 1 if direction == "up" else at + 1) if direction else int(position) - 1
        items.insert(max(0, min(to, len(items) - 1)), items.pop(at))
        return part.replace(current, params, items)

    await save(request, change)
    return saved(request, event_url(doc.slug, f"{name}-{key}"))  # the element's place


routes = [
    Route("/admin/events/{slug}/publish", publish, methods=["POST"]),
    Route("/admin/events/{slug}/unpublish", unpublish, methods=["POST"]),
    Route("/admin/events/{slug}/delete", delete_event, methods=["POST"]),
    Route("/admin/events/{slug}/blocks/{block}/items/{key}/move", move_part, methods=["POST"]),
    Route("/admin/events/{slug}/{part}/{key}/move", move_part, methods=["POST"]),
]
