"""Whether a live socket was opened by one of Salen's own pages, judged by its `Origin`.

Browsers send the session cookie with a WebSocket handshake from any site, and WebSockets
have no CORS: without this check a page elsewhere could open `/ws/events/{slug}` with a
moderator's cookie and act as them (SameSite=Lax was the only guard). A browser always
names the page's origin in `Origin`, which that page cannot forge. So a socket whose
`Origin` is neither the configured base URL (`SALEN_BASE_URL`) nor the request's own scheme
and host gets no role from the cookie; it may still connect as a viewer, and roles from
secrets it presents itself (a moderator link's `?token=`, the display `?key=`) still count,
since another site cannot know them. A client without `Origin` is no browser, and holds
any cookie it sends itself.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.websockets import WebSocket

_HTTP = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def origin_of(url: str) -> str:
    """"scheme://host[:port]" of a URL, lower-cased, default ports left out."""
    parts = urlsplit(url.strip())
    scheme = _HTTP.get(parts.scheme.lower(), parts.scheme.lower())
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return ""
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def own_origin(websocket: WebSocket) -> str:
    """The origin the request itself was made to: its scheme and Host header."""
    host = websocket.headers.get("host", "")
    return origin_of(f"{websocket.url.scheme}://{host}") if host else ""


def same_site(websocket: WebSocket, base_url: str) -> bool:
    """True when the socket has no `Origin`, or it is the base URL's or the request's own."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    given = origin_of(origin)
    return bool(given) and given in {origin_of(base_url), own_origin(websocket)}


def without_cookie_session(websocket: WebSocket) -> None:
    """Forget the session cookie for this connection: its roles and identity are not used."""
    if "session" in websocket.scope:
        websocket.scope["session"] = {}
