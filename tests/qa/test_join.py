"""The short join address and its QR code: /j/<code> leads to the live page; the big
screen, the moderators' desk and the printable poster show the address and the code."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from live.models import Event
from live.models.events import JOIN_ALPHABET, JOIN_LENGTH
from tests.qa.test_qa_pages import SLUG, event_row, running  # noqa: F401  (fixture)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """These tests are not about the database: SQLite only."""
    return sqlite_url


async def test_every_event_has_a_short_code_that_leads_to_its_live_page(
    running: Any,  # noqa: F811
) -> None:
    """Each event has its own six-character code; /j/<code>, in either case, sends the
    visitor to the live page; an unknown or malformed code is a 404 with a code."""
    client, state = running
    async with state["app"].db() as session:
        codes = list(await session.scalars(select(Event.join_code)))
    assert len(set(codes)) == len(codes) > 1
    assert all(len(c) == JOIN_LENGTH and set(c) <= set(JOIN_ALPHABET) for c in codes)
    event = await event_row(state)
    for code in (event.join_code, str(event.join_code).lower()):
        response = await client.get(f"/j/{code}")
        assert response.status_code == 303
        assert response.headers["location"] == f"/e/{SLUG}/live"
    for bad in ("ZZZZZZ", "no!such"):
        missing = await client.get(f"/j/{bad}", headers={"accept": "application/json"})
        assert missing.status_code == 404
    assert missing.json()["code"] in ("event.join_code", "not_found")


async def test_display_desk_and_poster_show_the_address_and_qr_code(
    running: Any,  # noqa: F811
) -> None:
    """The big screen, the moderators' desk and the A4 poster carry the join address as text
    and as an inline SVG QR code; the overlay for OBS leaves it out."""
    client: httpx.AsyncClient
    client, state = running
    event = await event_row(state)
    address = f"testserver/j/{event.join_code}"
    pages = {
        "display": await client.get(f"/e/{SLUG}/display", params={"key": event.display_token}),
        "desk": await client.get(f"/e/{SLUG}/moderate", params={"token": event.moderator_token}),
        "poster": await client.get(f"/e/{SLUG}/poster", params={"lang": "nb"}),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        html = page.text
        assert address in html, name
        qr = html[html.index("data-join-qr"):]
        assert '<svg role="img"' in qr[:400] and "<title>QR" in qr[:2000], name
    assert "Still spørsmål til panelet" in pages["poster"].text
    assert f"/e/{SLUG}/poster" in pages["desk"].text
    event_page = (await client.get(f"/e/{SLUG}")).text  # the panel's page links the same
    assert address in event_page and f"/e/{SLUG}/poster" in event_page
    overlay = await client.get(f"/e/{SLUG}/display",
                               params={"key": event.display_token, "overlay": "1"})
    assert "data-join-qr" not in overlay.text
