"""The HTTP edge's two guards, around every route: NUL refused, the unforeseen caught.

`InputGuard` refuses a request whose path, query string or url-encoded form holds a NUL
(`%00`): PostgreSQL cannot store one, and no slug, token, id or text of Salen's has one.
It answers 400 `invalid_text` (JSON or a page, as `live.web.error_response` does) before
any route runs; a WebSocket handshake is refused. A url-encoded body is read whole first
(as `Request.form()` would) and handed on unchanged. Lone surrogates cannot arrive this way
(Starlette decodes paths, queries and forms with replacement characters); JSON bodies are
checked by `live.web.json_body` and multipart fields by `live.archive.upload`.

`Unforeseen` turns an exception no handler foresaw into a 500 `internal` reply, logged
once per kind a minute (`live.web.log_unforeseen`), instead of a traceback per request.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from live.bounds import TEXT_MESSAGE
from live.errors import BadRequest
from live.web import error_response, log_unforeseen, unforeseen_response

_FORM = b"application/x-www-form-urlencoded"


def _has_nul(raw: bytes) -> bool:
    return b"%00" in raw or b"\x00" in raw


def _is_form(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bool(value.split(b";")[0].strip().lower() == _FORM)
    return False


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body, and the messages that carried it (to hand on unchanged)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


class InputGuard:
    """Refuses a NUL in the path, the query string or a url-encoded form (400 invalid_text)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refused = "\x00" in scope["path"] or _has_nul(scope.get("query_string", b""))
        if not refused and scope["type"] == "http" and _is_form(scope):
            body, messages = await _read_body(receive)
            refused, receive = _has_nul(body), _replay(messages, receive)
        if not refused:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})
        else:
            error = BadRequest(TEXT_MESSAGE, code="invalid_text")
            await error_response(Request(scope, receive), error)(scope, receive, send)


class Unforeseen:
    """A 500 `internal` reply for an exception no handler caught, logged once per kind."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:  # noqa: BLE001  (logged by log_unforeseen, once per kind)
            request = Request(scope, receive)
            if started:  # too late for a reply: the client gets a cut-off response
                log_unforeseen(request, exc)
            else:
                await unforeseen_response(request, exc)(scope, receive, send)
