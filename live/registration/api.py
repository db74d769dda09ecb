"""HTTP API for registration: register, the personal link, and organisers' participant lists.

    POST   /api/events/{slug}/registrations        register -> 201 {id, status, waitlist_position?, manage_url, page_url}
    GET    /api/events/{slug}/places               places left per occurrence and mode (public)
    GET    /api/events/{slug}/registrations        participant list and counts (organisers)
    GET    /api/events/{slug}/registrations.csv    the same as CSV (organisers)
    GET    /api/events/{slug}/registrations.xlsx   the same as Excel (organisers)
    GET    /api/registrations/{token}              the registrant's own data
    PATCH  /api/registrations/{token}              change occurrence, attendance, theme, diet
    DELETE /api/registrations/{token}              cancel (the first on the waitlist moves up)

Refusals raise `live.errors` subclasses; the app's one error handler turns them into
`{code, message, fields}`. Messages of refusals are translated here, in the caller's language.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live import web
from live.bounds import TEXT_MESSAGE, TextError, loads, parse_id
from live.errors import NotFound
from live.links import page_base
from live.openapi import operation
from live.registration import export, notify, service
from live.registration.links import api_url, page_url
from live.registration.places import availability
from live.registration.rules import N_, Message, Refused
from live.registration.validate import parse_changes, parse_submission
from live.registration.web import (
    client_key,
    filters,
    limiter,
    localised,
    mailing,
    organiser_event,
    reachable,
)
from live.state import app_state

BODY_MAX = 64 * 1024


REGISTRATION_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["occurrence", "attendance", "name", "email", "organisation"],
    "properties": {
        "occurrence": {"type": ["integer", "string"], "description": "Occurrence id or slug"},
        "attendance": {"enum": ["in_person", "online"]},
        "name": {"type": "string", "maxLength": 200},
        "email": {
            "type": "string",
            "format": "idn-email",
            "maxLength": 254,
            "description": "Internationalised domains are welcome (ola@ærø.no); letters outside "
            "ASCII before the @ only when the mail server offers SMTPUTF8, else a field error",
        },
        "organisation": {
            "type": "string",
            "maxLength": 200,
            "description": "Name or organisation number; matched to the registry of public "
            "bodies (case, spacing, suffix variants such as fylke/FK, former names). Ambiguous "
            "or merely close names are refused with registration.organisation_unclear and the "
            "names to choose from, unless organisation_as_typed",
        },
        "organisation_as_typed": {
            "type": "boolean",
            "description": "Keep the name as typed: an unknown organisation goes to the "
            "organisers' review list",
        },
        "job_title": {"type": "string", "maxLength": 200},
        "theme": {
            "type": ["integer", "string"],
            "description": "Theme id or slug; required when the event has themes",
        },
        "diet": {"type": "string", "maxLength": 500, "description": "Kept when food is served"},
        "answers": {"type": "object", "description": "Answers keyed by the organiser's questions"},
    },
}
CHANGE_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        key: REGISTRATION_BODY["properties"][key]
        for key in ("occurrence", "attendance", "theme", "diet")
    },
}
REFUSALS = (
    "Refused: registration.invalid (with fields), registration.closed, "
    "registration.deadline_passed, registration.quota_exceeded, "
    "registration.mode_unavailable, registration.full, registration.organisation_unclear"
)


async def json_body(request: Request) -> Any:
    """The JSON body, refused with 422 when too big, malformed or out of `live.bounds`."""
    body = await request.body()
    if len(body) > BODY_MAX:
        raise Refused("registration.invalid", Message(N_("The request is too large.")))
    try:
        return loads(body or b"null")
    except TextError as exc:
        fields = {key: Message(text) for key, text in exc.fields.items()}
        raise Refused("registration.invalid", Message(TEXT_MESSAGE), fields) from None
    except ValueError:  # also UnicodeDecodeError
        raise Refused("registration.invalid", Message(N_("Expected a JSON object."))) from None


def created_body(base: str, receipt: service.Receipt) -> dict[str, Any]:
    """The 201 body: id, status, waitlist position when waiting, and the personal links
    (under `base`, `live.links.page_base`)."""
    body: dict[str, Any] = {
        "id": receipt.id,
        "status": str(receipt.status),
        "manage_url": api_url(base, receipt.token),
        "page_url": page_url(base, receipt.token),
    }
    if receipt.waitlist_position is not None:
        body["waitlist_position"] = receipt.waitlist_position
    return body


@operation(
    "Register for an event",
    "Confirmed while places are free, else waitlisted with a position; refused with a code. "
    "A quota counts the organisation's confirmed and waitlisted registrations on the whole "
    "event, and refuses past it. Organisers add by hand with `?as=organiser` (no deadline "
    "or closed check). Rate-limited per client address.",
    body=REGISTRATION_BODY,
    responses={
        "201": "Registered: {id, status, waitlist_position?, manage_url, page_url}",
        "404": "No such event",
        "409": "registration.duplicate: the e-mail is already registered",
        "422": REFUSALS,
        "429": "registration.rate_limited",
    },
    tag="registration",
)
@localised
async def register(request: Request) -> Response:
    """POST /api/events/{slug}/registrations (`?as=organiser` to add by hand)."""
    by_organiser = request.query_params.get("as") == "organiser"
    if by_organiser:
        await organiser_event(request, write=True)
    else:
        await limiter(request).hit(client_key(request))
    submission = await reachable(request, parse_submission(await json_body(request)))
    mail = mailing(request)
    outcome = await service.register(
        app_state(request).db,
        request.path_params["slug"],
        submission,
        locale=web.localiser(request).locale,
        by_organiser=by_organiser,
        after=mail,
    )
    await mail.send()
    app_state(request).metrics.registered(outcome.receipt.event_slug, str(outcome.receipt.status))
    return JSONResponse(created_body(page_base(request), outcome.receipt), status_code=201)


@operation(
    "Places left",
    "Per occurrence and mode: offered, open, capacity, places left, waiting.",
    tag="registration",
)
async def places(request: Request) -> Response:
    """GET /api/events/{slug}/places: what is left, per occurrence and mode."""
    found = await availability(app_state(request).db, request.path_params["slug"])
    return JSONResponse({"places": [p.as_dict() for p in found]})


async def reply(request: Request, mail: notify.Mailing, outcome: service.Outcome) -> Response:
    """Send the write's mail (registrant and anybody promoted), then answer with its data."""
    await mail.send()
    return JSONResponse(outcome.receipt.as_dict())


