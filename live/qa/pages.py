"""Q&A pages: the viewer's live page, the moderators' desk, the big screen, organiser settings.

    GET  /e/{slug}/live                    ask, vote, follow the panel (no account needed)
    GET  /e/{slug}/moderate                moderators: organiser session or ?token=<moderator>
    GET  /e/{slug}/display?key=<display>   the current question and the next few (OBS source)
    GET  /admin/events/{slug}/qa           organiser settings (POST saves them)
    GET  /admin/events/{slug}/qa.csv|.json export with the time of each step

The pages are shells: the questions arrive over `/ws/events/{slug}` (docs/protocol.md) and
are drawn by static/js/qa-*.js. Viewers carry a signed participant identity in the session
cookie (the same key as group work, so one browser is one participant), or a registrant's
identity with their name when they arrive through their personal link (`?r=<token>`).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import auth
from live.errors import Forbidden, Invalid, NotFound, Unauthorized
from live.events.service import load_event
from live.identity import Identities, Participant
from live.models import Event, ProgrammeItem, Role, User
from live.models.qa import QaItemSettings, QaSettings
from live.models.registration import Registration, Status
from live.qa import export
from live.qa.service import Actor, QaService
from live.realtime.protocol import Configure
from live.web import render

# Shared with group work (live/rooms/pages.py): one browser is one participant everywhere.
SESSION_KEY = "salen_participant"
MAX_LENGTH_RANGE = (10, 5000)

Handler = Callable[[Request], Awaitable[Response]]


def _identities(request: Request) -> Identities:
    return Identities(request.state.settings.secret_key)


def _qa(request: Request) -> QaService:
    qa: QaService = request.state.qa
    return qa


def registration_participant(registration: Registration) -> Participant:
    """The identity a registrant's personal link gives: stable id and their name."""
    return Participant(id=f"reg:{registration.id}", name=registration.name)


def live_link(slug: str, registration_token: str) -> str:
    """The viewer page's address for a registrant, carrying their name (for the /r/ page)."""
    return f"/e/{slug}/live?{urlencode({'r': registration_token})}"


async def viewer_identity(request: Request, event: Event) -> Participant:
    """Who this browser is: a registrant (`?r=`), a presented `?p=` token, the session, or new."""
    identities = _identities(request)
    manage = request.query_params.get("r")
    found: Participant | None = None
    if manage:
        async with request.state.db() as session:
            reg = await session.scalar(select(Registration).where(
                Registration.token == manage, Registration.event_id == event.id,
                Registration.status == Status.CONFIRMED))
        found = registration_participant(reg) if reg is not None else None
    found = (found or identities.load(request.query_params.get("p"))
             or identities.load(request.session.get(SESSION_KEY)) or identities.new())
    request.session[SESSION_KEY] = identities.token(found)
    return found


async def _event(request: Request) -> tuple[Event, frozenset[Role]]:
    async with request.state.db() as session:
        event = await load_event(session, request.path_params["slug"])
    roles = await auth.event_roles(request, event)
    if not event.published and Role.MODERATOR not in roles:
        raise NotFound("No event with that address.", code="event.not_found")
    await _qa(request).ensure(event.id)
    return event, roles


def _items(event: Event) -> list[ProgrammeItem]:
    return [item for block in event.blocks for item in block.items]


def _item_options(event: Event) -> list[dict[str, Any]]:
    return [{"id": item.id, "title": item.title} for item in _items(event)]


def login_redirect(handler: Handler) -> Handler:
    """Send people who presented nothing to the login page instead of a bare 401."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except Unauthorized:
            target = quote(request.url.path, safe="/")
            return RedirectResponse(f"/admin/login?next={target}", status_code=303)

    return wrapper


# --- viewers -------------------------------------------------------------------------------


async def viewer_page(request: Request) -> Response:
    """Ask, vote and follow the panel beside the stream; phone-first."""
    event, _ = await _event(request)
    person = await viewer_identity(request, event)
    return render(request, "qa/live.html", {
        "event": event, "person": person, "items": _item_options(event),
        "participant_token": _identities(request).token(person),
    })


# --- moderators ------------------------------------------------------------------------------


async def _moderator_name(request: Request) -> str:
    async with request.state.db() as session:
        user = await auth.current_user(request, session)
    if user is not None:
        return user.name or user.email
    return request.query_params.get("name", "").strip()[:80]


@login_redirect
async def moderator_page(request: Request) -> Response:
    """The moderators' desk: incoming questions, the panel queue, questions from the floor."""
    event, roles = await _event(request)
    auth.require(request, roles, Role.MODERATOR)
    identities = _identities(request)
    current = identities.load(request.session.get(SESSION_KEY)) or identities.new()
    name = await _moderator_name(request) or current.name
    person = Participant(id=current.id, name=name)
    request.session[SESSION_KEY] = identities.token(person)
    return render(request, "qa/moderate.html", {
        "event": event, "person": person, "items": _item_options(event),
        "participant_token": identities.token(person),
        "token": request.query_params.get("token", ""),
    })


