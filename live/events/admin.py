"""The event editor under /admin/events: main fields, every part, and the YAML document.

Each form builds a new event document from the current export with one part changed and
saves it with `save_event` in one transaction; invalid input re-renders the form (422)
with the user's values and a message next to each field, and saves nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import msgspec
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import auth, confirm
from live.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from live.events import forms
from live.events.document import EventDoc, dump_event, parse_event_text
from live.events.domain import aware
from live.events.forms import N_
from live.events.parts import PARTS, Part, field_errors, place, without_speaker
from live.events.service import export_event, load_event, save_event
from live.models import EventType, OrganisationKind, Role
from live.routing import segment
from live.state import app_state
from live.web import localiser, render, wants_json

Handler = Callable[[Request], Awaitable[Response]]
SAVED = N_("Saved.")
PART_REMOVE = confirm.declare(
    "event.part.remove", "/admin/events/{slug}/{part}/{key}/delete",
    back="/admin/events/{slug}/{part}/{key}",
    title=N_("Remove it for good?"),
    question=N_("It is removed from the event at once. This cannot be undone."),
    button=N_("Yes, remove it"))
ITEM_REMOVE = confirm.declare(
    "event.item.remove", "/admin/events/{slug}/blocks/{block}/items/{key}/delete",
    back="/admin/events/{slug}/blocks/{block}/items/{key}",
    title=N_("Remove this programme item?"),
    question=N_("It is removed from the programme at once. This cannot be undone."),
    button=N_("Yes, remove it"))


def organiser_page(handler: Handler) -> Handler:
    """Send anonymous people to the login page instead of a bare 401."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except Unauthorized:
            if wants_json(request):
                raise
            target = quote(request.url.path, safe="/")
            return RedirectResponse(f"/admin/login?next={target}", status_code=303)

    return wrapper


async def editable(request: Request) -> EventDoc:
    """The event's document, for organisers of that event only."""
    async with app_state(request).db() as session:
        event = await load_event(session, request.path_params["slug"])
        doc = export_event(event)
    auth.require(request, await auth.event_roles(request, event), Role.ORGANISER)
    return doc


async def posted(request: Request) -> forms.FormReader:
    """The submitted form, after the CSRF check."""
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    return forms.FormReader(form, localiser(request).gettext)


async def save(request: Request, change: Callable[[EventDoc], EventDoc]) -> None:
    """Apply `change` to the current document and save it, all in one transaction."""
    async with app_state(request).db() as session, session.begin():
        event = await load_event(session, request.path_params["slug"])
        await save_event(session, change(export_event(event)),
                         embed_hosts=app_state(request).settings.embed_hosts)


def saved(request: Request, url: str) -> Response:
    """Post/redirect/get, with a confirmation shown on the next page."""
    request.session["flash"] = SAVED
    return RedirectResponse(url, status_code=303)


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """Render an admin page with what every admin template uses."""
    base = {"flash": request.session.pop("flash", None), "errors": {}, "values": {},
            "organisation_kinds": list(OrganisationKind), "aware": aware}
    return render(request, name, base | context, status_code=status)


def section(name: str) -> str:
    """The id of the overview's section that lists a part."""
    return ("blocks" if name == "items" else name) + "-h"


def event_url(slug: str, anchor: str = "") -> str:
    return f"/admin/events/{slug}" + (f"#{anchor}" if anchor else "")


@organiser_page
async def new_event_form(request: Request) -> Response:
    await require_site_organiser(request)
    # A new event starts unpublished: the organiser publishes it when it is ready.
    values = {"published": False, "registration_open": True, "type": EventType.SEMINAR.value}
    return page(request, "admin/event_new.html", {"values": values})


@organiser_page
async def create_event(request: Request) -> Response:
    await require_site_organiser(request)
    r = await posted(request)
    try:
        fields = forms.event_fields(r)
        slug = r.slug("slug", fallback=str(fields["title"] or ""))
        # An event with no occurrences yet: the occurrence parser only reads the slugs taken.
        empty = EventDoc(slug=slug or "x", title="x", occurrences=[])
        first = forms.occurrence(r, None, empty)
        doc = r.build(EventDoc, fields | {"slug": slug, "occurrences": [
            msgspec.to_builtins(first, builtin_types=(dt.datetime,))]})
        async with app_state(request).db() as session, session.begin():
            await save_event(session, doc, create=True,
                             embed_hosts=app_state(request).settings.embed_hosts)
    except Conflict:
        errors = {"slug": localiser(request).gettext("An event with this address exists.")}
        return page(request, "admin/event_new.html",
                    {"values": forms.form_values(r.form), "errors": errors}, 422)
    except Invalid as exc:
        errors = event_errors(exc.fields, "occurrences[0]")
        return page(request, "admin/event_new.html",
                    {"values": forms.form_values(r.form), "errors": errors}, 422)
    return saved(request, event_url(doc.slug))


