"""Routes grouped by first path segment pick the same route as Starlette's flat list."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Match, Mount, Route, WebSocketRoute, compile_path

from live.app import create_app
from live.routing import MATCHED, Segments, by_segment, flatten, id_param, segment


def pick(routes: list[BaseRoute], scope: dict[str, object]) -> tuple[Match, BaseRoute | None]:
    """What Starlette's router does: the first full match, else the first partial one."""
    partial: BaseRoute | None = None
    for route in routes:
        match, child = route.matches(dict(scope))
        chosen = child.get(MATCHED, route) if isinstance(route, Segments) else route
        if match is Match.FULL:
            return match, chosen
        if match is Match.PARTIAL and partial is None:
            partial = chosen
    return (Match.PARTIAL, partial) if partial is not None else (Match.NONE, None)


def sample_paths(path: str) -> list[str]:
    filled = re.sub(r"\{[^}:]+(:int|:id)?\}", "7", path)
    filled = re.sub(r"\{[^}]+\}", "x", filled)
    return [filled, filled + "/file.css", filled.rstrip("/") + "/"]


def test_every_path_of_the_app_picks_the_same_route() -> None:
    """For a sample path under every route, and every method, the grouped routes choose
    exactly what the flat list would (including a method mismatch, answered with 405)."""
    grouped = create_app().router.routes
    assert len(grouped) == 1 and isinstance(grouped[0], Segments)
    flat = list(flatten(grouped))
    assert len(flat) > 90
    checked = 0
    for route in flat:
        for path in sample_paths(getattr(route, "path", "/")) + ["/nowhere", "/e"]:
            for kind, method in [("http", "GET"), ("http", "POST"), ("http", "DELETE"),
                                 ("websocket", None)]:
                scope = {"type": kind, "path": path, "root_path": "", "method": method,
                         "headers": [], "query_string": b""}
                assert pick(grouped, scope) == pick(flat, scope), (kind, method, path)
                checked += 1
    assert checked > 1000


async def test_grouped_routes_answer_redirect_and_refuse_like_starlette() -> None:
    """A full match, a wrong method (405), a trailing slash (redirect) and a miss (404)."""

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{request.url.path} {request.path_params}")

    app = Starlette(routes=by_segment([
        Route("/", hello),
        Route("/a/{name}", hello),
        Route("/a/{name}/edit", hello, methods=["POST"]),
        Route("/b", hello, name="b"),
    ]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/a/kari")).text == "/a/kari {'name': 'kari'}"
        assert (await client.get("/")).text == "/ {}"
        assert (await client.get("/a/kari/edit")).status_code == 405
        assert (await client.post("/a/kari/edit")).status_code == 200
        moved = await client.get("/b/")
        assert (moved.status_code, moved.headers["location"]) == (307, "http://testserver/b")
        assert (await client.get("/c")).status_code == 404
    assert app.url_path_for("b") == "/b"


def test_a_route_starting_with_a_parameter_is_refused() -> None:
    """It could match under any segment, so no group could hold it without reordering."""

    async def any_page(request: Request) -> PlainTextResponse:
        return PlainTextResponse("")

    with pytest.raises(ValueError, match="literal segment"):
        by_segment([Route("/a", any_page), Route("/{page}", any_page)])


def _accepts(pattern: str, value: str) -> bool:
    """Does the path segment `pattern` ("new", "{slug}", "{part:event_part}") take `value`?"""
    return compile_path("/" + pattern)[0].match("/" + value) is not None


def _common_path(a: str, b: str, values: list[str]) -> str | None:
    """A path that both patterns might match: each segment a literal of either, or a value
    both parameters take; None when the patterns cannot meet."""
    left, right = a.split("/"), b.split("/")
    if len(left) != len(right):
        return None
    path = []
    for one, other in zip(left, right, strict=True):
        if "{" not in one or "{" not in other:
            path.append(other if "{" in one else one)
            continue
        value = next((v for v in values if _accepts(one, v) and _accepts(other, v)), None)
        if value is None:
            return None
        path.append(value)
    return "/".join(path)


def _methods(route: BaseRoute) -> set[str]:
    return {"WEBSOCKET"} if isinstance(route, WebSocketRoute) else set(getattr(route, "methods", None) or ())


def overlaps(routes: list[BaseRoute]) -> list[tuple[str, str, str]]:
    """Pairs of routes that fully match one path with one method: (method, path, path)."""
    routes = [r for r in routes if not isinstance(r, Mount)]
    literals = {s for r in routes for s in getattr(r, "path", "").split("/") if "{" not in s}
    values = ["x", "7", *sorted(literals)]
    found = []
    for i, a in enumerate(routes):
        for b in routes[i + 1:]:
            path = _common_path(getattr(a, "path", ""), getattr(b, "path", ""), values)
            for method in sorted(_methods(a) & _methods(b)) if path else ():
                kind = "websocket" if method == "WEBSOCKET" else "http"
                scope = {"type": kind, "path": path, "root_path": "", "method": method}
                if all(r.matches(dict(scope))[0] is Match.FULL for r in (a, b)):
                    found.append((method, getattr(a, "path", ""), getattr(b, "path", "")))
    return found


def test_no_two_routes_of_the_app_match_the_same_request() -> None:
    """Every path and method has at most one route, so the order of the routes never matters."""
    assert overlaps(list(flatten(create_app().router.routes))) == []


def test_overlapping_routes_are_found_and_a_segment_convertor_parts_them() -> None:
    """/a/new beside /a/{key} overlaps; with {key:not_new_test} it does not, and a
    convertor of named words keeps /a/{verb}/x off /a/list/x only for the words it names."""

    async def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse("")

    assert overlaps([Route("/a/new", page), Route("/a/{key}", page)]) == [
        ("GET", "/a/new", "/a/{key}"), ("HEAD", "/a/new", "/a/{key}")]
    assert overlaps([Route("/a/new", page), Route("/a/{key}", page, methods=["POST"])]) == []
    segment("not_new_test", besides=["new"])
    segment("verb_test", only=["publish", "trim"])
    assert overlaps([Route("/a/new", page), Route("/a/{key:not_new_test}", page),
                     Route("/a/{key}/edit", page)]) == []
    assert overlaps([Route("/a/{v:verb_test}/x", page), Route("/a/list/x", page)]) == []
    assert overlaps([Route("/a/{v:verb_test}/x", page), Route("/a/trim/{y}", page)]) == [
        ("GET", "/a/{v:verb_test}/x", "/a/trim/{y}"), ("HEAD", "/a/{v:verb_test}/x", "/a/trim/{y}")]
    assert _accepts("{key:not_new_test}", "newer") and not _accepts("{key:not_new_test}", "new")


def test_an_id_parameter_takes_64_bit_ids_only() -> None:
    """`{n:id}` matches 1 to 2**63-1 (leading zeros allowed), not 0, 2**63, a sign or a
    digit outside ASCII; the handler gets an int."""

    async def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse("")

    route = Route(f"/r/{id_param('n')}", page)
    for text, number in [("1", 1), ("007", 7), (str(2**63 - 1), 2**63 - 1)]:
        match, child = route.matches({"type": "http", "path": f"/r/{text}", "method": "GET"})
        assert (match, child["path_params"]) == (Match.FULL, {"n": number})
    for text in ["0", "000", str(2**63), "99999999999999999999", "-1", "+1", "\u0663", "1e3"]:
        match, _ = route.matches({"type": "http", "path": f"/r/{text}", "method": "GET"})
        assert match is Match.NONE, text
    assert route.url_path_for(route.name, n=42) == "/r/42"
