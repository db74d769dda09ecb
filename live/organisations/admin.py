"""Organiser pages for the review of organisations registrants typed.

    GET  /admin/organisations                  the review list: classify or merge each
    POST /admin/organisations/{id}/classify    kind (and region) -> back to the list
    POST /admin/organisations/{id}/merge       into a known body -> back to the list
    POST /admin/events/{slug}/quota-flags/{id}/dismiss   a flag settled -> the participant list

After either, the quotas are counted again (`live.organisations.review`) and the number of
registrations now beyond a quota is shown; the event's participant list names them.
Site organisers only: organisations are shared by every event.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live.bounds import parse_id
from live.errors import NotFound, SalenError
from live.events.admin import organiser_page, page, posted
from live.models.people import OrganisationKind
from live.organisations import review, service
from live.organisations.api import organisation_id, require_site_organiser
from live.registration.web import organiser_event
from live.state import app_state
from live.web import localiser

LIST = "/admin/organisations"


async def context(request: Request) -> dict[str, Any]:
    """The review list with the registry's names for the merge field, and what each may be."""
    pending = await review.pending(app_state(request).db)
    async with app_state(request).db() as session:
        known = await service.search(session, "", limit=2000)
        index = await service.suggestions_index(session)
    return {"pending": pending, "known": [k.name for k in known],
            "suggested": {p.id: service.suggested(p.name, index) for p in pending},
            "kinds": list(OrganisationKind), "event": None}


@organiser_page
async def review_list(request: Request) -> Response:
    """GET /admin/organisations."""
    await require_site_organiser(request)
    return page(request, "admin/organisations.html", await context(request))


def flagged_message(request: Request, flagged: list[int]) -> str:
    l10n = localiser(request)
    if not flagged:
        return l10n.gettext("Saved. No registration is beyond a quota.")
    return l10n.ngettext(
        "Saved. %(num)s registration is now beyond a quota: see the event's participant list.",
        "Saved. %(num)s registrations are now beyond a quota: see the event's participant list.",
        len(flagged))


async def act(request: Request, action: str) -> Response:
    await require_site_organiser(request)
    form = await posted(request)
    which = organisation_id(request)
    db = app_state(request).db
    try:
        if action == "classify":
            flagged = await review.classify(db, which, form.text("kind") or "",
                                            form.text("region", max_length=120) or "")
        else:
            flagged = await review.merge(db, which, form.text("into", max_length=200) or "")
    except SalenError as error:
        extra = {"errors": {f"{which}.{k}": v for k, v in error.fields.items()},
                 "refusal": error.message}
        return page(request, "admin/organisations.html", await context(request) | extra,
                    status=error.status)
    request.session["flash"] = flagged_message(request, flagged)
    return RedirectResponse(LIST, status_code=303)


@organiser_page
async def classify(request: Request) -> Response:
    """POST /admin/organisations/{id}/classify."""
    return await act(request, "classify")


@organiser_page
async def merge(request: Request) -> Response:
    """POST /admin/organisations/{id}/merge."""
    return await act(request, "merge")


@organiser_page
async def dismiss(request: Request) -> Response:
    """POST /admin/events/{slug}/quota-flags/{id}/dismiss: the organiser settled it."""
    event = await organiser_event(request)
    await posted(request)
    flag = parse_id(request.path_params["id"])
    if flag is None:
        raise NotFound("No such flag.", code="organisation.flag_not_found")
    await review.dismiss(app_state(request).db, event.id, flag)
    return RedirectResponse(f"/admin/events/{event.slug}/registrations", status_code=303)


routes = [
    Route(LIST, review_list, methods=["GET"], name="admin_organisations"),
    Route("/admin/organisations/{id}/classify", classify, methods=["POST"]),
    Route("/admin/organisations/{id}/merge", merge, methods=["POST"]),
    Route("/admin/events/{slug}/quota-flags/{id}/dismiss", dismiss, methods=["POST"]),
]
