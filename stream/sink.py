"""Writers that consume relayed frames on a thread of their own (disk and PyAV block)."""

from __future__ import annotations

import asyncio
import io
import logging
import queue
import threading
from fractions import Fraction

import av
from av.video.stream import VideoStream

from stream.packets import MediaPacket

log = logging.getLogger(__name__)
VIDEO_TIME_BASE = Fraction(1, 90000)


class ThreadSink:
    """Feeds `write()` on a worker thread; `put()` never blocks the event loop.

    The queue is bounded (`max_frames`, about a minute of media by default): if the disk
    stalls for longer, frames are dropped and counted rather than held in memory.
    """

    name = "sink"

    def __init__(self, max_frames: int = 6000) -> None:
        self._queue: queue.Queue[MediaPacket | None] = queue.Queue(max_frames)
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._started = False
        self.dropped = 0
        self.error: BaseException | None = None

    def put(self, packet: MediaPacket) -> None:
        """Queue one frame for writing."""
        if not self._started:
            self._started = True
            self._thread.start()
        try:
            self._queue.put_nowait(packet)
        except queue.Full:
            self.dropped += 1

    async def close(self) -> None:
        """Write what is queued, finish the files and stop the thread."""
        if self._started:
            await asyncio.to_thread(self._queue.put, None)
            await asyncio.to_thread(self._thread.join)
        else:
            await asyncio.to_thread(self.finish)

    def _run(self) -> None:
        while (packet := self._queue.get()) is not None:
            if self.error is not None:
                continue
            try:
                self.write(packet)
            except Exception as exc:  # keep draining so put() never fills up
                log.exception("%s failed; dropping the rest", self.name)
                self.error = exc
        try:
            self.finish()
        except Exception:
            log.exception("%s failed to finish", self.name)

    def write(self, packet: MediaPacket) -> None:
        """Write one frame (on the worker thread)."""
        raise NotImplementedError

    def finish(self) -> None:
        """Close files (on the worker thread, or inline if nothing was ever put)."""


def add_video_stream(container: av.container.OutputContainer, keyframe: bytes) -> VideoStream:
    """An H.264 output stream for stream copy, its parameters read from a keyframe's SPS."""
    with av.open(io.BytesIO(keyframe), format="h264") as probe:
        stream = container.add_stream_from_template(probe.streams.video[0])
    stream.time_base = VIDEO_TIME_BASE
    return stream


def mux_video(
    container: av.container.OutputContainer, stream: VideoStream, packet: MediaPacket
) -> None:
    """Mux one relayed H.264 frame into `stream`."""
    out = packet.to_av()
    out.stream = stream
    container.mux(out)
