"""Who a browser is, for every feature's pages: `live.identity.participant` over a tiny app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live.errors import NotFound, SalenError
from live.identity import SESSION_KEY, Identities, Participant, participant
from live.settings import Settings
from tests.support.app import LifespanApp
from tests.support.state import shared_state

SECRET = "identity-secret"
EVENT = 7
REGISTRANT = SimpleNamespace(id=42, name="Kari Nordmann")  # the one confirmed `?r=good` link


class FakeSession:
    """Answers the registration lookup: `REGISTRANT` for the personal link "good", else nothing."""

    async def scalar(self, query: Any) -> Any:
        return REGISTRANT if "good" in query.compile().params.values() else None


def make_app() -> LifespanApp:
    """One page that answers who the browser is; `?strict` refuses a bad personal link."""

    async def who(request: Request) -> Response:
        strict = "strict" in request.query_params
        bad_link = NotFound("bad link", code="test.bad_link") if strict else None
        try:
            person = await participant(request, EVENT, presented=request.headers.get("x-token"),
                                       bad_link=bad_link)
        except SalenError as exc:
            return JSONResponse({"code": exc.code}, status_code=exc.status)
        return JSONResponse({"id": person.id, "name": person.name,
                             "session": request.session.get(SESSION_KEY)})

    app = Starlette(routes=[Route("/who", who)],
                    middleware=[Middleware(SessionMiddleware, secret_key=SECRET)])
    settings = Settings.from_env({}, secret_key=SECRET)
    db = lambda: contextlib.nullcontext(FakeSession())
    return LifespanApp(app, {"app": shared_state(settings, db)})


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def token(person: Participant) -> str:
    return Identities(SECRET).token(person)


async def test_new_browser_gets_an_identity_kept_in_the_session(client: httpx.AsyncClient) -> None:
    """A first visit makes an anonymous participant; the session cookie brings it back."""
    first = (await client.get("/who")).json()
    again = (await client.get("/who")).json()
    assert first["id"] and first["name"] == "" and again["id"] == first["id"]
    assert Identities(SECRET).load(again["session"]) == Participant(first["id"])


async def test_presented_token_wins_and_is_remembered(client: httpx.AsyncClient) -> None:
    """A token the page presents names the participant and replaces the session's."""
    await client.get("/who")
    shown = (await client.get("/who", headers={"x-token": token(Participant("abc", "Ola"))})).json()
    assert (shown["id"], shown["name"]) == ("abc", "Ola")
    assert (await client.get("/who")).json()["id"] == "abc"


async def test_forged_token_falls_back_to_the_session(client: httpx.AsyncClient) -> None:
    """A presented token that does not verify is passed over for the session's identity."""
    first = (await client.get("/who")).json()
    forged = Identities("another-secret").token(Participant("someone-else"))
    assert (await client.get("/who", headers={"x-token": forged})).json()["id"] == first["id"]


async def test_personal_link_makes_the_registrant(client: httpx.AsyncClient) -> None:
    """`?r=` of a confirmed registration is `reg:<id>` with the registrant's name, even over a token."""
    shown = (await client.get("/who?r=good", headers={"x-token": token(Participant("abc"))})).json()
    assert (shown["id"], shown["name"]) == ("reg:42", "Kari Nordmann")
    assert (await client.get("/who")).json()["id"] == "reg:42"


async def test_bad_personal_link_is_passed_over_or_refused(client: httpx.AsyncClient) -> None:
    """A link that is not valid is ignored by default, and raises `bad_link` when one is given."""
    first = (await client.get("/who")).json()
    assert (await client.get("/who?r=nope")).json()["id"] == first["id"]
    refused = await client.get("/who?r=nope&strict=1")
    assert refused.status_code == 404 and refused.json() == {"code": "test.bad_link"}
