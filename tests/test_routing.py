"""Routes grouped by first path segment pick the same route as Starlette's flat list."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Match, Route

from live.app import create_app
from live.routing import MATCHED, Segments, by_segment, flatten


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
    filled = re.sub(r"\{[^}:]+(:int)?\}", "7", path)
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
