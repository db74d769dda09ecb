"""HTTP API for organisations: the registry search (public) and the organisers' review.

    GET  /api/organisations?q=TEXT[&event=SLUG]    registry bodies matching TEXT (public);
                                                   with an event: the date suggested for each
    GET  /api/organisations/review                 unknown organisations to review (site organisers)
    POST /api/organisations/{id}/classify          {kind, region?} -> {flagged: [registration ids]}
    POST /api/organisations/{id}/merge             {into} -> {flagged: [...]}
    GET  /api/events/{slug}/quota-flags            registrations beyond a quota after a review
    DELETE /api/events/{slug}/quota-flags/{id}     the organiser has settled one (organisers)

The search lists only the registry and organisations organisers reviewed: never names other
registrants typed. Refusals are `{code, message, fields}` through the app's error handler.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live import auth
from live.bounds import parse_id
from live.errors import Forbidden, Invalid, NotFound, Unauthorized
from live.openapi import operation
from live.organisations import review, service
from live.organisations.dates import suggested_occurrence
from live.registration.api import json_body
from live.registration.web import organiser_event
from live.state import app_state

QUERY_MAX = 200


async def require_site_organiser(request: Request) -> None:
    """Organisations are shared by every event: only site organisers review them."""
    if await auth.site_organiser(request):
        return
    if not auth.identified(request):
        raise Unauthorized("Log in as an organiser to do this.")
    raise Forbidden("Only site organisers may review organisations.")


def organisation_id(request: Request) -> int:
    found = parse_id(request.path_params["id"])
    if found is None:
        raise NotFound("No such organisation to review.", code="organisation.not_found")
    return found


@operation(
    "Search the registry of public bodies",
    "By name, former name or organisation number; at most 20. With `event`, each body's "
    "suggested date (the occurrence whose regions include the body's region).",
    responses={"200": "{organisations: [{id, name, kind, region, orgnr, occurrence?}]}"},
    tag="organisations",
)
async def search(request: Request) -> Response:
    """GET /api/organisations?q=TEXT."""
    query = request.query_params.get("q", "")[:QUERY_MAX]
    slug = request.query_params.get("event")
    async with app_state(request).db() as session:
        found = await service.search(session, query)
        listed: list[dict[str, Any]] = []
        for body in found:
            entry = body.as_dict()
            if slug:
                occurrence = await suggested_occurrence(session, slug, body.region)
                entry["occurrence"] = occurrence.slug if occurrence else None
            listed.append(entry)
    return JSONResponse({"organisations": listed})


@operation("Organisations to review (site organisers)",
           "Names registrants typed that the registry did not know.",
           responses={"200": "{organisations: [{id, name, registrations}]}",
                      "401": "Not logged in", "403": "Not a site organiser"},
           tag="organisations")
async def pending(request: Request) -> Response:
    """GET /api/organisations/review."""
    await require_site_organiser(request)
    found = await review.pending(app_state(request).db)
    return JSONResponse({"organisations": [p.as_dict() for p in found]},
                        headers={"Cache-Control": "no-store"})


def _text(body: Any, key: str) -> str:
    value = body.get(key, "") if isinstance(body, dict) else None
    if not isinstance(value, str):
        raise Invalid("Some fields need attention.", code="organisation.invalid",
                      fields={key: "Must be text."})
    return value


@operation("Classify an organisation (site organisers)",
           "Sets its kind and region; quotas are counted again and registrations now beyond "
           "one are flagged, never cancelled.",
           body={"type": "object", "required": ["kind"],
                 "properties": {"kind": {"type": "string"}, "region": {"type": "string"}}},
           responses={"200": "{flagged: [registration ids]}", "404": "Not to review",
                      "422": "organisation.invalid"},
           tag="organisations")
async def classify(request: Request) -> Response:
    """POST /api/organisations/{id}/classify."""
    await require_site_organiser(request)
    body = await json_body(request)
    flagged = await review.classify(app_state(request).db, organisation_id(request),
                                    _text(body, "kind"), _text(body, "region"))
    return JSONResponse({"flagged": flagged})


@operation("Merge an organisation into a known one (site organisers)",
           "Its registrations and name move to the known body; quotas are counted again and "
           "registrations now beyond one are flagged, never cancelled.",
           body={"type": "object", "required": ["into"],
                 "properties": {"into": {"type": "string"}}},
           responses={"200": "{flagged: [registration ids]}", "404": "Not to review",
                      "422": "organisation.invalid"},
           tag="organisations")
async def merge(request: Request) -> Response:
    """POST /api/organisations/{id}/merge."""
    await require_site_organiser(request)
    body = await json_body(request)
    flagged = await review.merge(app_state(request).db, organisation_id(request),
                                 _text(body, "into"))
    return JSONResponse({"flagged": flagged})


@operation("Registrations beyond a quota (organisers)",
           "Flagged after an organisation was classified or merged; for the organiser to settle.",
           responses={"200": "{flags: [{id, registration, name, subject, used, limit}]}"},
           tag="organisations")
async def flags(request: Request) -> Response:
    """GET /api/events/{slug}/quota-flags."""
    event = await organiser_event(request)
    found = await review.flags(app_state(request).db, event.id)
    return JSONResponse({"flags": [f.as_dict() for f in found]},
                        headers={"Cache-Control": "no-store"})


@operation("Settle a flagged registration (organisers)",
           "Removes the flag; the registration itself is left as it is.",
           responses={"204": "Removed", "404": "No such flag"}, tag="organisations")
async def dismiss_flag(request: Request) -> Response:
    """DELETE /api/events/{slug}/quota-flags/{id}."""
    event = await organiser_event(request, write=True)
    flag = parse_id(request.path_params["id"])
    if flag is None:
        raise NotFound("No such flag.", code="organisation.flag_not_found")
    await review.dismiss(app_state(request).db, event.id, flag)
    return Response(status_code=204)


routes = [
    Route("/api/organisations", search, methods=["GET"]),
    Route("/api/organisations/review", pending, methods=["GET"]),
    Route("/api/organisations/{id}/classify", classify, methods=["POST"]),
    Route("/api/organisations/{id}/merge", merge, methods=["POST"]),
    Route("/api/events/{slug}/quota-flags", flags, methods=["GET"]),
    Route("/api/events/{slug}/quota-flags/{id}", dismiss_flag, methods=["DELETE"]),
]
