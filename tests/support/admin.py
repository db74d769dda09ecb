"""Helpers for the organiser pages' tests: log in, submit a form with its CSRF token, read back.

`login` signs in as the demo organiser (English texts); `post_form` opens a form for its
CSRF token and submits it; `event_doc` reads an event back as its document; `add_user`
adds a user who is not a site organiser. `VERKSTED` is a demo event's slug.
"""

from __future__ import annotations

import re

import httpx

from live.auth import hash_password
from live.db import create_engine, sessionmaker
from live.demo import DEMO_ORGANISER
from live.events.document import EventDoc
from live.events.service import export_event, find_event, load_event
from live.models import EventRole, Role, User
from live.settings import Settings

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERKSTED = "verksted-regional-utvikling"


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def login(client: httpx.AsyncClient, email: str = DEMO_ORGANISER[0],
                password: str = DEMO_ORGANISER[1]) -> httpx.Response:
    # The assertions read English texts; bokmål is the default once its catalogue exists.
    client.cookies.set("salen_lang", "en")
    token = csrf_of((await client.get("/admin/login")).text)
    return await client.post("/admin/login", data={
        "csrf_token": token, "email": email, "password": password, "next": "/admin"})


async def post_form(client: httpx.AsyncClient, url: str, data: dict[str, object]) -> httpx.Response:
    """Open the form page for its CSRF token, then submit `data`."""
    form_page = await client.get(url)
    assert form_page.status_code == 200, form_page.text[:500]
    return await client.post(url, data={"csrf_token": csrf_of(form_page.text), **data})


async def event_doc(settings: Settings, slug: str) -> EventDoc:
    engine = create_engine(settings.database_url)
    try:
        async with sessionmaker(engine)() as session:
            return export_event(await load_event(session, slug))
    finally:
        await engine.dispose()


async def add_user(settings: Settings, email: str, password: str,
                   organiser_of: str | None = None) -> None:
    """A user who is not a site organiser, optionally organiser of one event."""
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session, session.begin():
        user = User(email=email, password_hash=hash_password(password), is_admin=False)
        session.add(user)
        await session.flush()
        if organiser_of:
            event = await find_event(session, organiser_of)
            session.add(EventRole(user_id=user.id, event_id=event.id, role=Role.ORGANISER))
    await engine.dispose()
