"""Rendered public pages, and the data behind them, kept per process.

Every key carries what changes the page (the event's `updated_at`, registration counts,
the published recording, the visitor's language, ...), read from the database on each
view, so an entry is never served after the data under it changed: it simply stops being
asked for and falls out of the least-recently-used end. Nothing here invalidates entries.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from live.web import localiser, render

SIZE = 512


class PageCache:
    """A bounded least-recently-used map; lives on the app state (see live/app.py)."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        """The value stored under `key`, or None."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> Any:
        """Store `value` under `key` (dropping the least recently used beyond `size`)."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)


def request_key(request: Request) -> tuple[str, str, str]:
    """What of the request itself shows on a public page: its base URL, path and language."""
    return str(request.base_url), request.url.path, localiser(request).locale


def cached_page(request: Request, key: Hashable, name: str,
                context: Callable[[], Mapping[str, Any]]) -> Response:
    """The page `name` stored under `key` plus the request's own key, rendered on a miss."""
    cache: PageCache = request.state.page_cache
    full = ("html", request_key(request), key)
    body = cache.get(full)
    if body is None:
        body = cache.put(full, render(request, name, context()).body)
    return HTMLResponse(body)
