"""Who may use the event editor: login, roles, CSRF, redirects and 404s (SQLite only)."""

from __future__ import annotations

import httpx
import pytest

from live.settings import Settings
from tests.support.admin import VERKSTED, add_user, csrf_of, event_doc, login
from tests.support.app import ADMIN


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """These tests are about HTTP, sessions and roles, not storage: SQLite only."""
    return sqlite_url


async def test_login_form_starts_a_session(client: httpx.AsyncClient) -> None:
    """A wrong password is refused (401); the demo organiser then logs in and sees the events."""
    assert (await login(client, password="wrong")).status_code == 401
    assert (await client.get("/admin/events/new")).status_code == 303
    response = await login(client)
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    dashboard = await client.get("/admin")
    assert "Vi bygger Innlandet" in dashboard.text and "organiser@salen.local" in dashboard.text
    assert (await client.get("/admin/events/new")).status_code == 200


async def test_missing_csrf_is_forbidden(client: httpx.AsyncClient, settings: Settings) -> None:
    """A logged-in organiser's post without the CSRF token gets 403 and changes nothing."""
    await login(client)
    response = await client.post(f"/admin/events/{VERKSTED}",
                                 data={"title": "Hijacked", "type": "seminar"})
    assert response.status_code == 403
    assert (await event_doc(settings, VERKSTED)).title == "Verksted for regional utvikling"


async def test_non_organiser_is_forbidden(client: httpx.AsyncClient, settings: Settings) -> None:
    """An organiser of another event gets 403 here (page and post) but may edit their own."""
    await add_user(settings, "guest@salen.local", "guest-password", "planstrategi-4-0")
    assert (await login(client, "guest@salen.local", "guest-password")).status_code == 303
    assert (await client.get(f"/admin/events/{VERKSTED}")).status_code == 403
    assert (await client.get("/admin/events/new")).status_code == 403
    own = await client.get("/admin/events/planstrategi-4-0")
    assert own.status_code == 200
    response = await client.post(f"/admin/events/{VERKSTED}/themes/new",
                                 data={"csrf_token": csrf_of(own.text), "title": "x"})
    assert response.status_code == 403
    assert "x" not in {t.title for t in (await event_doc(settings, VERKSTED)).themes}


async def test_anonymous_is_sent_to_login(client: httpx.AsyncClient) -> None:
    """An anonymous visitor is redirected to the login page with the way back."""
    response = await client.get(f"/admin/events/{VERKSTED}/occurrences/new")
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/admin/login?next=/admin/events/{VERKSTED}/occurrences/new")


async def test_admin_token_may_edit(client: httpx.AsyncClient) -> None:
    """The admin bearer token has organiser rights on every event's editor."""
    response = await client.get(f"/admin/events/{VERKSTED}", headers=ADMIN)
    assert response.status_code == 200 and 'id="f-title"' in response.text


async def test_unknown_event_and_part_are_404(client: httpx.AsyncClient) -> None:
    """Unknown events and parts give 404 pages."""
    await login(client)
    assert (await client.get("/admin/events/no-such-event")).status_code == 404
    assert (await client.get(f"/admin/events/{VERKSTED}/occurrences/atlantis")).status_code == 404
    assert (await client.get(f"/admin/events/{VERKSTED}/nonsense/new")).status_code == 404
