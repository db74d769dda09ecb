"""Fan one publisher's encoded frames out to many viewers without decoding or encoding.

Each viewer gets a `ForwardTrack` per kind whose `recv()` returns `av.Packet`s, which
aiortc's `RTCRtpSender` packetises as they are. A new video track drops frames until a
keyframe arrives; the relay asks the publisher for one (rate-limited) whenever a viewer
joins, falls behind or sends PLI/FIR itself.

Backpressure: each track holds at most `queue_frames` frames. A viewer that cannot keep
up loses its queue and waits for the next keyframe; it never slows the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from stream.packets import AnyPacket, Kind, MediaPacket

KEYFRAME_REQUEST_INTERVAL = 1.0


class ForwardTrack(MediaStreamTrack):
    """A track that yields pre-encoded `av.Packet`s pushed to it by the relay."""

    def __init__(
        self, kind: Kind, on_need_keyframe: Callable[[], None], queue_frames: int = 90
    ) -> None:
        super().__init__()
        self.kind = kind
        self._queue: asyncio.Queue[MediaPacket | None] = asyncio.Queue(queue_frames)
        self._on_need_keyframe = on_need_keyframe
        self.waiting_for_keyframe = kind == "video"
        self.dropped = 0

    def push(self, packet: MediaPacket) -> None:
        """Queue a frame for this viewer, or drop it while waiting for a keyframe."""
        if self.waiting_for_keyframe:
            if not packet.keyframe:
                self.dropped += 1
                self._on_need_keyframe()  # rate-limited by the relay
                return
            self.waiting_for_keyframe = False
        try:
            self._queue.put_nowait(packet)
        except asyncio.QueueFull:
            self._fall_behind()

    def _fall_behind(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
            self.dropped += 1
        if self.kind == "video":
            self.waiting_for_keyframe = True
            self._on_need_keyframe()

    def end(self) -> None:
        """Make the next `recv()` end the track (the publisher left)."""
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:
            self._queue.get_nowait()
            self._queue.put_nowait(None)

    async def recv(self) -> AnyPacket:
        """The next encoded frame, as aiortc's sender expects it."""
        if self.readyState != "live":
            raise MediaStreamError
        packet = await self._queue.get()
        if packet is None:
            self.stop()
            raise MediaStreamError
        return packet.to_av()


class Relay:
    """One publisher's frames, fanned out to subscribed viewer tracks and sinks."""

    def __init__(
        self, request_keyframe: Callable[[], None], keyframe_interval: float | None = None
    ) -> None:
        self._request_keyframe = request_keyframe
        # browsers send keyframes only when asked: ask often enough for HLS segments
        self._keyframe_interval = keyframe_interval
        self._last_keyframe_pts: int | None = None
        self._tracks: set[ForwardTrack] = set()
        self._sinks: list[Callable[[MediaPacket], None]] = []
        self._last_request = float("-inf")
        self.packets = 0
        self.last_packet_at: float | None = None

    def add_sink(self, sink: Callable[[MediaPacket], None]) -> None:
        """Also hand every frame to `sink` (recorder, HLS writer)."""
        self._sinks.append(sink)

    def subscribe(self) -> tuple[ForwardTrack, ForwardTrack]:
        """New (audio, video) tracks for one viewer; the publisher is asked for a keyframe."""
        audio = ForwardTrack("audio", self.need_keyframe)
        video = ForwardTrack("video", self.need_keyframe)
        self._tracks.update((audio, video))
        self.need_keyframe()
        return audio, video

    def unsubscribe(self, *tracks: ForwardTrack) -> None:
        """Stop feeding these tracks."""
        for track in tracks:
            self._tracks.discard(track)
            track.end()

    def publish(self, packet: MediaPacket) -> None:
        """Hand one frame from the publisher to every viewer and sink."""
        self.packets += 1
        self.last_packet_at = time.monotonic()
        if packet.kind == "video":
            self._check_keyframe_interval(packet)
        for track in self._tracks:
            if track.kind == packet.kind:
                track.push(packet)
        for sink in self._sinks:
            sink(packet)

    def _check_keyframe_interval(self, packet: MediaPacket) -> None:
        if packet.keyframe or self._last_keyframe_pts is None:
            if packet.keyframe:
                self._last_keyframe_pts = packet.pts
            return
        if self._keyframe_interval is None:
            return
        if (packet.pts - self._last_keyframe_pts) * packet.time_base > self._keyframe_interval:
            self.need_keyframe()

    def need_keyframe(self) -> None:
        """Ask the publisher for a keyframe, at most once per second."""
        now = time.monotonic()
        if now - self._last_request >= KEYFRAME_REQUEST_INTERVAL:
            self._last_request = now
            self._request_keyframe()

    def close(self) -> None:
        """End every viewer track."""
        for track in list(self._tracks):
            self.unsubscribe(track)

    @property
    def viewer_tracks(self) -> int:
        """How many viewer tracks are fed."""
        return len(self._tracks)