async def require_site_organiser(request: Request) -> None:
    """Only site organisers (admin users, the admin token) create events."""
    if await auth.site_organiser(request):
        return
    if not auth.identified(request):
        raise Unauthorized(N_("Log in as an organiser to do this."))
    raise Forbidden(N_("Only site organisers may create events."))


def event_errors(fields: dict[str, str], part_prefix: str = "") -> dict[str, str]:
    """Document errors on the main form: top-level fields by name, the rest at the top."""
    result: dict[str, str] = {}
    for path, message in fields.items():
        if path.isidentifier():
            result.setdefault(path, message)
        elif part_prefix and path.startswith(part_prefix + "."):
            result.setdefault(path[len(part_prefix) + 1:], message)
        else:
            result.setdefault(forms.FORM_ERROR, f"{path}: {message}")
    return result


@organiser_page
async def edit_event(request: Request) -> Response:
    doc = await editable(request)
    if request.method == "GET":
        return event_page(request, doc, forms.event_values(doc), {},
                          can_delete=await auth.site_organiser(request))
    r = await posted(request)

    def change(current: EventDoc) -> EventDoc:
        # Publishing has its own buttons (`live.events.manage`): unpublishing asks first.
        fields = forms.event_fields(r) | {"published": current.published}
        data = msgspec.to_builtins(current, builtin_types=(dt.datetime,)) | fields
        return r.build(EventDoc, data)

    try:
        await save(request, change)
    except Invalid as exc:
        return event_page(request, doc, forms.form_values(r.form),
                          event_errors(exc.fields), 422)
    return saved(request, event_url(doc.slug))


def event_page(request: Request, doc: EventDoc, values: dict[str, Any], errors: dict[str, str],
               status: int = 200, *, can_delete: bool = False) -> Response:
    speakers = {s.key: s for s in doc.speakers}
    return page(request, "admin/event_edit.html",
                {"event": doc, "values": values, "errors": errors, "speakers": speakers,
                 "can_delete": can_delete}, status)


def requested_part(request: Request) -> tuple[Part, str]:
    name = request.path_params.get("part", "items")
    if name not in PARTS or ("block" in request.path_params) != (name == "items"):
        raise NotFound(N_("No such part of this event."), code="event.part_not_found")
    return PARTS[name], name


def part_url(slug: str, name: str, params: dict[str, Any], key: str | None) -> str:
    """The editor of one element (key) or the form to add one (None)."""
    base = f"/admin/events/{slug}/"
    if name == "items":
        base += f"blocks/{params['block']}/"
    return base + f"{name}/{key if key is not None else 'new'}"


def part_page(request: Request, doc: EventDoc, index: int | None,
              values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
              status: int = 200) -> Response:
    part, name = requested_part(request)
    params = dict(request.path_params)
    element = None if index is None else part.items(doc, params)[index]
    key = None if element is None else part.key(element, index or 0)
    context = {"event": doc, "part": part, "part_name": name, "element": element,
               "action": part_url(doc.slug, name, params, key), "values": values or {},
               "errors": errors or {}, "block": params.get("block")}
    return page(request, part.template, context, status)


@organiser_page
async def new_part(request: Request) -> Response:
    doc = await editable(request)
    part, _ = requested_part(request)
    defaults = part.defaults(doc, request.path_params)  # 404 for an unknown block
    if request.method == "GET":
        return part_page(request, doc, None, defaults)
    return await store_part(request, doc, part, None)


@organiser_page
async def edit_part(request: Request) -> Response:
    doc = await editable(request)
    part, _ = requested_part(request)
    index = part.find(doc, request.path_params, request.path_params["key"])
    if request.method == "GET":
        element = part.items(doc, request.path_params)[index]
        return part_page(request, doc, index, part.values(element))
    return await store_part(request, doc, part, index)


