"""Organiser sessions: the login throttle, and logout or a new password ending sessions."""

from __future__ import annotations

import asyncio
import os
import sys

import httpx
from starlette.applications import Starlette

from live.app import create_app
from live.demo import DEMO_ORGANISER
from live.settings import Settings
from tests.support.admin import csrf_of, login
from tests.support.app import http_client

EMAIL, PASSWORD = DEMO_ORGANISER


async def test_right_password_after_many_wrong_ones_is_refused(
    client: httpx.AsyncClient, settings: Settings, demo_app: Starlette
) -> None:
    """30 wrong passwords, then the right one: refused with 429 and a notice saying how long
    to wait, in English and bokmål; another process on the same database refuses it too."""
    codes = [(await login(client, password=f"wrong {i}")).status_code for i in range(30)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) <= {401, 429} and 429 in codes
    right = await login(client)
    assert right.status_code == 429
    assert "Too many failed log-in attempts. Wait" in right.text
    assert int(right.headers["retry-after"]) >= 1
    assert (await client.get("/admin")).status_code == 303  # not logged in
    client.cookies.set("salen_lang", "nb")
    token = csrf_of((await client.get("/admin/login")).text)
    norsk = await client.post("/admin/login", data={
        "csrf_token": token, "email": EMAIL, "password": PASSWORD})
    assert norsk.status_code == 429 and "For mange mislykkede innloggingsforsøk" in norsk.text
    async with http_client(create_app(settings)) as other:  # a second process
        assert (await login(other)).status_code == 429


async def test_success_resets_the_accounts_count(client: httpx.AsyncClient) -> None:
    """Mistyping a few times and then logging in starts the account's count afresh."""
    for _ in range(2):
        for i in range(4):
            assert (await login(client, password=f"typo {i}")).status_code == 401
        assert (await login(client)).status_code == 303


async def test_logout_ends_the_session_on_the_server(client: httpx.AsyncClient,
                                                     demo_app: Starlette) -> None:
    """A session cookie copied before POST /admin/logout no longer opens /admin."""
    assert (await login(client)).status_code == 303
    dashboard = await client.get("/admin")
    assert dashboard.status_code == 200
    copied = client.cookies["salen_session"]
    out = await client.post("/admin/logout", data={"csrf_token": csrf_of(dashboard.text)})
    assert out.status_code == 303
    async with http_client(demo_app) as thief:
        thief.cookies.set("salen_session", copied)
        refused = await thief.get("/admin")
    assert refused.status_code == 303 and refused.headers["location"].startswith("/admin/login")


async def test_new_password_ends_sessions(client: httpx.AsyncClient, settings: Settings) -> None:
    """`salen user create` with a new password ends the sessions the old one opened."""
    assert (await login(client)).status_code == 303
    assert (await client.get("/admin")).status_code == 200
    env = os.environ | {"SALEN_DATABASE_URL": settings.database_url,
                        "SALEN_PASSWORD": "a brand new password"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "live.cli", "user", "create", EMAIL, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()
    assert (await client.get("/admin")).status_code == 303
    assert (await login(client, password="a brand new password")).status_code == 303
    assert (await client.get("/admin")).status_code == 200
