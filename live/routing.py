"""Routes grouped by their first path segment, so a request is matched against few of them.

Starlette's router tries its routes in order, and Salen has about a hundred: without
grouping, a request for a route near the end (the archive, the live socket, static files)
was matched against most of the others first. `by_segment` groups the routes that start
with the same literal segment (`/admin/...`, `/api/...`, `/e/...`) behind one `Segments`
route, which looks up the request's first segment once and then tries only that group's
routes, in their original order. Routes under different literal segments can never match
the same path, so the order between groups does not matter. A route whose first segment is
a path parameter (`/{slug}`) cannot be grouped and is refused.

Within a group no two routes match the same path and method either (tests/test_routing.py
checks the whole app), so the order of routes never matters. Where a literal sits where
another route has a parameter (`/admin/events/new` beside `/admin/events/{slug}`), the
parameter takes a convertor made by `segment` that leaves the literal out.

A path parameter that names a database row is written `id_param(name)` (`{name:id}`): it
matches only the numbers 1 to 2**63-1 in ASCII digits, so a larger one is a plain 404 and
never reaches the database (whose drivers raise `OverflowError` on it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from starlette.convertors import Convertor, StringConvertor, register_url_convertor
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from live.bounds import MAX_ID

# Where `Segments.matches` leaves the route that matched, for `Segments.handle`.
MATCHED = "salen.route"


def _segment_convertor(regex: str) -> StringConvertor:
    """A convertor of one path segment that matches `regex` (a class attribute in Starlette)."""
    convertor: StringConvertor = type("Segment", (StringConvertor,), {"regex": regex})()
    return convertor


def segment(name: str, *, only: Iterable[str] = (), besides: Iterable[str] = ()) -> str:
    """Register the path convertor `name` ("{key:name}"): one segment that is one of `only`,
    or any segment but those in `besides`. Returns `name`.

    Register before the routes that use it are built (at import of their module).
    """
    only, besides = sorted(only), sorted(besides)
    if bool(only) == bool(besides):
        raise ValueError("give either only= or besides=")
    words = "|".join(re.escape(w) for w in only or besides)
    # (?![^/]) ends the word at the segment's end: "newer" is not "new".
    regex = f"(?:{words})(?![^/])" if only else f"(?!(?:{words})(?![^/]))[^/]+"
    register_url_convertor(name, _segment_convertor(regex))
    return name


def _numbers_up_to(limit: int) -> str:
    """A regex of the decimal numbers 1 to `limit` (leading zeros allowed)."""
    digits = str(limit)
    options = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"]  # the shorter numbers
    for place, digit in enumerate(digits):  # same length: smaller at `place`, same before
        low = 1 if place == 0 else 0
        if int(digit) > low:
            rest = len(digits) - place - 1
            options.append(f"{digits[:place]}[{low}-{int(digit) - 1}][0-9]{{{rest}}}")
    options.append(digits)
    return f"0*(?:{'|'.join(options)})"


class IdConvertor(Convertor[int]):
    """A database id in a path: 1 to 2**63-1; anything else does not match the route."""

    regex = _numbers_up_to(MAX_ID)

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        value = int(value)
        if not 1 <= value <= MAX_ID:
            raise ValueError(f"{value} is not an id")
        return str(value)


register_url_convertor("id", IdConvertor())


def id_param(name: str) -> str:
    """The path parameter `{name:id}`, a database id (see `IdConvertor`)."""
    return f"{{{name}:id}}"


def first_segment(path: str) -> str:
    """"admin" for "/admin/events/x", "" for "/"."""
    return path[1:].partition("/")[0]


def _route_path(scope: Scope) -> str:
    # As Starlette's own routes see it: the path below the application's root path.
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root):len(root) + 1] in ("", "/"):
        return path[len(root):]
    return path


class Segments(BaseRoute):
    """All routes, grouped by literal first segment: one dict lookup picks the group."""

    def __init__(self, groups: dict[str, list[BaseRoute]]) -> None:
        self.groups = groups

    @property
    def routes(self) -> list[BaseRoute]:
        return [route for group in self.groups.values() for route in group]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        group = self.groups.get(first_segment(_route_path(scope)))
        if group is None:
            return Match.NONE, {}
        partial: Scope | None = None
        for route in group:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return Match.FULL, {**child, MATCHED: route}
            if match is Match.PARTIAL and partial is None:  # e.g. the path, not the method
                partial = {**child, MATCHED: route}
        if partial is not None:
            return Match.PARTIAL, partial
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: BaseRoute = scope.pop(MATCHED)
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)

    def __repr__(self) -> str:
        return f"Segments({ {k: len(v) for k, v in self.groups.items()} })"


def by_segment(routes: Iterable[BaseRoute]) -> list[BaseRoute]:
    """`routes` as one `Segments` route, each group in its original order."""
    groups: dict[str, list[BaseRoute]] = {}
    for route in routes:
        path = getattr(route, "path", None)
        if path is None or "{" in first_segment(path):
            raise ValueError(f"{route!r} does not start with a literal segment")
        groups.setdefault(first_segment(path), []).append(route)
    return [Segments(groups)]


def flatten(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, with the groups opened up (for the OpenAPI description)."""
    for route in routes:
        if isinstance(route, Segments):
            yield from flatten(route.routes)
        else:
            yield route
