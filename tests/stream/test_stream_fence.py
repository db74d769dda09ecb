"""What stream/aiortc_fence.py does, checked on real aiortc peers over loopback.

These tests watch behaviour only (frames, keyframe requests, SDP candidates); they read
no private attribute and no source text of aiortc, so they hold as long as the fence does.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import threading
from collections.abc import AsyncIterator

import aiortc
import av
import pytest
from aioice.ice import get_host_addresses
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCRtpSender
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from stream import aiortc_fence
from stream.client import SyntheticVideo
from stream.h264 import is_keyframe, nal_units
from stream.packets import MediaPacket
from stream.relay import Relay

pytestmark = pytest.mark.media
GUARD = 20.0  # seconds before a wait is declared hung (not a performance assertion)
LOOPBACK = ["127.0.0.1"]


class Tapped:
    """A receiving peer whose video receiver is tapped: encoded frames land in `frames`."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.senders: list[RTCPeerConnection] = []
        self.frames: asyncio.Queue[tuple[RTCRtpCodecParameters, JitterFrame]] = asyncio.Queue()
        self.tracks: asyncio.Queue[MediaStreamTrack] = asyncio.Queue()
        self.pc.on("track", self.tracks.put_nowait)
        self.receiver = self.pc.addTransceiver("video", direction="recvonly").receiver
        aiortc_fence.tap_receiver(self.receiver, lambda c, f: self.frames.put_nowait((c, f)))

    async def connect(self, track: MediaStreamTrack) -> RTCRtpSender:
        """A new peer sending `track` as H.264 to this one, over loopback."""
        sender = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.senders.append(sender)
        transceiver = sender.addTransceiver(track, direction="sendonly")
        transceiver.setCodecPreferences(
            [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/H264"]
        )
        aiortc_fence.limit_host_candidates(sender, LOOPBACK)
        await sender.setLocalDescription(await sender.createOffer())
        await self.pc.setRemoteDescription(sender.localDescription)
        aiortc_fence.limit_host_candidates(self.pc, LOOPBACK)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await sender.setRemoteDescription(self.pc.localDescription)
        return transceiver.sender

    async def frame(self) -> tuple[RTCRtpCodecParameters, JitterFrame]:
        """The next frame the tap received."""
        return await asyncio.wait_for(self.frames.get(), GUARD)

    async def keyframe(self) -> JitterFrame:
        """The first keyframe from here on."""
        _, frame = await self.frame()
        while not is_keyframe(frame.data):
            _, frame = await self.frame()
        return frame

    async def close(self) -> None:
        """Hang up every peer; a lost stop signal would block the loop in Thread.join."""
        faulthandler.dump_traceback_later(GUARD, exit=True)  # so exit loudly, do not hang
        try:
            await asyncio.gather(self.pc.close(), *(pc.close() for pc in self.senders))
        finally:
            faulthandler.cancel_dump_traceback_later()


@pytest.fixture
async def tapped() -> AsyncIterator[Tapped]:
    """A tapped receiving peer, closed with its senders after the test."""
    peer = Tapped()
    yield peer
    await peer.close()


def test_aiortc_is_the_pinned_version() -> None:
    """Forwarding was written against aiortc 1.16.0; another version needs a review of stream/aiortc_fence.py."""
    assert aiortc.__version__ == "1.16.0"


def test_hooks_exist() -> None:
    """check_internals() finds every private hook."""
    aiortc_fence.check_internals()


async def test_tap_gets_encoded_frames_and_nothing_is_decoded(tapped: Tapped) -> None:
    """Frames reach the tap as H.264 access units with keyframes; the track decodes none."""
    await tapped.connect(SyntheticVideo(keyframe_every=15))
    codec, frame = await tapped.frame()
    assert codec.mimeType == "video/H264" and frame.data.startswith(b"\x00\x00\x00\x01")
    await tapped.keyframe()
    track = await asyncio.wait_for(tapped.tracks.get(), GUARD)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(track.recv(), 1.0)
    assert tapped.frames.qsize() > 0, "frames kept coming to the tap meanwhile"


async def test_closing_a_tapped_receiver_stops_its_decoder_thread(tapped: Tapped) -> None:
    """The stop signal passes through the tap: closing the peer ends aiortc's decoder thread."""
    await tapped.connect(SyntheticVideo())
    await tapped.frame()
    assert any(t.name == "video-decoder" for t in threading.enumerate())
    await tapped.close()
    assert not any(t.name == "video-decoder" for t in threading.enumerate())


async def test_keyframe_request_reaches_the_sender_and_brings_a_keyframe(tapped: Tapped) -> None:
    """request_keyframe() sends PLI; on_keyframe_request() hears it and a keyframe follows."""
    video = SyntheticVideo(keyframe_every=3000)  # no keyframe of its own after the first
    sender = await tapped.connect(video)
    aiortc_fence.on_keyframe_request(sender, video.request_keyframe)
    await tapped.keyframe()
    before = video.keyframe_requests
    assert await aiortc_fence.request_keyframe(tapped.receiver)
    for _ in range(90):
        _, frame = await tapped.frame()
        if is_keyframe(frame.data):
            break
    else:
        pytest.fail("no keyframe within 90 frames of the request")
    assert video.keyframe_requests > before


async def test_relay_track_reaches_the_receiver_byte_for_byte(tapped: Tapped) -> None:
    """A relay's ForwardTrack sends av.Packets unencoded: the receiver gets the same NAL units."""
    relay = Relay(lambda: None)
    _, track = relay.subscribe()
    await tapped.connect(track)
    source = SyntheticVideo()
    sent: list[bytes] = []

    async def pump() -> None:
        while True:
            packet = await source.recv()
            data = bytes(packet)
            sent.append(data)
            relay.publish(MediaPacket("video", data, len(sent) * 3000, is_keyframe(data)))

    pumping = asyncio.create_task(pump())
    _, frame = await tapped.frame()
    pumping.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pumping
    assert list(nal_units(frame.data)) in [list(nal_units(data)) for data in sent]
    relay.close()


def _offered_hosts(sdp: str) -> set[str]:
    lines = [line for line in sdp.splitlines() if line.startswith("a=candidate")]
    assert lines and all(" typ host" in line for line in lines)
    return {line.split()[4] for line in lines}


async def test_ice_offers_exactly_the_configured_addresses() -> None:
    """limit_host_candidates() offers 127.0.0.1 (which aioice leaves out) and nothing else."""
    others = get_host_addresses(use_ipv4=True, use_ipv6=False)
    for addresses in (LOOPBACK, LOOPBACK + others[:1]):
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver("video", direction="recvonly")
        pc.addTransceiver("audio", direction="recvonly")
        aiortc_fence.limit_host_candidates(pc, addresses)
        await pc.setLocalDescription(await pc.createOffer())
        assert _offered_hosts(pc.localDescription.sdp) == set(addresses)
        await pc.close()
    unfenced = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    unfenced.addTransceiver("video", direction="recvonly")
    await unfenced.setLocalDescription(await unfenced.createOffer())
    assert " 127.0.0.1 " not in unfenced.localDescription.sdp, "aioice alone leaves it out"
    await unfenced.close()


def test_pyav_packet_keeps_its_bytes() -> None:
    """av.Packet(bytes) round-trips the data the relay hands to aiortc."""
    assert bytes(av.Packet(b"\x00\x00\x00\x01\x09\xf0")) == b"\x00\x00\x00\x01\x09\xf0"


async def test_a_receiver_is_tapped_once(tapped: Tapped) -> None:
    """Tapping a tapped receiver again is a mistake and says so."""
    with pytest.raises(TypeError, match="already tapped"):
        aiortc_fence.tap_receiver(tapped.receiver, lambda codec, frame: None)
