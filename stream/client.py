"""A small WHIP/WHEP client with a synthetic H.264 + Opus source (tests, benchmarks, smoke checks).

    python -m stream.client publish http://127.0.0.1:8000/whip/SLUG KEY [--seconds 30]

The source encodes generated pictures with libx264 (no B-frames, a keyframe each second,
and on PLI) and a tone with libopus, and hands aiortc finished packets, as OBS would.
Each picture carries its frame number in a row of black/white blocks (`read_frame_number`).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import fractions
import math
import time

import av
import httpx
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)

from stream import aiortc_fence
from stream.aiortc_fence import limit_host_candidates
from stream.packets import AnyPacket

FPS = 30
BITS = 16  # frame-number blocks painted in the top row
BLOCK = 16


def paint_frame(number: int, width: int, height: int) -> av.VideoFrame:
    """A yuv420p picture: moving grey level, frame number as blocks along the top."""
    frame = av.VideoFrame(width, height, "yuv420p")
    luma = bytearray([(number * 4) % 200 + 28]) * (width * height)
    for bit in range(BITS):
        value = 235 if number >> bit & 1 else 16
        for row in range(BLOCK):
            start = row * width + bit * BLOCK
            luma[start : start + BLOCK] = bytes([value]) * BLOCK
    y, u, v = frame.planes
    # planes may be padded: write row by row at the plane's stride
    y.update(_padded(bytes(luma), width, height, y.line_size))
    for plane in (u, v):
        plane.update(bytes([128]) * plane.buffer_size)
    return frame


def _padded(data: bytes, width: int, height: int, stride: int) -> bytes:
    if stride == width:
        return data
    pad = bytes(stride - width)
    return b"".join(data[r * width : (r + 1) * width] + pad for r in range(height))


def read_frame_number(frame: av.VideoFrame) -> int:
    """The number `paint_frame` painted into a (decoded) picture."""
    plane = frame.planes[0]
    row = bytes(plane)[(BLOCK // 2) * plane.line_size :][: BITS * BLOCK]
    return sum(1 << bit for bit in range(BITS) if row[bit * BLOCK + BLOCK // 2] > 128)


class SyntheticVideo(MediaStreamTrack):
    """Generated H.264 video, returned as encoded `av.Packet`s in real time."""

    kind = "video"

    def __init__(self, width: int = 320, height: int = 240, keyframe_every: int = FPS) -> None:
        super().__init__()
        encoder = av.CodecContext.create("libx264", "w")
        encoder.width, encoder.height = width, height
        encoder.pix_fmt = "yuv420p"
        encoder.time_base = fractions.Fraction(1, FPS)
        encoder.framerate = fractions.Fraction(FPS, 1)
        encoder.options = {
            "tune": "zerolatency",
            "preset": "ultrafast",
            "bf": "0",
            "g": str(keyframe_every),
            "keyint_min": str(keyframe_every),
            "sc_threshold": "0",
        }
        self._encoder = encoder
        self._number = 0
        self._start: float | None = None
        self._pending: list[AnyPacket] = []
        self.force_keyframe = False
        self.keyframe_requests = 0
        self.sent_at: dict[int, float] = {}

    @property
    def sent(self) -> int:
        """How many pictures have been encoded so far."""
        return self._number

    def request_keyframe(self) -> None:
        """Make the next picture a keyframe (the receiver sent PLI or FIR)."""
        self.keyframe_requests += 1
        self.force_keyframe = True

    async def recv(self) -> AnyPacket:
        """The next encoded picture, when its time has come."""
        while not self._pending:
            if self._start is None:
                self._start = time.monotonic()
            due = self._start + self._number / FPS
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            frame = paint_frame(self._number, self._encoder.width, self._encoder.height)
            frame.pts = self._number
            frame.time_base = self._encoder.time_base
            if self.force_keyframe:
                frame.pict_type = av.video.frame.PictureType.I
                self.force_keyframe = False
            self.sent_at[self._number] = time.monotonic()
            self._number += 1
            self._pending += self._encoder.encode(frame)
        packet = self._pending.pop(0)
        packet.time_base = self._encoder.time_base
        return packet


class SyntheticAudio(MediaStreamTrack):
    """A 440 Hz tone as Opus `av.Packet`s of 20 ms, in real time."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        encoder = av.CodecContext.create("libopus", "w")
        encoder.sample_rate = 48000
        encoder.layout = "stereo"
        encoder.format = "s16"
        encoder.time_base = fractions.Fraction(1, 48000)
        self._encoder = encoder
        self._samples = 0
        self._start: float | None = None
        self._pending: list[AnyPacket] = []

    async def recv(self) -> AnyPacket:
        """The next Opus packet, when its time has come."""
        while not self._pending:
            if self._start is None:
                self._start = time.monotonic()
            due = self._start + self._samples / 48000
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
            frame.sample_rate = 48000
            tone = b"".join(
                int(3000 * math.sin(2 * math.pi * 440 * (self._samples + i) / 48000)).to_bytes(
                    2, "little", signed=True
                )
                * 2
                for i in range(960)
            )
            frame.planes[0].update(tone)
            frame.pts = self._samples
            self._samples += 960
            self._pending += self._encoder.encode(frame)
        packet = self._pending.pop(0)
        packet.time_base = self._encoder.time_base
        return packet