# --- the big screen ----------------------------------------------------------------------------


async def display_page(request: Request) -> Response:
    """The current question and the next few in large type, opened with the display key."""
    async with request.state.db() as session:
        event = await load_event(session, request.path_params["slug"])
    key = request.query_params.get("key", "")
    if not (key and hmac.compare_digest(key.encode(), event.display_token.encode())):
        raise Forbidden("This display link is not valid.", code="qa.bad_display_key")
    await _qa(request).ensure(event.id)
    return render(request, "qa/display.html", {
        "event": event, "key": key, "overlay": request.query_params.get("overlay") == "1",
        "count": _int(request.query_params.get("next"), 3, 0, 10),
    })


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value))) if value is not None else default
    except ValueError:
        return default


# --- organisers ----------------------------------------------------------------------------


async def _organiser(request: Request) -> Event:
    event, roles = await _event(request)
    auth.require(request, roles, Role.ORGANISER)
    return event


async def _settings_rows(request: Request, event: Event) -> tuple[QaSettings, set[int]]:
    async with request.state.db() as session:
        state = await session.get(QaSettings, event.id)
        closed = set(await session.scalars(select(QaItemSettings.item_id).where(
            QaItemSettings.event_id == event.id, QaItemSettings.open.is_(False))))
    assert state is not None
    return state, closed


def _token_query(request: Request) -> str:
    token = request.query_params.get("token")
    return f"?{urlencode({'token': token})}" if token else ""


@login_redirect
async def settings_page(request: Request) -> Response:
    """Pre-moderation, anonymous questions, maximum length, open or closed per item; links."""
    event = await _organiser(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {k: str(v) for k, v in (await request.form()).items()}
        auth.check_csrf(request, form.get("csrf_token"))
        try:
            await _save_settings(request, event, form)
            request.session["flash"] = "Saved."
            return RedirectResponse(f"/admin/events/{event.slug}/qa{_token_query(request)}",
                                    status_code=303)
        except Invalid as exc:
            errors = dict(exc.fields)
    state, closed = await _settings_rows(request, event)
    return render(request, "admin/qa.html", {
        "event": event, "state": state, "closed": closed, "items": _items(event),
        "errors": errors, "flash": request.session.pop("flash", None),
        "token_query": _token_query(request), "limits": MAX_LENGTH_RANGE,
        "base_url": request.state.settings.base_url.rstrip("/"),
    }, status_code=422 if errors else 200)


async def _save_settings(request: Request, event: Event, form: dict[str, str]) -> None:
    low, high = MAX_LENGTH_RANGE
    try:
        max_length = int(form.get("max_length", ""))
    except ValueError:
        max_length = -1
    if not low <= max_length <= high:
        # The same text as message and field error, so that extraction finds the field's.
        raise Invalid("Give a number from 10 to 5000.", code="invalid",
                      fields={"max_length": "Give a number from 10 to 5000."})
    actor = await _organiser_actor(request)
    qa = _qa(request)
    await qa.configure(event.id, actor, Configure(
        id=0, premoderation="premoderation" in form, anonymous="anonymous" in form,
        max_length=max_length, open="open" in form))
    _, closed = await _settings_rows(request, event)
    for item in _items(event):
        wanted_open = f"item_{item.id}" in form
        if wanted_open == (item.id in closed):
            await qa.configure(event.id, actor, Configure(id=0, item=item.id, open=wanted_open))


async def _organiser_actor(request: Request) -> Actor:
    async with request.state.db() as session:
        user: User | None = await auth.current_user(request, session)
    label = (user.name or user.email) if user is not None else "organiser"
    return Actor(_identities(request).new(label), moderator=True, label=label)


@login_redirect
async def export_download(request: Request) -> Response:
    """Every question with the time it was asked, approved, put on air and answered."""
    event = await _organiser(request)
    fmt = request.path_params["format"]
    if fmt not in ("csv", "json"):
        raise NotFound("No such export.", code="qa.no_export")
    rows = await export.export_rows(request.state.db, event.id)
    filename = f"{event.slug}-questions.{fmt}"
    headers = {"content-disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        return Response(export.to_csv(rows), media_type="text/csv; charset=utf-8",
                        headers=headers)
    return Response(export.to_json(rows), media_type="application/json", headers=headers)


routes = [
    Route("/e/{slug}/live", viewer_page, methods=["GET"], name="qa_live"),
    Route("/e/{slug}/moderate", moderator_page, methods=["GET"], name="qa_moderate"),
    Route("/e/{slug}/display", display_page, methods=["GET"], name="qa_display"),
    Route("/admin/events/{slug}/qa", settings_page, methods=["GET", "POST"], name="admin_qa"),
    Route("/admin/events/{slug}/qa.{format:str}", export_download, methods=["GET"],
          name="admin_qa_export"),
]
