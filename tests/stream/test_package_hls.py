"""VOD HLS packaging: a complete playlist whose segments each start at a keyframe and decode alone."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from stream.package import HLS_PLAYLIST, package_hls_vod, remux_to_mp4
from stream.package.probe import UnsupportedCodec, probe
from stream.package.synth import make_test_video

pytestmark = pytest.mark.media

SIZE = (160, 120)  # small frames keep generating the 30 s sources quick


@pytest.fixture(scope="module")
def live_ts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 30 s live-style recording: H.264 + Opus in MPEG-TS, keyframes every 2 s."""
    return make_test_video(tmp_path_factory.mktemp("hls") / "live.ts", 30, size=SIZE)


@pytest.fixture(scope="module")
def hls(live_ts: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The recording packaged as VOD HLS with 6 s segments."""
    out = tmp_path_factory.mktemp("hls-out") / "hls"
    package_hls_vod(live_ts, out, segment_seconds=6)
    return out


def playlist_segments(playlist: Path) -> list[tuple[float, str]]:
    """(duration, uri) for each segment listed in a media playlist."""
    lines = playlist.read_text().splitlines()
    return [
        (float(line.split(":")[1].rstrip(",")), lines[i + 1])
        for i, line in enumerate(lines)
        if line.startswith("#EXTINF:")
    ]


def test_playlist_is_complete_vod(hls: Path) -> None:
    """The playlist is marked VOD, ends with ENDLIST and its segments add up to 30 s."""
    text = (hls / HLS_PLAYLIST).read_text()
    segments = playlist_segments(hls / HLS_PLAYLIST)
    assert text.startswith("#EXTM3U\n")
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    assert [d for d, _ in segments] == pytest.approx([6, 6, 6, 6, 6], abs=0.05)
    assert all((hls / uri).is_file() for _, uri in segments)


def test_every_segment_decodes_on_its_own(hls: Path) -> None:
    """Each segment, opened alone, starts with a video keyframe and decodes 150 frames and AAC audio."""
    for _, uri in playlist_segments(hls / HLS_PLAYLIST):
        with av.open(str(hls / uri)) as c:
            first = next(p for p in c.demux(c.streams.video[0]) if p.size)
            assert first.is_keyframe, uri
            assert c.streams.audio[0].codec_context.name == "aac"
        with av.open(str(hls / uri)) as c:
            decoded = list(c.decode(c.streams.video[0], c.streams.audio[0]))
        frames = sum(1 for f in decoded if isinstance(f, av.VideoFrame))
        samples = sum(f.samples for f in decoded if isinstance(f, av.AudioFrame))
        assert frames == 150, uri
        assert samples > 5 * 48000, uri


def test_progress_and_result(live_ts: Path, tmp_path: Path) -> None:
    """The result names the playlist and segment count; progress ends at 1.0."""
    seen: list[float] = []
    result = package_hls_vod(live_ts, tmp_path / "hls", segment_seconds=10, progress=seen.append)
    assert result.playlist == tmp_path / "hls" / HLS_PLAYLIST
    assert result.segments == 3
    assert result.audio_transcoded is True
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_repackaging_replaces_the_directory(live_ts: Path, tmp_path: Path) -> None:
    """Packaging again into an existing directory swaps in the new rendition and removes the old."""
    out = tmp_path / "hls"
    package_hls_vod(live_ts, out, segment_seconds=6)
    (out / "stale.ts").write_bytes(b"old")
    package_hls_vod(live_ts, out, segment_seconds=10, trim=(0, 19))
    assert len(playlist_segments(out / HLS_PLAYLIST)) == 2
    assert not (out / "stale.ts").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hls"]


def test_hevc_goes_to_mp4_but_not_to_hls(tmp_path: Path) -> None:
    """H.265 is copied into MP4 but refused for HLS with recording.unsupported_codec, writing nothing."""
    src = make_test_video(
        tmp_path / "hevc.mp4", 4, container="mp4", video_codec="hevc", audio_codec=None
    )
    info = probe(src)
    assert (info.mp4_copy, info.hls_copy, info.audio) == (True, False, None)
    mp4 = remux_to_mp4(src, tmp_path / "out.mp4")
    with av.open(str(mp4.path)) as c:
        assert c.streams.video[0].codec_context.name == "hevc"
    with pytest.raises(UnsupportedCodec) as error:
        package_hls_vod(src, tmp_path / "hls")
    assert error.value.code == "recording.unsupported_codec"
    assert not (tmp_path / "hls").exists()