@dataclasses.dataclass
class ClientSession:
    """A WHIP or WHEP session from the client side."""

    pc: RTCPeerConnection
    location: str
    response: httpx.Response

    async def delete(self, client: httpx.AsyncClient, key: str | None = None) -> httpx.Response:
        """End the session with DELETE on its resource URL."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return await client.delete(self.location, headers=headers)

    async def close(self) -> None:
        """Hang up the peer connection."""
        await self.pc.close()


async def _negotiate(
    pc: RTCPeerConnection,
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    addresses: list[str],
) -> ClientSession:
    limit_host_candidates(pc, addresses)
    await pc.setLocalDescription(await pc.createOffer())
    response = await client.post(
        url,
        content=pc.localDescription.sdp,
        headers={"Content-Type": "application/sdp", **headers},
    )
    if response.status_code != 201:
        await pc.close()
        raise httpx.HTTPStatusError(
            f"{url}: {response.status_code} {response.text}",
            request=response.request,
            response=response,
        )
    await pc.setRemoteDescription(RTCSessionDescription(sdp=response.text, type="answer"))
    location = str(response.url.join(response.headers["location"]))
    return ClientSession(pc, location, response)


async def publish(
    client: httpx.AsyncClient,
    url: str,
    key: str,
    video: MediaStreamTrack,
    audio: MediaStreamTrack | None = None,
    addresses: list[str] | None = None,
) -> ClientSession:
    """Publish `video` (and `audio`) to a WHIP endpoint."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    for track in (video, audio):
        if track is None:
            continue
        transceiver = pc.addTransceiver(track, direction="sendonly")
        wanted = "video/h264" if track.kind == "video" else "audio/opus"
        transceiver.setCodecPreferences(
            [
                c
                for c in RTCRtpSender.getCapabilities(track.kind).codecs
                if c.mimeType.lower() == wanted
            ]
        )
        if isinstance(track, SyntheticVideo):
            aiortc_fence.on_keyframe_request(transceiver.sender, track.request_keyframe)
    headers = {"Authorization": f"Bearer {key}"}
    return await _negotiate(pc, client, url, headers, addresses or ["127.0.0.1"])


async def view(
    client: httpx.AsyncClient, url: str, addresses: list[str] | None = None
) -> tuple[ClientSession, asyncio.Queue[MediaStreamTrack]]:
    """Start a WHEP session; received tracks arrive on the returned queue."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    tracks: asyncio.Queue[MediaStreamTrack] = asyncio.Queue()
    pc.on("track", tracks.put_nowait)
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    return await _negotiate(pc, client, url, {}, addresses or ["127.0.0.1"]), tracks


async def _publish_for(url: str, key: str, seconds: float) -> None:
    async with httpx.AsyncClient() as client:
        session = await publish(client, url, key, SyntheticVideo(), SyntheticAudio())
        print("publishing", session.location, flush=True)
        await asyncio.sleep(seconds)
        await session.delete(client, key)
        await session.close()


def main() -> None:
    """Command line: publish a synthetic stream for a while."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    pub = sub.add_parser("publish", help="publish generated video and audio")
    pub.add_argument("url")
    pub.add_argument("key")
    pub.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    asyncio.run(_publish_for(args.url, args.key, args.seconds))


if __name__ == "__main__":
    main()
