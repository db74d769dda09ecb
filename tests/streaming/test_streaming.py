"""Streams of events through the real app: keys, the organiser's stream API, and recordings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from stream.client import SyntheticAudio, SyntheticVideo, publish, view
from tests.support.app import ADMIN

pytestmark = [pytest.mark.media, pytest.mark.filterwarnings("ignore::ResourceWarning")]
SLUG = "planstrategi-4-0"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Media tests are not about the database: SQLite only."""
    return sqlite_url


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 60) -> None:
    for _ in range(int(seconds * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


async def test_stream_api_needs_the_organiser(live_url: str) -> None:
    """The stream key is only shown to organisers; a new key replaces the old one."""
    async with httpx.AsyncClient(base_url=live_url) as client:
        assert (await client.get(f"/api/events/{SLUG}/stream")).status_code == 401
        info = (await client.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()
        assert info["whip_url"].endswith(f"/whip/{SLUG}") and info["state"] == "idle"
        rotated = (await client.post(f"/api/events/{SLUG}/stream/key", headers=ADMIN)).json()
        assert rotated["stream_key"] != info["stream_key"]
        old = await client.post(f"/whip/{SLUG}", content="v=0\r\n", headers={
            "Authorization": f"Bearer {info['stream_key']}", "Content-Type": "application/sdp"})
        assert old.status_code == 401 and old.json()["code"] == "stream.key_wrong"
        state = (await client.get(f"/api/events/{SLUG}/stream/state")).json()
        assert state == {"state": "idle", "viewers": 0, "started_at": None, "ended_at": None,
                         "hls": False, "problem": None}


async def test_publish_view_and_archive(live_url: str) -> None:
    """A WHIP publisher makes the event live, a WHEP viewer receives video, and the ended
    stream's recording is listed by the archive API."""
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:
        key = (await client.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()["stream_key"]
        session = await publish(client, f"{live_url}/whip/{SLUG}", key, SyntheticVideo(),
                                SyntheticAudio())
        try:
            async def is_live() -> bool:
                state = (await client.get(f"/api/events/{SLUG}/stream/state")).json()
                return bool(state["state"] == "live")

            await eventually(is_live, "the stream to go live")
            viewer, tracks = await view(client, f"{live_url}/whep/{SLUG}")
            track = await asyncio.wait_for(tracks.get(), 20)
            while track.kind != "video":
                track = await asyncio.wait_for(tracks.get(), 20)
            frame = await asyncio.wait_for(track.recv(), 20)
            assert frame.width > 0
            await viewer.close()
            await asyncio.sleep(2)  # a couple of seconds of recording
        finally:
            ended = await session.delete(client, key)
            await session.close()
        assert ended.status_code == 200

        async def recorded() -> bool:
            listing = await client.get("/api/recordings", params={"event": SLUG}, headers=ADMIN)
            return any(r["state"] in {"ready", "published"} for r in listing.json()["recordings"])

        await eventually(recorded, "the recording to be listed", seconds=90)
        final = (await client.get(f"/api/events/{SLUG}/stream/state")).json()
        assert final["state"] == "ended"