async def store_part(request: Request, doc: EventDoc, part: Part, index: int | None) -> Response:
    """Parse the form into the element at `index` (None: a new one) and save the event."""
    r = await posted(request)
    params = request.path_params
    key = None if index is None else part.key(part.items(doc, params)[index], index)

    def change(current: EventDoc) -> EventDoc:
        items = part.items(current, params)
        at = None if key is None else part.find(current, params, key)
        element = part.parse(r, None if at is None else items[at], current)
        return part.replace(current, params, place(items, at, element))

    try:
        await save(request, change)
    except forms.FormInvalid as exc:
        return part_page(request, doc, index, forms.form_values(r.form),
                         exc.fields, 422)
    except Invalid as exc:
        target = len(part.items(doc, params)) if index is None else index
        errors = field_errors(exc.fields, part.path(doc, params, target))
        return part_page(request, doc, index, forms.form_values(r.form),
                         errors, 422)
    return saved(request, event_url(doc.slug, section(requested_part(request)[1])))


@organiser_page
async def delete_part(request: Request) -> Response:
    doc = await editable(request)
    part, name = requested_part(request)
    params, key = request.path_params, request.path_params["key"]
    part.find(doc, params, key)
    r = await posted(request)
    ask = ITEM_REMOVE if name == "items" else PART_REMOVE
    if (asked := confirm.ask(request, r.form, ask)) is not None:
        return asked

    def change(current: EventDoc) -> EventDoc:
        items = part.items(current, params)
        items.pop(part.find(current, params, key))
        if name == "speakers":
            current = without_speaker(current, key)
        return part.replace(current, params, items)

    try:
        await save(request, change)
    except Conflict as exc:
        index = part.find(doc, params, key)
        errors = {forms.FORM_ERROR: localiser(request).gettext(exc.message)}
        return part_page(request, doc, index, part.values(part.items(doc, params)[index]),
                         errors, exc.status)
    return saved(request, event_url(doc.slug, section(name)))


@organiser_page
async def yaml_document(request: Request) -> Response:
    doc = await editable(request)
    if request.method == "GET":
        return page(request, "admin/event_yaml.html",
                    {"event": doc, "values": {"document": dump_event(doc)}})
    r = await posted(request)
    text = r.raw("document")
    try:
        new = parse_event_text(text)
        if new.slug != doc.slug:
            message = N_("The address (slug) cannot be changed here.")
            raise Invalid(message, code="event.slug_changed", fields={"slug": message})
        async with app_state(request).db() as session, session.begin():
            await save_event(session, new, embed_hosts=app_state(request).settings.embed_hosts)
    except Invalid as exc:
        gettext = localiser(request).gettext
        problems = [f"{path}: {gettext(text)}" for path, text in exc.fields.items()]
        errors = {"document": "; ".join(problems) or gettext(exc.message)}
        return page(request, "admin/event_yaml.html",
                    {"event": doc, "values": {"document": text}, "errors": errors}, 422)
    return saved(request, event_url(doc.slug))


# "new" is a literal beside the keys: they leave it out, so no two routes overlap.
segment("not_new", besides=["new"])

routes = [
    Route("/admin/events/new", new_event_form, methods=["GET"], name="admin_event_new"),
    Route("/admin/events/new", create_event, methods=["POST"]),
    Route("/admin/events/{slug:not_new}", edit_event, methods=["GET", "POST"], name="admin_event"),
    Route("/admin/events/{slug}/yaml", yaml_document, methods=["GET", "POST"],
          name="admin_event_yaml"),
    Route("/admin/events/{slug}/blocks/{block}/items/new", new_part, methods=["GET", "POST"]),
    Route("/admin/events/{slug}/blocks/{block}/items/{key:not_new}", edit_part,
          methods=["GET", "POST"]),
    Route("/admin/events/{slug}/blocks/{block}/items/{key}/delete", delete_part,
          methods=["POST"]),
    Route("/admin/events/{slug}/{part}/new", new_part, methods=["GET", "POST"]),
    Route("/admin/events/{slug}/{part}/{key:not_new}", edit_part,
          methods=["GET", "POST"]),
    Route("/admin/events/{slug}/{part}/{key}/delete", delete_part, methods=["POST"]),
]
