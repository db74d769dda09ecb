"""MP4 packaging: remux without re-encoding, chapters, faststart, trim at keyframes, atomic output."""

from __future__ import annotations

import struct
from pathlib import Path

import av
import pytest

from stream.package import Chapter, remux_to_mp4
from stream.package.probe import BrokenMedia, NotVideo
from stream.package.synth import make_test_video

pytestmark = pytest.mark.media

SIZE = (160, 120)  # small frames keep generating the 30 s sources quick

CHAPTERS = [("Velkommen", 0.0), ("Innlegg", 10.0), ("Spørsmål", 20.0)]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 30 s live-style recording (H.264 + Opus in MPEG-TS) and an H.264 + AAC MP4."""
    root = tmp_path_factory.mktemp("media")
    return {
        "ts": make_test_video(
            root / "live.ts", 30, container="mpegts", audio_codec="opus", size=SIZE
        ),
        "mp4": make_test_video(
            root / "upload.mp4", 30, container="mp4", audio_codec="aac", size=SIZE
        ),
    }


def top_level_boxes(path: Path) -> list[str]:
    """Names of the top-level ISO BMFF boxes, in file order."""
    names = []
    with path.open("rb") as f:
        while header := f.read(8):
            size, name = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0] - 8
            names.append(name.decode("latin-1"))
            f.seek(size - 8, 1)
    return names


def video_packets(path: Path) -> list[av.Packet]:
    """Every non-empty video packet of a file, in decode order."""
    with av.open(str(path)) as c:
        return [p for p in c.demux(c.streams.video[0]) if p.size]


def test_live_recording_becomes_mp4_with_three_chapters(
    media: dict[str, Path], tmp_path: Path
) -> None:
    """A 30 s TS recording with three chapters remuxes to an MP4 whose chapters PyAV reads back."""
    result = remux_to_mp4(media["ts"], tmp_path / "out.mp4", chapters=CHAPTERS)
    with av.open(str(result.path)) as c:
        chapters = c.chapters()
        codecs = {s.type: s.codec_context.name for s in c.streams if s.type in ("video", "audio")}
    assert [ch["metadata"]["title"] for ch in chapters] == ["Velkommen", "Innlegg", "Spørsmål"]
    assert [round(float(ch["start"] * ch["time_base"])) for ch in chapters] == [0, 10, 20]
    assert codecs == {"video": "h264", "audio": "aac"}
    assert result.audio_transcoded is True
    assert result.chapters == tuple(Chapter(t, s) for t, s in CHAPTERS)
    assert result.duration == pytest.approx(30, abs=0.1)


def test_mp4_is_faststart(media: dict[str, Path], tmp_path: Path) -> None:
    """The moov box comes before mdat, so a browser can start playing before the download ends."""
    result = remux_to_mp4(media["ts"], tmp_path / "out.mp4", chapters=CHAPTERS)
    boxes = top_level_boxes(result.path)
    assert boxes.index("moov") < boxes.index("mdat")


def test_video_is_copied_not_reencoded(media: dict[str, Path], tmp_path: Path) -> None:
    """Every video packet of an MP4 source arrives byte for byte, AAC audio is copied too."""
    result = remux_to_mp4(media["mp4"], tmp_path / "copy.mp4")
    source = [bytes(p) for p in video_packets(media["mp4"])]
    copied = [bytes(p) for p in video_packets(result.path)]
    assert copied == source
    assert result.audio_transcoded is False


def test_ts_video_keeps_every_frame_and_keyframe(media: dict[str, Path], tmp_path: Path) -> None:
    """TS to MP4 keeps all 750 frames and the keyframe every 2 s; all of them decode."""
    result = remux_to_mp4(media["ts"], tmp_path / "out.mp4")
    packets = video_packets(result.path)
    keyframes = [round(float(p.pts * p.time_base), 2) for p in packets if p.is_keyframe]
    assert len(packets) == 750
    assert keyframes == [float(t) for t in range(0, 30, 2)]
    with av.open(str(result.path)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 750


def test_trim_cuts_at_keyframes(media: dict[str, Path], tmp_path: Path) -> None:
    """Trim 11 s–21.5 s starts at the keyframe at 10 s and stops at the one at 22 s."""
    result = remux_to_mp4(media["mp4"], tmp_path / "trim.mp4", chapters=CHAPTERS, trim=(11, 21.5))
    packets = video_packets(result.path)
    source = video_packets(media["mp4"])
    kept = [bytes(p) for p in source if 10 <= float(p.pts * p.time_base) < 22 - 1e-6]
    assert packets[0].is_keyframe and packets[0].pts == 0
    assert [bytes(p) for p in packets] == kept
    assert result.cut_start == pytest.approx(10)
    assert result.duration == pytest.approx(12, abs=0.05)
    # "Velkommen" ended before the cut; "Innlegg" began at 10 s = the new 0.
    assert result.chapters == (Chapter("Innlegg", 0.0), Chapter("Spørsmål", 10.0))


def test_trim_of_live_recording_transcodes_only_audio(
    media: dict[str, Path], tmp_path: Path
) -> None:
    """Trimming a TS recording keeps 6 s of video from a keyframe and AAC audio alongside."""
    result = remux_to_mp4(media["ts"], tmp_path / "trim.mp4", trim=(4.5, 9))
    with av.open(str(result.path)) as c:
        audio_seconds = float(c.streams.audio[0].duration * c.streams.audio[0].time_base)
        frames = sum(1 for _ in c.decode(video=0))
    assert frames == 150
    assert audio_seconds == pytest.approx(6, abs=0.1)


def test_progress_reports_fractions_up_to_one(media: dict[str, Path], tmp_path: Path) -> None:
    """The progress callback gets increasing fractions between 0 and 1, ending with 1.0."""
    seen: list[float] = []
    remux_to_mp4(media["ts"], tmp_path / "out.mp4", progress=seen.append)
    assert len(seen) > 20
    assert seen == sorted(seen)
    assert 0 <= seen[0] < 0.1 and seen[-1] == 1.0


def test_failure_leaves_nothing_behind(media: dict[str, Path], tmp_path: Path) -> None:
    """An error in the middle of a remux removes the partial file; the target never appears."""
    out = tmp_path / "out" / "rec.mp4"

    def fail_halfway(fraction: float) -> None:
        if fraction > 0.5:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        remux_to_mp4(media["ts"], out, progress=fail_halfway)
    assert list(out.parent.iterdir()) == []


def test_not_a_video_is_refused_without_output(tmp_path: Path) -> None:
    """A text file named .mp4 is refused as recording.not_video and nothing is written."""
    src = tmp_path / "notes.mp4"
    src.write_text("Referat fra møtet\n" * 50)
    out = tmp_path / "out"
    with pytest.raises(NotVideo) as info:
        remux_to_mp4(src, out / "rec.mp4")
    assert info.value.code == "recording.not_video"
    assert info.value.status == 422
    assert not out.exists() or list(out.iterdir()) == []


def test_broken_file_is_refused_without_output(media: dict[str, Path], tmp_path: Path) -> None:
    """An MP4 cut off before its index is refused as recording.broken and nothing is written."""
    src = tmp_path / "cut.mp4"
    data = media["mp4"].read_bytes()
    src.write_bytes(data[: len(data) // 2])  # moov sits at the end of this file
    with pytest.raises(BrokenMedia) as info:
        remux_to_mp4(src, tmp_path / "out" / "rec.mp4")
    assert info.value.code == "recording.broken"
    assert str(tmp_path) not in info.value.message
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_existing_target_is_replaced_whole(media: dict[str, Path], tmp_path: Path) -> None:
    """Re-packaging over an existing MP4 swaps it in one rename and leaves no temp files."""
    out = tmp_path / "rec.mp4"
    out.write_bytes(b"old")
    remux_to_mp4(media["mp4"], out)
    assert top_level_boxes(out)[0] == "ftyp"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.mp4"]
