"""The organiser's secret Q&A links: copy fields, and a new link (asked first) that retires
the old one."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from live.models import Event
from tests.support.app import ADMIN, LifespanApp

SLUG = "planstrategi-4-0"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """These pages are not about the database: SQLite only."""
    return sqlite_url


@pytest.fixture
async def running(demo_app: Starlette) -> AsyncIterator[Any]:
    """An organiser's client (the admin token), an anonymous one, and the lifespan state."""
    async with demo_app.router.lifespan_context(demo_app) as state:
        transport = httpx.ASGITransport(app=LifespanApp(demo_app, dict(state or {})))
        async with (httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                      headers=ADMIN) as organiser,
                    httpx.AsyncClient(transport=transport, base_url="http://testserver") as anyone):
            yield organiser, dict(state or {}), anyone


async def tokens(state: dict[str, Any]) -> tuple[str, str]:
    async with state["app"].db() as session:
        event = await session.scalar(select(Event).where(Event.slug == SLUG))
        assert event is not None
        return event.moderator_token, event.display_token


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def test_links_have_copy_fields(running: Any) -> None:
    """Viewer, moderator and big-screen links are read-only fields with a Copy button."""
    client, state, _ = running
    moderator, display = await tokens(state)
    page = (await client.get(f"/admin/events/{SLUG}/qa?lang=en")).text
    for name in ("viewer-link", "moderator-link", "display-link"):
        assert f'id="{name}" readonly' in page and f'data-copy="{name}"' in page
    assert f'value="http://testserver/e/{SLUG}/moderate?token={moderator}"' in page
    assert f'value="http://testserver/e/{SLUG}/display?key={display}"' in page


@pytest.mark.parametrize(("action", "kind", "page", "param"), [
    ("new-moderator-link", "qa.moderator_link", "moderate", "token"),
    ("new-display-link", "qa.display_link", "display", "key"),
])
async def test_a_new_link_asks_first_and_retires_the_old_one(
        running: Any, action: str, kind: str, page: str, param: str) -> None:
    """Without `confirm` the confirm page (which posts the action) and nothing changes;
    confirmed, the old link is refused and the new one opens the page."""
    client, state, anonymous = running
    index = 0 if page == "moderate" else 1
    old = (await tokens(state))[index]
    form = (await client.get(f"/admin/events/{SLUG}/qa")).text
    asked = await client.post(f"/admin/events/{SLUG}/qa",
                              data={"csrf_token": csrf(form), "action": action})
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/confirm/{kind}/admin/events/{SLUG}/qa"
    confirm = (await client.get(asked.headers["location"])).text
    assert f'name="action" value="{action}"' in confirm and 'name="confirm"' in confirm
    assert (await tokens(state))[index] == old
    done = await client.post(f"/admin/events/{SLUG}/qa", data={
        "csrf_token": csrf(confirm), "action": action, "confirm": "yes"})
    assert done.status_code == 303
    new = (await tokens(state))[index]
    assert new != old
    assert (await anonymous.get(f"/e/{SLUG}/{page}", params={param: old})).status_code == 403
    assert (await anonymous.get(f"/e/{SLUG}/{page}", params={param: new})).status_code == 200
