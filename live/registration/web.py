"""HTTP helpers shared by the registration API, pages and organiser pages.

Refusals are translated into the caller's language (`localised`, `render_with`), mail is
queued in the write's transaction and sent after commit (`mailing`, `reachable`), and
organiser requests are checked once (`organiser_event`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import wraps

from babel.support import NullTranslations
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from live import web
from live.auth import check_csrf, event_roles, presented_token, require
from live.errors import NotFound
from live.i18n import Localiser
from live.models import Event, Role
from live.outbox import Outbox, outbox_for
from live.registration import export, notify
from live.registration.ratelimit import RateLimiter
from live.registration.rules import Message, Refusal
from live.registration.validate import Submission, check_reachable
from live.state import app_state

Handler = Callable[[Request], Awaitable[Response]]


def translations(request: Request) -> Mapping[str, NullTranslations]:
    """The catalogues loaded by the app's lifespan."""
    return app_state(request).translations


def render_with(l10n: Localiser) -> Callable[[Message], str]:
    """Render a refusal message with `l10n`; dates as day and month ("13. desember")."""

    def render(message: Message) -> str:
        pattern = "d. MMMM" if l10n.locale == "nb" else "d MMMM"
        return message.render(l10n.translations.gettext, lambda d: l10n.date(d, pattern))

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


def outbox_of(request: Request) -> Outbox:
    """The lifespan's outbox, or one per app (bare test apps run no lifespan)."""
    found = getattr(request.state, "outbox", None)
    if found is None:
        found = getattr(request.app.state, "outbox", None)
        if found is None:
            found = request.app.state.outbox = outbox_for(app_state(request).settings, app_state(request).db)
    assert isinstance(found, Outbox)
    return found


def mailing(request: Request, kind: str = "new", *, registrant: bool = True) -> notify.Mailing:
    """Mail for a write: pass it as the service's `after`, then `await it.send()` after commit.

    `kind` is the registrant's mail ("new": the confirmation that fits); everybody promoted
    is mailed too. Nothing is sent for a write that was refused or rolled back.
    """
    pick = notify.mails_for(kind, registrant=registrant)
    return notify.Mailing(outbox_of(request), app_state(request).settings, translations(request), pick)


async def reachable(request: Request, submission: Submission) -> Submission:
    """Refuse an address the mail server cannot deliver to, before anything is saved."""
    if not submission.email.split("@", 1)[0].isascii():
        check_reachable(submission, smtputf8=await outbox_of(request).smtputf8())
    return submission


async def organiser_event(request: Request, *, write: bool = False) -> Event:
    """The event named in the path, once the caller is shown to be its organiser."""
    async with app_state(request).db() as session:
        event: Event | None = await session.scalar(
            select(Event).where(Event.slug == request.path_params["slug"])
        )
    if event is None:
        raise NotFound("No such event.", code="event.not_found")
    require(request, await event_roles(request, event), Role.ORGANISER)
    if write and not presented_token(request):
        # Cookie-authenticated writes need the CSRF header; token-authenticated ones do not.
        check_csrf(request, request.headers.get("x-csrf-token"))
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