@operation(
    "See one's registration",
    "Through the secret personal link.",
    responses={"200": "The registration", "404": "Unknown or cancelled"},
    tag="registration",
)
@localised
async def view_own(request: Request) -> Response:
    """GET /api/registrations/{token}: the registrant's own data."""
    receipt = await service.view(app_state(request).db, request.path_params["token"])
    return JSONResponse(receipt.as_dict(), headers={"Cache-Control": "no-store"})


@operation(
    "Change one's registration",
    "Occurrence, attendance, theme, diet. A confirmed place moves only into a free one "
    "(else registration.full); the place left goes to the first on the waitlist.",
    body=CHANGE_BODY,
    responses={"200": "Changed", "404": "Unknown or cancelled", "422": REFUSALS},
    tag="registration",
)
@localised
async def change_own(request: Request) -> Response:
    """PATCH /api/registrations/{token}: change occurrence, attendance, theme or diet."""
    await limiter(request).hit(client_key(request))
    changes = parse_changes(await json_body(request))
    token = request.path_params["token"]
    mail = mailing(request, "changed")
    outcome = await service.change(app_state(request).db, token, changes, after=mail)
    return await reply(request, mail, outcome)


@operation(
    "Cancel one's registration",
    "The first on the waitlist is promoted and mailed.",
    responses={"200": "Cancelled", "404": "Unknown or already cancelled"},
    tag="registration",
)
@localised
async def cancel_own(request: Request) -> Response:
    """DELETE /api/registrations/{token}: cancel; the first on the waitlist moves up."""
    await limiter(request).hit(client_key(request))
    mail = mailing(request, "cancelled")
    outcome = await service.cancel(app_state(request).db, request.path_params["token"], after=mail)
    return await reply(request, mail, outcome)


def by_id(request: Request) -> service.ById:
    """The organiser's handle from the path; a non-number is simply not found."""
    number = parse_id(request.path_params["id"])
    if number is None:
        raise NotFound("No such registration.", code="registration.not_found")
    return service.ById(request.path_params["slug"], number)


