"""One call packages a recording: MP4 with programme chapters and VOD HLS, both or neither."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest

from stream.package import HLS_PLAYLIST, package_recording
from stream.package.chapters import chapters_from_programme
from stream.package.probe import BrokenMedia
from stream.package.synth import make_test_video

pytestmark = pytest.mark.media

STARTED = datetime(2027, 1, 16, 10, 0, tzinfo=UTC)
PROGRAMME = [
    ("Velkommen", STARTED - timedelta(minutes=1)),
    ("Regional utvikling", STARTED + timedelta(seconds=10)),
    ("Spørsmål fra salen", STARTED + timedelta(seconds=20)),
]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 30 s live-style recording (H.264 + Opus in MPEG-TS)."""
    return make_test_video(tmp_path_factory.mktemp("rec") / "live.ts", 30, size=(160, 120))


def test_event_with_three_items_gets_mp4_chapters_and_hls(recording: Path, tmp_path: Path) -> None:
    """Three programme items give three MP4 chapters PyAV reads back, and a complete HLS."""
    chapters = chapters_from_programme(PROGRAMME, STARTED, duration=30)
    seen: list[float] = []
    result = package_recording(recording, tmp_path / "42", chapters=chapters, progress=seen.append)
    with av.open(str(tmp_path / "42" / "recording.mp4")) as c:
        titles = [ch["metadata"]["title"] for ch in c.chapters()]
    playlist = (tmp_path / "42" / "hls" / HLS_PLAYLIST).read_text()
    assert titles == ["Velkommen", "Regional utvikling", "Spørsmål fra salen"]
    assert [c.start for c in result.mp4.chapters] == [0.0, 10.0, 20.0]
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist and "#EXT-X-ENDLIST" in playlist
    assert result.hls.segments == 5 and result.hls.playlist.is_file()
    assert result.info.duration == pytest.approx(30, abs=0.1)
    assert seen == sorted(seen) and seen[-1] == 1.0 and any(0.4 < f < 0.6 for f in seen)


def test_broken_source_leaves_no_directory(tmp_path: Path) -> None:
    """A broken file is refused before anything appears under the target directory."""
    src = tmp_path / "broken.mp4"
    src.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 5000)
    with pytest.raises(BrokenMedia):
        package_recording(src, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4"]


def test_failed_repackage_keeps_the_old_renditions(recording: Path, tmp_path: Path) -> None:
    """When packaging again fails half-way, the earlier MP4 and HLS stay as they were."""
    out = tmp_path / "42"
    package_recording(recording, out)
    before = (out / "recording.mp4").read_bytes()

    def fail_in_hls(fraction: float) -> None:
        if fraction > 0.7:
            raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        package_recording(recording, out, trim=(5, 25), progress=fail_in_hls)
    assert (out / "recording.mp4").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["42"]
