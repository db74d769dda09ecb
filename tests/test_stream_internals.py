"""Loud failures if the aiortc/aioice internals that packet forwarding relies on change."""

from __future__ import annotations

import queue

import aiortc
import av
import pytest
from aioice import Connection
from aiortc import RTCPeerConnection
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RTCP_PSFB_FIR, RTCP_PSFB_PLI, RtcpPsfbPacket

from stream import tap
from stream.client import SyntheticVideo
from stream.ice import IceConfig, limit_host_candidates
from stream.packets import MediaPacket
from stream.relay import Relay

pytestmark = pytest.mark.media


def test_aiortc_is_the_pinned_version() -> None:
    """Forwarding was written against aiortc 1.16.0; another version needs a review of stream/tap.py."""
    assert aiortc.__version__ == "1.16.0"


def test_hooks_exist() -> None:
    """check_internals() finds every private hook."""
    tap.check_internals()


async def test_decoder_queue_carries_codec_and_jitter_frame() -> None:
    """The receiver's private decoder queue exists; tapped, frames reach us and the stop signal passes on."""
    pc = RTCPeerConnection(IceConfig.parse("127.0.0.1").rtc_configuration())
    receiver = pc.addTransceiver("video", direction="recvonly").receiver
    original = getattr(receiver, tap.DECODER_QUEUE)
    assert type(original) is queue.Queue
    seen: list[tuple[object, JitterFrame]] = []
    tap.tap_receiver(receiver, lambda codec, frame: seen.append((codec, frame)))
    tapped = getattr(receiver, tap.DECODER_QUEUE)
    frame = JitterFrame(data=b"\x00\x00\x00\x01\x65", timestamp=3000)
    tapped.put(("codec", frame))
    assert seen == [("codec", frame)] and (frame.data, frame.timestamp) == (
        b"\x00\x00\x00\x01\x65",
        3000,
    )
    tapped.put(None)
    assert original.get_nowait() is None and tapped.get_nowait() is None
    await pc.close()


async def test_receiver_feeds_decoder_queue_from_handle_rtp_packet() -> None:
    """aiortc's receiver still puts `(codec, JitterFrame)` on the queue from _handle_rtp_packet."""
    import inspect

    source = inspect.getsource(aiortc.rtcrtpreceiver.RTCRtpReceiver._handle_rtp_packet)
    assert "self.__decoder_queue.put((codec, encoded_frame))" in source
    assert "self.__decoder_queue.put(None)" in inspect.getsource(
        aiortc.rtcrtpreceiver.RTCRtpReceiver
    )


async def test_viewer_pli_and_fir_reach_our_callback() -> None:
    """A PLI or FIR arriving at a sender calls the hook installed by on_keyframe_request."""
    pc = RTCPeerConnection(IceConfig.parse("127.0.0.1").rtc_configuration())
    sender = pc.addTransceiver("video", direction="sendonly").sender
    calls: list[int] = []
    tap.on_keyframe_request(sender, lambda: calls.append(1))
    for fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
        await sender._handle_rtcp_packet(RtcpPsfbPacket(fmt=fmt, ssrc=1, media_ssrc=sender._ssrc))
    assert calls == [1, 1]
    await pc.close()


async def test_sender_packs_av_packets_without_encoding() -> None:
    """RTCRtpSender packetises an av.Packet from recv() as is (no encoder is opened)."""
    pc = RTCPeerConnection(IceConfig.parse("127.0.0.1").rtc_configuration())
    relay = Relay(lambda: None)
    _, track = relay.subscribe()
    sender = pc.addTransceiver(track, direction="sendonly").sender
    keyframe = bytes(await SyntheticVideo().recv())
    track.push(MediaPacket("video", keyframe, 9000, True))
    h264 = RTCRtpCodecParameters(mimeType="video/H264", clockRate=90000, payloadType=102)
    encoded = await sender._next_encoded_frame(h264)
    assert encoded is not None and encoded.timestamp == 9000
    assert sum(len(p) for p in encoded.payloads) >= len(keyframe) * 0.9
    assert sender._RTCRtpSender__encoder.codec is None, "the H.264 encoder was never opened"
    await pc.close()


async def test_aioice_connection_has_what_limit_host_candidates_uses() -> None:
    """Offered host candidates are exactly the configured addresses, 127.0.0.1 included."""
    for name in (
        "_local_candidates_start",
        "_local_candidates_end",
        "_local_candidates",
        "_components",
        "get_component_candidates",
    ):
        assert hasattr(Connection(ice_controlling=True), name), name
    pc = RTCPeerConnection(IceConfig.parse("127.0.0.1").rtc_configuration())
    pc.addTransceiver("video", direction="recvonly")
    limit_host_candidates(pc, ["127.0.0.1"])
    await pc.setLocalDescription(await pc.createOffer())
    candidates = [l for l in pc.localDescription.sdp.splitlines() if l.startswith("a=candidate")]
    assert candidates and all(" 127.0.0.1 " in l for l in candidates)
    await pc.close()


def test_pyav_packet_keeps_its_bytes() -> None:
    """av.Packet(bytes) round-trips the data the relay hands to aiortc."""
    assert bytes(av.Packet(b"\x00\x00\x00\x01\x09\xf0")) == b"\x00\x00\x00\x01\x09\xf0"
