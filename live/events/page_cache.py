"""Rendered public pages, and the data behind them, kept per process.

Every key carries what changes the page (the event's `updated_at`, registration counts,
the published recording, the visitor's language, ...), read from the database on each
view, so an entry is never served after the data under it changed: it simply stops being
asked for and falls out of the least-recently-used end. Nothing here invalidates entries.

On SQLite those facts are themselves reused until the database file changes: SQLite's
change counter (`PRAGMA data_version`) moves whenever any connection, in this process or
another, commits, and reading it on a side connection is far cheaper than a query through
aiosqlite's thread. PostgreSQL has no such counter; there the facts are read each view.
"""

from __future__ import annotations

import os
import sqlite3
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any, TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from live.state import app_state
from live.web import localiser, render

SIZE = 512
T = TypeVar("T")


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


class ChangeCounter:
    """SQLite's `PRAGMA data_version`, read on a connection of its own that never writes."""

    def __init__(self, path: str) -> None:
        # Read from the event loop's thread only. The pragma reads the WAL index, not the
        # tables; the short timeout keeps a database in recovery from holding the loop.
        self._conn = sqlite3.connect(path, timeout=0.05, isolation_level=None,
                                     check_same_thread=False)

    def read(self) -> int | None:
        """The counter now; None when it cannot be read (then nothing is reused)."""
        try:
            return int(self._conn.execute("PRAGMA data_version").fetchall()[0][0])
        except sqlite3.Error:
            return None

    def close(self) -> None:
        self._conn.close()


def change_counter(database_url: str) -> ChangeCounter | None:
    """A counter for an existing SQLite database file; None for any other database."""
    url = make_url(database_url)
    path = url.database or ""
    if url.get_backend_name() != "sqlite" or path in ("", ":memory:") or not os.path.exists(path):
        return None
    return ChangeCounter(path)


async def remembered(request: Request, key: Hashable,
                     read: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`read`'s result, read again only when the SQLite file changed since (always elsewhere)."""
    counter: ChangeCounter | None = request.state.db_changes
    version = counter.read() if counter is not None else None
    cache: PageCache = request.state.page_cache
    if version is not None:
        hit = cache.get(("facts", key))
        if hit is not None and hit[0] == version:
            return hit[1]  # type: ignore[no-any-return]
    async with app_state(request).db() as session:
        value = await read(session)
    if version is not None:  # read before the query: a commit in between only forces a re-read
        cache.put(("facts", key), (version, value))
    return value


def request_key(request: Request) -> tuple[object, ...]:
    """What of the request itself shows on a public page: its base URL, path and language."""
    scope = request.scope  # the parts of `request.base_url` and `request.url.path`, unparsed
    server = scope.get("server")  # a list under Starlette's TestClient
    return (scope["scheme"], request.headers.get("host"), tuple(server) if server else None,
            scope.get("root_path", ""), scope["path"], localiser(request).locale)


def cached_page(request: Request, key: Hashable, name: str,
                context: Callable[[], Mapping[str, Any]]) -> Response:
    """The page `name` stored under `key` plus the request's own key, rendered on a miss."""
    cache: PageCache = request.state.page_cache
    full = ("html", request_key(request), key)
    body = cache.get(full)
    if body is None:
        body = cache.put(full, render(request, name, context()).body)
    return HTMLResponse(body)
