"""The poster frame: one picture of the recording as JPEG, made with the renditions."""

from __future__ import annotations

from pathlib import Path

import av

from stream.package import package_recording
from stream.package.poster import POSTER_NAME, write_poster
from stream.package.synth import make_test_video


def test_packaging_writes_a_jpeg_poster(tmp_path: Path) -> None:
    """package_recording leaves poster.jpg beside the MP4, a JPEG of the video's size."""
    source = make_test_video(tmp_path / "in.ts", 4, size=(320, 240), audio_codec=None)
    package_recording(source, tmp_path / "out")
    poster = tmp_path / "out" / POSTER_NAME
    assert poster.read_bytes()[:2] == b"\xff\xd8"
    with av.open(str(poster)) as image:
        frame = next(image.decode(video=0))
        assert (frame.width, frame.height) == (320, 240)


def test_no_picture_no_poster(tmp_path: Path) -> None:
    """A file without a decodable picture gives no poster and no error."""
    text = tmp_path / "notes.txt"
    text.write_text("not a video")
    assert write_poster(text, tmp_path / POSTER_NAME) is None
    assert not (tmp_path / POSTER_NAME).exists()
