"""The two kinds of peer connection Salen holds: a publisher (receives) and a viewer (sends)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from aiortc import (
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters

from live.errors import BadRequest
from stream import aiortc_fence
from stream.aiortc_fence import limit_host_candidates
from stream.h264 import ParameterSets
from stream.ice import IceConfig
from stream.packets import MediaPacket, Timeline
from stream.relay import ForwardTrack, Relay
from stream.sdp import Offer

log = logging.getLogger(__name__)
MIME = {"video": "video/H264", "audio": "audio/opus"}


def _prefer(
    transceiver: RTCRtpTransceiver, kind: str, capabilities: Sequence[RTCRtpCodecCapability]
) -> None:
    codecs = [c for c in capabilities if c.mimeType.lower() == MIME[kind].lower()]
    transceiver.setCodecPreferences(codecs)


async def _answer(pc: RTCPeerConnection, offer: Offer, ice: IceConfig) -> str:
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
    except Exception as exc:  # aiortc raises ValueError, OperationError, ...
        raise BadRequest(f"The SDP offer was refused: {exc}", code="sdp.refused") from exc
    limit_host_candidates(pc, ice.bind_addresses())
    await pc.setLocalDescription(await pc.createAnswer())
    return ice.announce(pc.localDescription.sdp)


class PublisherPeer:
    """Receives the publisher's media and hands each encoded frame to a relay, undecoded."""

    def __init__(self, ice: IceConfig, relay: Relay, on_gone: Callable[[str], None]) -> None:
        self.pc = RTCPeerConnection(ice.rtc_configuration())
        self._ice = ice
        self._relay = relay
        self._timeline = Timeline()
        self._parameter_sets = ParameterSets()
        self._video_receiver: RTCRtpReceiver | None = None
        self._pending: set[asyncio.Future[bool]] = set()

        @self.pc.on("connectionstatechange")
        def _state() -> None:
            if self.pc.connectionState in ("failed", "closed"):
                on_gone(f"connection {self.pc.connectionState}")

    async def answer(self, offer: Offer) -> str:
        """Accept the publisher's offer (H.264 and Opus only) and return our answer."""
        for kind in offer.kinds:
            transceiver = self.pc.addTransceiver(kind, direction="recvonly")
            capabilities = RTCRtpReceiver.getCapabilities(kind)
            _prefer(transceiver, kind, capabilities.codecs if capabilities else [])
            aiortc_fence.tap_receiver(transceiver.receiver, self._on_frame)
            if kind == "video":
                self._video_receiver = transceiver.receiver
        return await _answer(self.pc, offer, self._ice)

    def _on_frame(self, codec: RTCRtpCodecParameters, frame: JitterFrame) -> None:
        if codec.mimeType.lower() == "video/h264":
            data, keyframe = self._parameter_sets.complete(frame.data)
            pts = self._timeline.pts("video", frame.timestamp)
            self._relay.publish(MediaPacket("video", data, pts, keyframe))
        elif codec.mimeType.lower() == "audio/opus":
            pts = self._timeline.pts("audio", frame.timestamp)
            self._relay.publish(MediaPacket("audio", frame.data, pts, True))

    def request_keyframe(self) -> None:
        """Send the publisher a PLI (fire and forget)."""
        if self._video_receiver is not None:
            task = asyncio.ensure_future(aiortc_fence.request_keyframe(self._video_receiver))
            self._pending.add(task)  # keep a reference until it is done
            task.add_done_callback(self._pending.discard)

    async def close(self) -> None:
        """Hang up."""
        await self.pc.close()


class ViewerPeer:
    """Sends one viewer the relayed frames as they are."""

    def __init__(self, ice: IceConfig, relay: Relay, on_gone: Callable[[str], None]) -> None:
        self.pc = RTCPeerConnection(ice.rtc_configuration())
        self._ice = ice
        self._relay = relay
        self._tracks: tuple[ForwardTrack, ...] = ()

        @self.pc.on("connectionstatechange")
        def _state() -> None:
            if self.pc.connectionState in ("failed", "closed"):
                on_gone(f"connection {self.pc.connectionState}")

    async def answer(self, offer: Offer) -> str:
        """Accept the viewer's offer and return our answer; frames flow once connected."""
        audio, video = self._relay.subscribe()
        self._tracks = (audio, video)
        for track in (audio, video):
            if track.kind not in offer.kinds:
                self._relay.unsubscribe(track)
                continue
            transceiver = self.pc.addTransceiver(track, direction="sendonly")
            _prefer(transceiver, track.kind, RTCRtpSender.getCapabilities(track.kind).codecs)
            if track.kind == "video":
                aiortc_fence.on_keyframe_request(transceiver.sender, self._relay.need_keyframe)
        return await _answer(self.pc, offer, self._ice)

    async def close(self) -> None:
        """Stop sending and hang up."""
        self._relay.unsubscribe(*self._tracks)
        await self.pc.close()
