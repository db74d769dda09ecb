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

import json
from collections.abc import Awaitable, Callable, Mapping
from functools import wraps
from typing import Any

from babel.support import NullTranslations
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live import web
from live.auth import event_roles, require
from live.errors import NotFound
from live.i18n import Localiser
from live.models import Event, Role
from live.models.registration import Registration, Status
from live.registration import export, notify, service
from live.registration.links import api_url, page_url
from live.registration.ratelimit import RateLimiter
from live.registration.rules import N_, Message, Refusal, Refused
from live.registration.texts import layered
from live.registration.validate import parse_changes, parse_submission
from live.settings import Settings

BODY_MAX = 64 * 1024

Handler = Callable[[Request], Awaitable[Response]]


def translations(request: Request) -> Mapping[str, NullTranslations]:
    """The catalogues loaded by the app's lifespan."""
    return request.state.translations  # type: ignore[no-any-return]


def render_with(l10n: Localiser) -> Callable[[Message], str]:
    """Render a refusal message with `l10n`; dates as day and month ("13. desember")."""

    catalogue = layered(l10n.translations, l10n.locale)

    def render(message: Message) -> str:
        pattern = "d. MMMM" if l10n.locale == "nb" else "d MMMM"
        return message.render(catalogue.gettext, lambda d: l10n.date(d, pattern))

    return render


def localised(handler: Handler) -> Handler:
    """Translate refusals into the caller's language before the app's error handler."""

    @wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except Refusal as error:
            error.localise(render_with(web.localiser(request)))
            raise

    return wrapper


def limiter(request: Request) -> RateLimiter:
    """The lifespan's `registration_limiter`, or one per app."""
    found = getattr(request.state, "registration_limiter", None)
    if found is None:
        found = getattr(request.app.state, "registration_limiter", None)
        if found is None:
            found = request.app.state.registration_limiter = RateLimiter()
    assert isinstance(found, RateLimiter)
    return found


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def json_body(request: Request) -> Any:
    """The JSON body, refused with 422 when too big or malformed."""
    body = await request.body()
    if len(body) > BODY_MAX:
        raise Refused("registration.invalid", Message(N_("The request is too large.")))
    try:
        return json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise Refused("registration.invalid", Message(N_("Expected a JSON object."))) from None


async def send(
    settings: Settings, request: Request, mails: list[tuple[str, service.Receipt]]
) -> None:
    """Mail after commit; failures are logged, never undo the write."""
    catalogues = translations(request)
    messages = [notify.compose(kind, receipt, settings, catalogues) for kind, receipt in mails]
    await notify.deliver(notify.mailer_for(settings), messages)


@localised
async def register(request: Request) -> Response:
    """POST /api/events/{slug}/registrations."""
    settings: Settings = request.state.settings
    limiter(request).hit(client_key(request))
    submission = parse_submission(await json_body(request))
    outcome = await service.register(
        request.state.db,
        request.path_params["slug"],
        submission,
        locale=web.localiser(request).locale,
    )
    receipt = outcome.receipt
    await send(settings, request, [(notify.kind_for(receipt), receipt)])
    body: dict[str, Any] = {
        "id": receipt.id,
        "status": str(receipt.status),
        "manage_url": api_url(settings.base_url, receipt.token),
        "page_url": page_url(settings.base_url, receipt.token),
    }
    if receipt.waitlist_position is not None:
        body["waitlist_position"] = receipt.waitlist_position
    return JSONResponse(body, status_code=201)


async def places(request: Request) -> Response:
    """GET /api/events/{slug}/places: what is left, per occurrence and mode."""
    found = await service.availability(request.state.db, request.path_params["slug"])
    return JSONResponse({"places": [p.as_dict() for p in found]})


@localised
async def own(request: Request) -> Response:
    """GET/PATCH/DELETE /api/registrations/{token}: the personal link."""
    settings: Settings = request.state.settings
    token = request.path_params["token"]
    if request.method == "GET":
        receipt = await service.view(request.state.db, token)
        return JSONResponse(receipt.as_dict())
    limiter(request).hit(client_key(request))
    if request.method == "PATCH":
        changes = parse_changes(await json_body(request))
        outcome = await service.change(request.state.db, token, changes)
        kind = "changed"
    else:
        outcome = await service.cancel(request.state.db, token)
        kind = "cancelled"
    await send(
        settings, request, [(kind, outcome.receipt)] + [("promoted", r) for r in outcome.promoted]
    )
    return JSONResponse(outcome.receipt.as_dict())


async def organiser_event(request: Request) -> Event:
    """The event named in the path, once the caller is shown to be its organiser."""
    async with request.state.db() as session:
        event: Event | None = await session.scalar(
            select(Event).where(Event.slug == request.path_params["slug"])
        )
    if event is None:
        raise NotFound("No such event.", code="event.not_found")
    require(request, await event_roles(request, event), Role.ORGANISER)
    return event


def filters(request: Request) -> export.Filters:
    """List filters from the query string."""
    q = request.query_params
    return export.Filters(
        occurrence=q.get("occurrence") or None,
        attendance=q.get("attendance") or None,
        status=q.get("status") or None,
        organisation=q.get("organisation") or None,
        theme=q.get("theme") or None,
        include_cancelled=q.get("cancelled") in ("1", "true"),
    )


async def participants(request: Request) -> Response:
    """GET /api/events/{slug}/registrations[.csv|.xlsx] for organisers."""
    event = await organiser_event(request)
    async with request.state.db() as session:
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


async def participants_csv(request: Request) -> Response:
    """GET /api/events/{slug}/registrations.csv."""
    request.path_params["fmt"] = "csv"
    return await participants(request)


async def participants_xlsx(request: Request) -> Response:
    """GET /api/events/{slug}/registrations.xlsx."""
    request.path_params["fmt"] = "xlsx"
    return await participants(request)


async def registration_counts(request: Request, event: Event) -> dict[int, dict[str, int]]:
    """Confirmed places per occurrence and mode, for the event page (`state.registration_counts`)."""
    async with request.state.db() as session:
        rows = await session.execute(
            select(Registration.occurrence_id, Registration.attendance, func.count())
            .where(Registration.event_id == event.id, Registration.status == Status.CONFIRMED)
            .group_by(Registration.occurrence_id, Registration.attendance)
        )
    result: dict[int, dict[str, int]] = {}
    for occurrence_id, attendance, n in rows:
        result.setdefault(occurrence_id, {})[str(attendance)] = n
    return result


routes: list[Route] = [
    Route("/api/events/{slug}/registrations", register, methods=["POST"]),
    Route("/api/events/{slug}/registrations", participants, methods=["GET"]),
    Route("/api/events/{slug}/registrations.csv", participants_csv, methods=["GET"]),
    Route("/api/events/{slug}/registrations.xlsx", participants_xlsx, methods=["GET"]),
    Route("/api/events/{slug}/places", places, methods=["GET"]),
    Route("/api/registrations/{token}", own, methods=["GET", "PATCH", "DELETE"]),
]