@operation(
    "Move or confirm a registration by hand (organisers)",
    "As the personal change, without deadline checks; `status: confirmed` confirms a "
    "waitlisted registration even beyond capacity.",
    body=CHANGE_BODY
    | {"properties": CHANGE_BODY["properties"] | {"status": {"enum": ["confirmed"]}}},
    responses={"200": "Changed", "403": "Not organiser", "404": "Unknown", "422": REFUSALS},
    tag="registration",
)
@localised
async def change_by_organiser(request: Request) -> Response:
    """PATCH /api/events/{slug}/registrations/{id}: move or confirm by hand."""
    await organiser_event(request, write=True)
    changes = parse_changes(await json_body(request), by_organiser=True)
    mail = mailing(request, "changed")
    outcome = await service.change(app_state(request).db, by_id(request), changes, after=mail)
    return await reply(request, mail, outcome)


@operation(
    "Remove a registration by hand (organisers)",
    "The waitlist moves up.",
    responses={"200": "Cancelled", "403": "Not organiser", "404": "Unknown"},
    tag="registration",
)
@localised
async def cancel_by_organiser(request: Request) -> Response:
    """DELETE /api/events/{slug}/registrations/{id}: remove by hand."""
    await organiser_event(request, write=True)
    mail = mailing(request, "cancelled")
    outcome = await service.cancel(app_state(request).db, by_id(request), after=mail)
    return await reply(request, mail, outcome)


@operation(
    "Participant list (organisers)",
    "Filters: occurrence, attendance, status, organisation, theme, cancelled=1. "
    "Counts per occurrence, mode, status, organisation, theme and diet. "
    "Also as .csv and .xlsx.",
    responses={"200": "{registrations, counts}", "401": "Not logged in", "403": "Not organiser"},
    tag="registration",
)
async def participants(request: Request) -> Response:
    """GET /api/events/{slug}/registrations[.csv|.xlsx] for organisers."""
    event = await organiser_event(request)
    async with app_state(request).db() as session:
        rows, answers = await export.participant_rows(session, event.id, filters(request))
    questions = event.registration_questions or []
    fmt = request.path_params.get("fmt", "")
    headers = {"Cache-Control": "no-store"}
    if fmt == "csv":
        headers["Content-Disposition"] = f'attachment; filename="{event.slug}-participants.csv"'
        return Response(
            export.to_csv(rows, answers, questions),
            headers=headers,
            media_type="text/csv; charset=utf-8",
        )
    if fmt == "xlsx":
        headers["Content-Disposition"] = f'attachment; filename="{event.slug}-participants.xlsx"'
        return Response(
            export.to_xlsx(rows, answers, questions),
            headers=headers,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    listed = [row.as_dict() | {"answers": given} for row, given in zip(rows, answers, strict=True)]
    return JSONResponse({"registrations": listed, "counts": export.counts(rows)}, headers=headers)


@operation(
    "Participant list as CSV (organisers)", responses={"200": "text/csv"}, tag="registration"
)
async def participants_csv(request: Request) -> Response:
    """GET /api/events/{slug}/registrations.csv."""
    request.path_params["fmt"] = "csv"
    return await participants(request)


@operation("Participant list as Excel (organisers)", responses={"200": "xlsx"}, tag="registration")
async def participants_xlsx(request: Request) -> Response:
    """GET /api/events/{slug}/registrations.xlsx."""
    request.path_params["fmt"] = "xlsx"
    return await participants(request)


routes: list[Route] = [
    Route("/api/events/{slug}/registrations", register, methods=["POST"]),
    Route("/api/events/{slug}/registrations", participants, methods=["GET"]),
    Route("/api/events/{slug}/registrations.csv", participants_csv, methods=["GET"]),
    Route("/api/events/{slug}/registrations.xlsx", participants_xlsx, methods=["GET"]),
    Route("/api/events/{slug}/registrations/{id}", change_by_organiser, methods=["PATCH"]),
    Route("/api/events/{slug}/registrations/{id}", cancel_by_organiser, methods=["DELETE"]),
    Route("/api/events/{slug}/places", places, methods=["GET"]),
    Route("/api/registrations/{token}", view_own, methods=["GET"]),
    Route("/api/registrations/{token}", change_own, methods=["PATCH"]),
    Route("/api/registrations/{token}", cancel_own, methods=["DELETE"]),
]
