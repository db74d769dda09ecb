"""Unpublished events: a 404 on every public route for the public; organisers see a banner."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlalchemy import update

from live.models import Event, Recording, RecordingState, utcnow
from live.settings import Settings
from tests.events.test_page_cache import event_id, write
from tests.support.admin import VERKSTED, login

PAGES = [f"/e/{VERKSTED}", f"/e/{VERKSTED}/publish", f"/e/{VERKSTED}/register",
         f"/e/{VERKSTED}/live", f"/e/{VERKSTED}/group-work"]
# Not for organisers (the display needs its key), so only among the public's 404s.
KEYED = [f"/e/{VERKSTED}/display?key=wrong", f"/e/{VERKSTED}/display"]
APIS = [f"/api/events/{VERKSTED}", f"/api/events/{VERKSTED}/stream/state"]


@pytest.fixture
async def unpublished(client: httpx.AsyncClient, settings: Settings) -> int:
    """The workshop (with group work) unpublished, with a published recording; its id."""
    when = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    recording = Recording(event_id=await event_id(settings, VERKSTED),
                          state=RecordingState.PUBLISHED, title="Opptak fra verkstedet",
                          started_at=when, duration=60.0, published_at=when, chapters=[])
    await write(settings, recording, change=update(Event).where(Event.slug == VERKSTED)
                .values(published=False, updated_at=utcnow()))
    assert recording.id is not None
    return recording.id


@pytest.mark.parametrize("path", PAGES + KEYED + APIS)
async def test_public_gets_404_on_every_route_of_an_unpublished_event(
        client: httpx.AsyncClient, unpublished: int, path: str) -> None:
    """Pages and APIs of an unpublished event answer 404, as for an unknown event."""
    response = await client.get(path)
    assert response.status_code == 404, (path, response.status_code)
    assert "Verksted for regional utvikling" not in response.text


async def test_public_cannot_reach_its_recordings_or_find_it_listed(
        client: httpx.AsyncClient, unpublished: int) -> None:
    """The event's published recording is 404 and listed nowhere: archive, API, front page."""
    for path in (f"/recordings/{unpublished}", f"/api/recordings/{unpublished}",
                 f"/recordings/{unpublished}/files/recording.mp4"):
        assert (await client.get(path)).status_code == 404, path
    assert "Opptak fra verkstedet" not in (await client.get("/archive")).text
    listed = (await client.get("/api/recordings")).json()["recordings"]
    assert unpublished not in [r["id"] for r in listed]
    assert VERKSTED not in (await client.get("/")).text
    assert VERKSTED not in (await client.get("/api/events")).text


@pytest.mark.parametrize("path", PAGES)
async def test_organiser_sees_each_page_with_a_banner(
        client: httpx.AsyncClient, unpublished: int, path: str) -> None:
    """The event's organiser gets every page, under the "Not published" banner."""
    await login(client)
    response = await client.get(path)
    assert response.status_code == 200, (path, response.text[:300])
    assert "data-unpublished" in response.text and "Not published" in response.text


async def test_organiser_gets_the_apis_and_the_recording(
        client: httpx.AsyncClient, unpublished: int) -> None:
    """The organiser reads the event document, the stream state and the recording page."""
    await login(client)
    for path in [*APIS, f"/api/recordings/{unpublished}"]:
        assert (await client.get(path)).status_code == 200, path
    page = await client.get(f"/recordings/{unpublished}")
    assert page.status_code == 200 and "data-unpublished" in page.text


async def test_banner_is_in_bokmal_by_default(client: httpx.AsyncClient, unpublished: int) -> None:
    """In bokmål the banner says "Ikke publisert"; a published event has no banner."""
    await login(client)
    client.cookies.set("salen_lang", "nb")
    assert "Ikke publisert" in (await client.get(f"/e/{VERKSTED}")).text
    assert "data-unpublished" not in (await client.get("/e/planstrategi-4-0")).text


async def test_live_stream_is_not_served_to_the_public(
        client: httpx.AsyncClient, unpublished: int) -> None:
    """WHEP and live HLS of an unpublished event are 404 for the public, not its organiser."""
    hls = await client.get(f"/live/{VERKSTED}/index.m3u8")
    assert hls.status_code == 404 and hls.json()["code"] == "stream.unknown"
    whep = await client.post(f"/whep/{VERKSTED}", content=b"v=0\r\n",
                             headers={"content-type": "application/sdp"})
    assert whep.status_code == 404 and whep.json()["code"] == "stream.unknown"
    await login(client)
    assert (await client.get(f"/live/{VERKSTED}/index.m3u8")).json()["code"] == "hls.missing"
