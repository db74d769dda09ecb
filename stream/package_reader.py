"""Read packets on a background thread so that demuxing overlaps muxing.

libav releases the GIL while it reads (`av_read_frame`) and writes
(`av_interleaved_write_frame`), so a reader thread feeding a bounded queue lets the two run
on different cores. The queue holds at most `depth` packets: memory stays flat, and a slow
writer makes the reader wait rather than read ahead.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, Self, cast

import av
from av.container import InputContainer
from av.stream import Stream

_END = object()
_BATCH = 32


class ReadFailed(Exception):
    """libav could not read the source any further; `__cause__` is its error."""


class _Failure:
    """An exception raised on the reader thread, handed to the consumer."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class PacketReader:
    """Iterate over `container.demux(streams)` with the reading done on another thread.

    A libav error while reading is raised as `ReadFailed`, so that callers can tell a bad
    source from a failing write.
    """

    def __init__(
        self, container: InputContainer, streams: Sequence[Stream], depth: int = 256
    ) -> None:
        self._container = container
        self._streams = list(streams)
        # Packets travel in batches: a queue hand-off costs more than muxing a packet.
        self._batch = max(1, min(_BATCH, depth // 4))
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, depth // self._batch))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="packet-reader", daemon=True)
        self._finished = False

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # The reader may be blocked on a full queue: keep taking until it says it is done,
        # so the container is never closed under a running read.
        self._stop.set()
        while not self._finished:
            if self._queue.get() is _END:
                self._finished = True
        self._thread.join()

    def __iter__(self) -> Iterator[av.Packet[Any]]:
        while not self._finished:
            item = self._queue.get()
            if item is _END:
                self._finished = True
            elif isinstance(item, _Failure):
                if isinstance(item.error, av.error.FFmpegError):
                    raise ReadFailed(str(item.error.strerror)) from item.error
                raise item.error
            else:
                yield from cast("list[av.Packet[Any]]", item)

    def _read(self) -> None:
        batch: list[av.Packet[Any]] = []
        try:
            for packet in self._container.demux(self._streams):
                batch.append(packet)
                if len(batch) >= self._batch:
                    if self._stop.is_set():
                        batch = []
                        break
                    self._queue.put(batch)
                    batch = []
        except BaseException as error:  # noqa: BLE001 - re-raised on the consumer's thread
            if batch:
                self._queue.put(batch)
                batch = []
            self._queue.put(_Failure(error))
        finally:
            if batch:
                self._queue.put(batch)
            self._queue.put(_END)
