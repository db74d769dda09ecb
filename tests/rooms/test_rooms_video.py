"""The room SFU with real aiortc peers on loopback: everyone receives everyone else's video."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import av
import pytest
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from live.errors import Conflict
from live.rooms.video import RoomVideo, VideoPush
from stream.aiortc_fence import limit_host_candidates
from stream.client import SyntheticAudio, SyntheticVideo, read_frame_number
from stream.ice import IceConfig

pytestmark = pytest.mark.media
GUARD = 20.0  # seconds before a wait is declared hung (not a performance assertion)
ROOM = 7
# Each member's camera has its own picture size, so a receiver can tell whose video it got.
SIZES = {"reg:1": (320, 240), "reg:2": (352, 288), "reg:3": (384, 256)}


async def offer(pc: RTCPeerConnection) -> str:
    limit_host_candidates(pc, ["127.0.0.1"])
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def publish(video: RoomVideo, participant: str) -> RTCPeerConnection:
    """A member's camera (generated frames) published into the room."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    width, height = SIZES[participant]
    pc.addTransceiver(SyntheticVideo(width, height, keyframe_every=15), direction="sendonly")
    pc.addTransceiver(SyntheticAudio(), direction="sendonly")
    try:
        answer = await video.publish(ROOM, participant, await offer(pc))
    except Exception:
        await pc.close()
        raise
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    return pc


async def watch(video: RoomVideo, viewer: str, publisher: str
                ) -> tuple[RTCPeerConnection, asyncio.Queue[MediaStreamTrack]]:
    """A member receiving another member's video."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    tracks: asyncio.Queue[MediaStreamTrack] = asyncio.Queue()
    pc.on("track", tracks.put_nowait)
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    answer = await video.view(ROOM, viewer, publisher, await offer(pc))
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    return pc, tracks


async def video_track(tracks: asyncio.Queue[MediaStreamTrack]) -> MediaStreamTrack:
    while True:
        track = await asyncio.wait_for(tracks.get(), GUARD)
        if track.kind == "video":
            return track


async def frames_from(track: MediaStreamTrack, count: int) -> list[tuple[int, int, int]]:
    """(width, height, painted frame number) of `count` decoded pictures."""
    seen = []
    for _ in range(count):
        frame = await asyncio.wait_for(track.recv(), GUARD)
        assert isinstance(frame, av.VideoFrame)
        seen.append((frame.width, frame.height, read_frame_number(frame)))
    return seen


@pytest.fixture
async def video() -> AsyncIterator[tuple[RoomVideo, list[VideoPush]]]:
    pushes: list[VideoPush] = []

    async def notify(room_id: int, push: VideoPush) -> None:
        pushes.append(push)

    sfu = RoomVideo(IceConfig.parse("127.0.0.1"), notify=notify)
    yield sfu, pushes
    await sfu.aclose()


async def test_three_members_each_receive_the_other_two(
        video: tuple[RoomVideo, list[VideoPush]]) -> None:
    """Three publishers in one room; each member decodes the other two's generated frames."""
    sfu, pushes = video
    members = list(SIZES)
    peers = [await publish(sfu, m) for m in members]
    assert pushes[-1].publishers == members and pushes[-1].room == ROOM
    watching = {}
    for viewer in members:
        for publisher in members:
            if publisher != viewer:
                pc, tracks = await watch(sfu, viewer, publisher)
                peers.append(pc)
                watching[(viewer, publisher)] = tracks
    try:
        for (viewer, publisher), tracks in watching.items():
            seen = await frames_from(await video_track(tracks), 5)
            assert {(w, h) for w, h, _ in seen} == {SIZES[publisher]}, (viewer, publisher)
            numbers = [n for _, _, n in seen]
            assert numbers == sorted(numbers) and numbers[-1] > numbers[0]
    finally:
        for pc in peers:
            await pc.close()


async def test_leaving_announces_and_caps_the_call(
        video: tuple[RoomVideo, list[VideoPush]]) -> None:
    """A member leaving is announced; publishers beyond the cap are refused with a code."""
    sfu, pushes = video
    small = RoomVideo(IceConfig.parse("127.0.0.1"), max_publishers=1)
    first = await publish(small, "reg:1")
    with pytest.raises(Conflict) as full:
        await publish(small, "reg:2")
    assert full.value.code == "rooms.video_full"
    await small.aclose()
    await first.close()
    pc = await publish(sfu, "reg:1")
    await sfu.leave(ROOM, "reg:1")
    assert pushes[-1].publishers == [] and sfu.publishers(ROOM) == []
    await pc.close()
