"""HTTP helpers shared by the registration API, pages and organiser pages.

Refusals are translated into the caller's language (`localised`, `render_with`), mail goes
out after the commit (`send`), and organiser requests are checked once (`organiser_event`).
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
from live.registration import export, notify, service
from live.registration.ratelimit import RateLimiter
from live.registration.rules import Message, Refusal
from live.settings import Settings

Handler = Callable[[Request], Awaitable[Response]]


def translations(request: Request) -> Mapping[str, NullTranslations]:
    """The catalogues loaded by the app's lifespan."""
    return request.state.translations  # type: ignore[no-any-return]


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


async def send(
    settings: Settings, request: Request, mails: list[tuple[str, service.Receipt]]
) -> None:
    """Mail after commit; failures are logged, never undo the write."""
    catalogues = translations(request)
    messages = [notify.compose(kind, receipt, settings, catalogues) for kind, receipt in mails]
    await notify.deliver(notify.mailer_for(settings), messages)


async def organiser_event(request: Request, *, write: bool = False) -> Event:
    """The event named in the path, once the caller is shown to be its organiser."""
    async with request.state.db() as session:
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
