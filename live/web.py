"""The HTTP edge: templates, per-request language, security headers, and errors to responses.

`error_response` is the one place errors become replies; an error nothing foresaw becomes a
500 `internal` through `unforeseen_response` (used by `live.guard.Unforeseen`), logged once
per kind a minute rather than once per request; a database that is locked or unreachable
becomes 503 `unavailable` with `Retry-After` there.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from live import bounds
from live.auth import csrf_token
from live.db import is_unavailable
from live.errors import Invalid, SalenError, Unauthorized, database_unavailable
from live.i18n import Localiser, pick_locale
from live.routing import first_segment
from live.state import app_state
from live.unforeseen import UnforeseenLog

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
LANG_COOKIE = "salen_lang"

Handler = Callable[[Request], Awaitable[Response]]

_unforeseen = UnforeseenLog(logging.getLogger(__name__))


def localiser(conn: HTTPConnection) -> Localiser:
    """The request's language (query, then cookie, then default) and the display time zone."""
    cached: Localiser | None = conn.scope.get("salen.localiser")
    if cached is not None:
        return cached
    settings = app_state(conn).settings
    scope = conn.scope  # most requests carry neither a query nor a cookie: skip parsing them
    locale = pick_locale(
        conn.query_params.get("lang") if scope.get("query_string") else None,
        conn.cookies.get(LANG_COOKIE) if any(k == b"cookie" for k, _ in scope["headers"]) else None,
        settings.default_locale,
    )
    result = Localiser(locale, app_state(conn).translations[locale], ZoneInfo(settings.timezone))
    conn.scope["salen.localiser"] = result
    return result


def _context(request: Request) -> dict[str, Any]:
    loc = localiser(request)
    return {
        "_": loc.gettext,
        "gettext": loc.gettext,
        "ngettext": loc.ngettext,
        "fmt": loc,
        "lang": loc.locale,
        "csrf_token": lambda: csrf_token(request),
        "field_labels": {},  # filled by the form macros, read by the error summaries
    }


def create_templates(
    extra_dirs: list[Path] | None = None, helpers: Mapping[str, Any] | None = None
) -> Jinja2Templates:
    """The page templates; `helpers` become template globals (features' lookups, such as
    `live.confirm.confirmation`, handed in from above so that this module imports no feature)."""
    env = Environment(
        loader=FileSystemLoader([str(d) for d in [*(extra_dirs or []), TEMPLATES_DIR]]),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
    templates = Jinja2Templates(env=env, context_processors=[_context])
    templates.env.globals.update(helpers or {})
    templates.env.policies["ext.i18n.trimmed"] = True
    return templates


def render(
    request: Request, name: str, context: Mapping[str, Any] | None = None, status_code: int = 200
) -> Response:
    templates: Jinja2Templates = app_state(request).templates
    return templates.TemplateResponse(request, name, dict(context or {}), status_code=status_code)


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


def token_query(request: Request) -> str:
    """`?token=...` again when the page was opened with a role link's token, else ''."""
    token = request.query_params.get("token")
    return f"?{urlencode({'token': token})}" if token else ""


def wants_json(conn: HTTPConnection) -> bool:
    path = conn.url.path
    if path.startswith(("/api/", "/whip/", "/whep/")):
        return True
    accept = conn.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(request: Request, exc: Exception) -> Response:
    """The one place where errors become replies: JSON for APIs, a page for people."""
    if isinstance(exc, HTTPException):
        exc = _from_http(exc)
    assert isinstance(exc, SalenError)
    loc = localiser(request)
    message = loc.gettext(exc.message)
    fields = {k: loc.gettext(v) for k, v in exc.fields.items()}
    if wants_json(request):
        body: dict[str, Any] = {"code": exc.code, "message": message}
        if fields:
            body["fields"] = fields
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)
    context = {"error": exc, "message": message, "fields": fields}
    response = render(request, "error.html", context, status_code=exc.status)
    response.headers.update(exc.headers)
    return response


def log_unforeseen(request: Request, exc: Exception) -> None:
    """Log an error no handler foresaw: once per kind a minute (`live.unforeseen`).

    Names the endpoint, not the path, which may carry a personal token.
    """
    endpoint = request.scope.get("endpoint")
    where = getattr(endpoint, "__qualname__", None) or first_segment(request.url.path)
    _unforeseen.exception(exc, "%s %s failed", request.method, where)


def unforeseen_response(request: Request, exc: Exception) -> Response:
    """The 500 `internal` reply to an error no handler foresaw, which is logged; a database
    that refuses for now gets 503 `unavailable` with `Retry-After`, logged in one line."""
    if is_unavailable(exc):
        _unforeseen.warning(exc, "%s: database unavailable", first_segment(request.url.path))
        return error_response(request, database_unavailable())
    log_unforeseen(request, exc)
    return error_response(request, SalenError("Something went wrong."))


def _from_http(exc: HTTPException) -> SalenError:
    codes = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}
    messages = {404: "Page not found.", 405: "Method not allowed."}
    error = SalenError(messages.get(exc.status_code, str(exc.detail)),
                       code=codes.get(exc.status_code, "http_error"),
                       headers=dict(exc.headers or {}))
    error.status = exc.status_code
    return error


async def json_body(request: Request) -> Any:
    """The request's JSON body within `live.bounds` (finite numbers, 64-bit integers, no NUL
    or lone surrogate, nesting at most 32 deep), or a 422 that says why it is not."""
    try:
        return bounds.loads(await request.body())
    except bounds.TextError as exc:
        raise Invalid(bounds.TEXT_MESSAGE, code="invalid_text", fields=exc.fields) from None
    except ValueError as exc:  # also UnicodeDecodeError and bounds.TooDeep
        raise Invalid(f"The body is not valid JSON: {exc}", code="invalid_json") from None


def content_security_policy(frame_hosts: list[str]) -> str:
    frames = " ".join(["'self'", *frame_hosts])
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "worker-src 'self' blob:",  # hls.js runs its transmuxer in a worker made from a blob
        "connect-src 'self' ws: wss:",
        f"frame-src {frames}",
        "frame-ancestors 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ])


class SecurityHeaders:
    """Adds a strict Content-Security-Policy and friends to every HTTP response."""

    def __init__(self, app: ASGIApp, frame_hosts: list[str]) -> None:
        self.app = app
        csp = content_security_policy(frame_hosts)
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"permissions-policy", b"camera=(self), microphone=(self), geolocation=()"),
        ]
        self.names = frozenset(k for k, _ in self.headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                ours = self.names
                if any(k.lower() in ours for k, _ in headers):  # the response set some itself
                    existing = {k.lower() for k, _ in headers}
                    headers += [(k, v) for k, v in self.headers if k not in existing]
                else:
                    headers += self.headers
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
