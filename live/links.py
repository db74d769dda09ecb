"""Where absolute links point: `SALEN_BASE_URL` when set, else where the request came to.

Pages build their absolute links (the Q&A, display and moderator links, WHIP and the
speaker's link) with `page_base`: the configured base URL, or, when it is unset, the
request's own scheme and `Host` (the scheme as uvicorn's proxy headers give it, from
`SALEN_TRUSTED_PROXIES` only), so a link copied from a page opens the server it was copied
from, whatever port it serves on. Mail is composed outside any request and uses
`Settings.mail_base_url`: the base URL, or the address `salen serve` listens on, which is
wrong behind a proxy; `salen serve` warns about that at start-up. With the base URL set, a
request that arrives on another origin is named by `foreign_origin` (the dashboard warns).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from live.realtime.origin import origin_of
from live.state import app_state


def page_base(conn: HTTPConnection) -> str:
    """The base of absolute links on this request's page, without a trailing slash."""
    configured: str = app_state(conn).settings.base_url
    return (configured or str(conn.base_url)).rstrip("/")


def request_origin(conn: HTTPConnection) -> str:
    """"scheme://host[:port]" the request was made to."""
    return origin_of(str(conn.base_url))


def foreign_origin(conn: HTTPConnection) -> str | None:
    """The request's origin when SALEN_BASE_URL is set and names another one, else None."""
    configured: str = app_state(conn).settings.base_url
    if not configured:
        return None
    own = request_origin(conn)
    return own if own != origin_of(configured) else None
