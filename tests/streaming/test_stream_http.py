"""WHIP/WHEP status codes per RFC 9725 and the issue, against the real routes on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver

from stream import aiortc_fence
from stream import client as whip
from tests.support.streams import GUARD, KEYS, Harness, decoded_video, running_server

pytestmark = pytest.mark.media
SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Harness]:
    """A running server with a fresh recordings folder."""
    async with running_server(tmp_path) as harness:
        yield harness


async def _offer(kinds: tuple[str, ...] = ("video", "audio"), direction: str = "sendonly") -> str:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    for kind in kinds:
        pc.addTransceiver(kind, direction=direction)
    offer = await pc.createOffer()
    await pc.close()
    return offer.sdp


async def test_publish_needs_the_right_key(server: Harness) -> None:
    """No key or a wrong key is 401 with a Bearer challenge; an unknown event is 404."""
    offer = await _offer()
    missing = await server.http.post("/whip/seminar", content=offer, headers=SDP)
    wrong = await server.http.post(
        "/whip/seminar", content=offer, headers={**SDP, "Authorization": "Bearer nope"}
    )
    unknown = await server.http.post(
        "/whip/nowhere", content=offer, headers={**SDP, "Authorization": "Bearer x"}
    )
    assert (missing.status_code, wrong.status_code, unknown.status_code) == (401, 401, 404)
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert wrong.json()["code"] == "stream.key_wrong"


async def test_malformed_offers_are_400_with_a_reason(server: Harness) -> None:
    """Garbage, a non-SDP content type and a VP8-only offer are refused with their reason."""
    auth = {"Authorization": f"Bearer {KEYS['seminar']}"}
    garbage = await server.http.post(
        "/whip/seminar", content="v=0\r\nm=bogus\r\n", headers={**SDP, **auth}
    )
    as_json = await server.http.post("/whip/seminar", json={"sdp": "x"}, headers=auth)
    vp8 = (await _offer(("video",))).replace("H264", "VP9")
    wrong_codec = await server.http.post("/whip/seminar", content=vp8, headers={**SDP, **auth})
    assert [r.status_code for r in (garbage, as_json, wrong_codec)] == [400, 400, 400]
    assert garbage.json()["code"] == "sdp.malformed" and garbage.json()["message"]
    assert as_json.json()["code"] == "sdp.content_type"
    assert wrong_codec.json()["code"] in {"sdp.codec", "sdp.refused"}
    assert server.streams.state("seminar").status == "idle"


async def test_second_publisher_is_409_and_viewers_wait_with_retry_after(server: Harness) -> None:
    """WHEP before anyone publishes is 409 + Retry-After; a second WHIP publisher is 409."""
    early = await server.http.post(
        "/whep/seminar", content=await _offer(direction="recvonly"), headers=SDP
    )
    assert early.status_code == 409 and int(early.headers["retry-after"]) > 0
    first = await whip.publish(
        server.http, f"{server.url}/whip/seminar", KEYS["seminar"], whip.SyntheticVideo()
    )
    with pytest.raises(httpx.HTTPStatusError) as second:
        await whip.publish(
            server.http, f"{server.url}/whip/seminar", KEYS["seminar"], whip.SyntheticVideo()
        )
    assert second.value.response.status_code == 409
    assert second.value.response.json()["code"] == "stream.busy"
    # a publisher that stops sending for a few seconds shows as paused, not gone
    live = server.streams._live["seminar"]
    live.relay.last_packet_at = time.monotonic() - 5
    assert server.streams.state("seminar").as_dict()["state"] == "paused"
    assert (await first.delete(server.http, KEYS["seminar"])).status_code == 200
    assert (await first.delete(server.http, KEYS["seminar"])).status_code == 404
    await first.close()


async def test_patch_options_and_unknown_sessions(server: Harness) -> None:
    """PATCH is 405 (no trickle), OPTIONS answers CORS, DELETE of an unknown session is 404."""
    patch = await server.http.patch(
        "/whip/seminar/abc",
        content="a=candidate:x",
        headers={"Content-Type": "application/trickle-ice-sdpfrag"},
    )
    options = await server.http.options(
        "/whep/seminar",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"},
    )
    gone = await server.http.delete("/whep/seminar/nope")
    assert (patch.status_code, options.status_code, gone.status_code) == (405, 204, 404)
    assert options.headers["access-control-allow-origin"] == "*"
    assert "Location" in options.headers["access-control-expose-headers"]


@pytest.mark.parametrize(
    "path",
    [
        "/live/seminar/index.m3u8",
        "/live/seminar/..%2F..%2Fetc%2Fpasswd",
        "/live/seminar/seg_1.mp4",
        "/live/..%2Fstreams/index.m3u8",
        "/live/Seminar/index.m3u8",
    ],
)
async def test_hls_paths_outside_the_live_folder_are_404(server: Harness, path: str) -> None:
    """Only index.m3u8 and seg_NNNNN.ts of a valid slug are served; nothing else escapes."""
    assert (await server.http.get(path)).status_code == 404


async def test_viewer_keyframe_request_reaches_the_publisher(server: Harness) -> None:
    """A viewer's PLI is forwarded to the publisher as a PLI of its own."""
    video = whip.SyntheticVideo()
    publisher = await whip.publish(
        server.http, f"{server.url}/whip/seminar", KEYS["seminar"], video
    )
    viewer, tracks = await whip.view(server.http, f"{server.url}/whep/seminar")
    await asyncio.wait_for(decoded_video(tracks, 5), GUARD)
    before = video.keyframe_requests
    receiver: RTCRtpReceiver = next(
        t.receiver for t in viewer.pc.getTransceivers() if t.kind == "video"
    )

    async def forwarded() -> None:
        # the relay passes on at most one request a second, so keep asking
        while video.keyframe_requests == before:
            await aiortc_fence.request_keyframe(receiver)
            await asyncio.sleep(0.3)

    await asyncio.wait_for(forwarded(), GUARD)
    assert video.keyframe_requests > before
    await viewer.close()
    await publisher.delete(server.http, KEYS["seminar"])
    await publisher.close()
