"""The packet reader: same packets as demux, early stop, read errors told apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest

from stream.package.reader import PacketReader, ReadFailed
from stream.package.synth import make_test_video

pytestmark = pytest.mark.media


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10 s H.264 + Opus recording."""
    return make_test_video(tmp_path_factory.mktemp("reader") / "live.ts", 10, size=(160, 120))


def test_reader_yields_what_demux_yields(source: Path) -> None:
    """The reader gives the same packets, in the same order, as demux()."""
    with av.open(str(source)) as c:
        direct = [(p.stream_index, p.pts, bytes(p)) for p in c.demux()]
    with av.open(str(source)) as c, PacketReader(c, list(c.streams)) as reader:
        threaded = [(p.stream_index, p.pts, bytes(p)) for p in reader]
    assert threaded == direct


def test_stopping_early_leaves_the_container_usable(source: Path) -> None:
    """Leaving after a few packets ends the read; the container then closes cleanly."""
    with av.open(str(source)) as c:
        with PacketReader(c, list(c.streams)) as reader:
            first = [p for _, p in zip(range(3), reader, strict=False)]
        again = [p.pts for _, p in zip(range(2), c.demux(), strict=False)]
    assert len(first) == 3 and len(again) == 2


class FailingSource:
    """A container stand-in whose demuxer fails after two packets, as a damaged file does."""

    def __init__(self, container: av.container.InputContainer) -> None:
        self.container = container

    def demux(self, streams: list[Any]) -> Iterator[av.Packet[Any]]:
        packets = self.container.demux(streams)
        yield next(packets)
        yield next(packets)
        raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")


def test_read_error_reaches_the_consumer(source: Path) -> None:
    """A libav error while reading is raised as ReadFailed; an error in the body is not."""
    with av.open(str(source)) as c:
        failing = FailingSource(c)
        got: list[av.Packet[Any]] = []
        reader = PacketReader(failing, list(c.streams))  # type: ignore[arg-type]
        with pytest.raises(ReadFailed, match="Invalid data"), reader:
            got.extend(reader)
    assert len(got) == 2
    with (av.open(str(source)) as c, PacketReader(c, list(c.streams)) as reader,
          pytest.raises(ValueError, match="muxer")):
        for _ in reader:
            raise ValueError("the muxer failed")
