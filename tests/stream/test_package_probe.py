"""Probing: what a file is, how long, and whether it can be packaged without re-encoding video."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from live.errors import Invalid
from stream.package.probe import BrokenMedia, NotVideo, probe
from stream.package.synth import make_test_video

pytestmark = pytest.mark.media


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory for this module's generated files."""
    return tmp_path_factory.mktemp("probe")


def test_live_recording_needs_audio_transcode_only(root: Path) -> None:
    """H.264 + Opus in TS: video copies into MP4 and HLS, audio must become AAC."""
    info = probe(make_test_video(root / "live.ts", 4))
    assert info.format_name == "mpegts"
    assert (info.video.codec, info.video.width, info.video.height) == ("h264", 320, 240)
    assert info.audio is not None and info.audio.codec == "opus"
    assert (info.mp4_copy, info.hls_copy, info.audio_needs_transcode) == (True, True, True)
    assert info.duration == pytest.approx(4, abs=0.1)


def test_aac_mp4_needs_nothing(root: Path) -> None:
    """H.264 + AAC in MP4 can be packaged by copying every packet."""
    info = probe(make_test_video(root / "upload.mp4", 3, container="mp4", audio_codec="aac"))
    assert info.audio is not None and info.audio.codec == "aac"
    assert info.audio.sample_rate == 48000 and info.audio.channels == 1
    assert (info.mp4_copy, info.hls_copy, info.audio_needs_transcode) == (True, True, False)
    assert [s.kind for s in info.streams] == ["video", "audio"]


def test_mpeg4_part2_is_not_remuxable_into_hls(root: Path) -> None:
    """MPEG-4 Part 2 video goes into MP4 as it is but not into HLS."""
    info = probe(
        make_test_video(
            root / "old.mp4", 2, container="mp4", video_codec="mpeg4", audio_codec="mp3"
        )
    )
    assert (info.mp4_copy, info.hls_copy, info.audio_needs_transcode) == (True, False, True)


def test_audio_only_file_is_not_a_video(root: Path) -> None:
    """An M4A with only a sine tone is refused as recording.not_video."""
    path = root / "tone.m4a"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=48000)
        with av.open("sine=duration=1", format="lavfi") as tone:
            for frame in tone.decode(audio=0):
                out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(NotVideo, match="no video stream"):
        probe(path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("slides.mp4", b"%PDF-1.7\n" + b"x" * 2000),
        ("notes.ts", "Referat fra møtet\n".encode() * 100),
        ("empty.mp4", b""),
    ],
)
def test_non_videos_are_refused(root: Path, name: str, content: bytes) -> None:
    """A PDF, a text file and an empty file are refused with code recording.not_video (422)."""
    path = root / name
    path.write_bytes(content)
    with pytest.raises(NotVideo) as error:
        probe(path)
    assert isinstance(error.value, Invalid)
    assert (error.value.code, error.value.status) == ("recording.not_video", 422)


def test_still_image_is_not_a_video(root: Path) -> None:
    """A PNG picture is refused as recording.not_video, not packaged as a one-frame film."""
    path = root / "poster.png"
    with av.open(str(path), "w", format="image2") as out:
        stream = out.add_stream("png")
        stream.width, stream.height, stream.pix_fmt = 64, 64, "rgb24"
        with av.open("testsrc=size=64x64:duration=0.04", format="lavfi") as src:
            for frame in src.decode(video=0):
                out.mux(stream.encode(frame.reformat(format="rgb24")))
        out.mux(stream.encode(None))
    with pytest.raises(NotVideo):
        probe(path)


def test_garbled_ts_is_broken(root: Path) -> None:
    """A TS whose packets after the first are noise is refused as recording.broken."""
    data = bytearray(make_test_video(root / "good.ts", 2).read_bytes())
    for offset in range(188, len(data), 188):
        data[offset + 4 : offset + 188] = bytes((offset * 7 + i) % 251 for i in range(184))
    path = root / "garbled.ts"
    path.write_bytes(bytes(data))
    with pytest.raises(BrokenMedia) as error:
        probe(path)
    assert error.value.code == "recording.broken"


def test_missing_file_is_refused(root: Path) -> None:
    """A path that does not exist is refused with a message naming the file."""
    with pytest.raises(NotVideo, match="nowhere.mp4"):
        probe(root / "nowhere.mp4")
