"""Read a container's packets, telling read errors apart from write errors.

Reading and muxing run on one thread. libav releases the GIL while it reads, but handing
packets over from a reader thread (locks, wake-ups, batches) costs more than the overlap
gains, so there is no read-ahead: a slow source stalls the muxer, and the other way round.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, Self

import av
from av.container import InputContainer
from av.stream import Stream


class ReadFailed(Exception):
    """libav could not read the source any further; `__cause__` is its error."""


class PacketReader:
    """Iterate over `container.demux(streams)`; a libav error while reading is `ReadFailed`.

    Errors raised by the loop's body (the muxer's) pass through unchanged, so callers can
    tell a bad source from a failing write.
    """

    def __init__(self, container: InputContainer, streams: Sequence[Stream]) -> None:
        self._packets = container.demux(list(streams))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        close = getattr(self._packets, "close", None)
        if close is not None:
            close()

    def __iter__(self) -> Iterator[av.Packet[Any]]:
        packets = self._packets
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.error.FFmpegError as error:
                raise ReadFailed(str(error.strerror)) from error
            yield packet
