"""The sign-language interpreter's stream: its own key, WHIP in and WHEP/HLS out beside the
main stream, and its recording kept with the main recording."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from stream.client import SyntheticAudio, SyntheticVideo, publish, view
from tests.streaming.test_streaming import eventually
from tests.support.app import ADMIN

pytestmark = [pytest.mark.media, pytest.mark.filterwarnings("ignore::ResourceWarning")]
SLUG = "planstrategi-4-0"
SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Media tests are not about the database: SQLite only."""
    return sqlite_url


async def test_interpreter_needs_its_own_key(live_url: str) -> None:
    """The main stream key does not publish as interpreter, nor the interpreter key as the
    main stream: both are 401 with WWW-Authenticate."""
    async with httpx.AsyncClient(base_url=live_url) as client:
        info = (await client.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()
        assert info["interpreter_whip_url"].endswith(f"/whip/{SLUG}/interpreter")
        assert info["interpreter_key"] and info["interpreter_key"] != info["stream_key"]
        wrong = await client.post(f"/whip/{SLUG}/interpreter", content="v=0\r\n", headers={
            **SDP, "Authorization": f"Bearer {info['stream_key']}"})
        assert wrong.status_code == 401 and wrong.json()["code"] == "stream.key_wrong"
        assert wrong.headers["www-authenticate"].startswith("Bearer")
        swapped = await client.post(f"/whip/{SLUG}", content="v=0\r\n", headers={
            **SDP, "Authorization": f"Bearer {info['interpreter_key']}"})
        assert swapped.status_code == 401
        missing = await client.post("/whip/no-such-event/interpreter", content="v=0\r\n",
                                    headers={**SDP, "Authorization": "Bearer x"})
        assert missing.status_code == 404


async def _first_video_frame(client: httpx.AsyncClient, url: str) -> int:
    viewer, tracks = await view(client, url)
    try:
        track = await asyncio.wait_for(tracks.get(), 20)
        while track.kind != "video":
            track = await asyncio.wait_for(tracks.get(), 20)
        frame = await asyncio.wait_for(track.recv(), 20)
        return int(frame.width)
    finally:
        await viewer.close()


async def test_interpreter_is_viewed_and_recorded_beside_the_stream(live_url: str) -> None:
    """With the main stream and the interpreter both publishing, WHEP on the interpreter's
    address gets its video, its live HLS appears in its own folder, and after both end the
    recording carries the interpreter's MP4 with its offset."""
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:
        info = (await client.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()
        main = await publish(client, f"{live_url}/whip/{SLUG}", info["stream_key"],
                             SyntheticVideo(), SyntheticAudio())
        interp = await publish(client, f"{live_url}/whip/{SLUG}/interpreter",
                               info["interpreter_key"], SyntheticVideo(), SyntheticAudio())
        try:
            assert f"/whip/{SLUG}/interpreter/" in interp.location
            assert await _first_video_frame(client, f"{live_url}/whep/{SLUG}/interpreter") > 0

            async def hls() -> bool:
                got = await client.get(f"/live/{SLUG}/interpreter/index.m3u8")
                return got.status_code == 200 and "#EXTINF" in got.text

            await eventually(hls, "the interpreter's live HLS")
        finally:
            assert (await interp.delete(client, info["interpreter_key"])).status_code == 200
            await interp.close()
            assert (await main.delete(client, info["stream_key"])).status_code == 200
            await main.close()

        async def kept() -> bool:
            listing = await client.get("/api/recordings", params={"event": SLUG}, headers=ADMIN)
            return any(r["state"] in {"ready", "published"} and r["interpreter"]
                       for r in listing.json()["recordings"])

        await eventually(kept, "the interpreter kept with the recording", seconds=120)
        listing = await client.get("/api/recordings", params={"event": SLUG}, headers=ADMIN)
        recording = next(r for r in listing.json()["recordings"] if r["interpreter"])
        assert abs(recording["interpreter"]["shift"]) < 30
        video = await client.get(recording["interpreter"]["url"], headers=ADMIN)
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"


async def test_organiser_page_shows_the_interpreter_address_and_key(live_url: str) -> None:
    """The organiser's stream page shows the interpreter's WHIP address, key and browser link
    in copy fields; the publishing page with role=interpreter and that key targets its address."""
    async with httpx.AsyncClient(base_url=live_url) as client:
        info = (await client.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()
        page = (await client.get(f"/admin/events/{SLUG}/stream?lang=en", headers=ADMIN)).text
        key = info["interpreter_key"]
        assert f'id="interpreter-key" readonly value="{key}"' in page
        assert f'value="{info["interpreter_whip_url"]}"' in page
        assert 'data-copy="interpreter-key"' in page and "Sign-language interpreter" in page
        publish_page = await client.get(f"/e/{SLUG}/publish",
                                        params={"role": "interpreter", "key": key, "lang": "en"})
        assert f'data-whip-url="/whip/{SLUG}/interpreter"' in publish_page.text
        assert 'id="role-interpreter" name="role" value="interpreter"' in publish_page.text
