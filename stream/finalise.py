"""Turn a live `.ts` recording into an MP4 (faststart, H.264 copied, Opus to AAC)."""

from __future__ import annotations

import os
from pathlib import Path

import av

from stream.audio import OpusToAac, add_aac_stream


class FinaliseError(RuntimeError):
    """The recording holds nothing that can be turned into an MP4."""


def finalise_recording(ts_path: Path, mp4_path: Path | None = None) -> Path:
    """Remux `ts_path` into an MP4 next to it (blocking; run it on a thread)."""
    target = mp4_path or ts_path.with_suffix(".mp4")
    partial = target.with_name(target.name + ".part")
    try:
        with av.open(str(ts_path)) as source:
            _remux(source, partial)
    except av.FFmpegError as exc:
        partial.unlink(missing_ok=True)
        raise FinaliseError(f"{ts_path.name}: {exc}") from exc
    # the finished file appears under its name only once it is complete
    os.replace(partial, target)
    return target


def _remux(source: av.container.InputContainer, partial: Path) -> None:
    video_in = source.streams.video[0] if source.streams.video else None
    audio_in = source.streams.audio[0] if source.streams.audio else None
    if video_in is None and audio_in is None:
        raise FinaliseError("no audio or video stream")
    with av.open(str(partial), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        video_out = out.add_stream_from_template(video_in) if video_in is not None else None
        transcoder = OpusToAac()
        audio_out = add_aac_stream(out) if audio_in is not None else None
        wrote = 0
        streams = [s for s in (video_in, audio_in) if s is not None]
        for packet in source.demux(*streams):
            if packet.dts is None or packet.size == 0:
                continue
            if packet.stream is video_in and video_out is not None:
                packet.stream = video_out
                out.mux(packet)
                wrote += 1
            elif packet.stream is audio_in and audio_out is not None:
                pts = int((packet.pts or 0) * packet.time_base * 48000)
                for aac in transcoder.encode(packet, pts):
                    aac.stream = audio_out
                    out.mux(aac)
                    wrote += 1
        for aac in transcoder.flush():
            if audio_out is not None:
                aac.stream = audio_out
                out.mux(aac)
        if wrote == 0:
            raise FinaliseError("no packets")
