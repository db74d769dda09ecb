"""Offline packaging of recordings: MP4 with chapters and VOD HLS, without re-encoding video.

A plain blocking library on PyAV (run it on a thread); nothing here is live media. The
one call is `package_recording(src, out_dir, chapters=..., trim=...)`, which writes
`out_dir/recording.mp4` and `out_dir/hls/index.m3u8`, both or neither. The modules:

- `remux`: `remux_to_mp4`, `package_hls_vod`, `package_recording`, keyframe-aligned trims;
- `pipeline` and `reader`: the packet loop they share (copy video, copy or transcode audio);
- `probe`: what a file holds and the `RecordingError` tree (HTTP 422);
- `chapters`: `Chapter`, chapters from a programme, `?t=` offsets;
- `captions`: WebVTT/SRT in, clean WebVTT out;
- `synth`: synthetic test recordings.
"""

from __future__ import annotations

from stream.package.chapters import Chapter
from stream.package.remux import (
    HLS_DIR,
    HLS_PLAYLIST,
    MP4_NAME,
    HlsResult,
    Mp4Result,
    Renditions,
    keyframe_cut,
    keyframe_times,
    package_hls_vod,
    package_recording,
    remux_to_mp4,
    shift_chapters,
)

__all__ = [
    "HLS_DIR",
    "HLS_PLAYLIST",
    "MP4_NAME",
    "Chapter",
    "HlsResult",
    "Mp4Result",
    "Renditions",
    "keyframe_cut",
    "keyframe_times",
    "package_hls_vod",
    "package_recording",
    "remux_to_mp4",
    "shift_chapters",
]
