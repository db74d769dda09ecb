"""Probe a media file: is it a video, how long, which codecs, and what packaging it needs.

Errors raised here (all `live.errors.Invalid`, HTTP 422):

    RecordingError                 recording.invalid
    ├── NotVideo                   recording.not_video
    ├── UnsupportedCodec           recording.unsupported_codec
    └── BrokenMedia                recording.broken
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.stream import Stream
from av.video.stream import VideoStream

from live.errors import Invalid

# Video codecs the MP4 muxer takes as they are (no re-encode).
MP4_VIDEO_CODECS = frozenset({"h264", "hevc", "av1", "vp9", "mpeg4"})
# HLS with MPEG-TS segments: what every HLS player (Safari, hls.js) plays.
HLS_VIDEO_CODECS = frozenset({"h264"})
# Audio copied as it is; anything else that decodes is transcoded to AAC.
COPY_AUDIO_CODECS = frozenset({"aac"})
# "Video" codecs libavformat reports for things that are not videos (text, still images).
_NOT_VIDEO_CODECS = frozenset(
    {"ansi", "bintext", "xbin", "idf", "png", "mjpeg", "jpeg2000", "bmp", "gif", "webp", "tiff"}
)
_NOT_VIDEO_FORMATS = frozenset({"tty", "image2", "lavfi"})
# Leading bytes of containers we know: a file that starts like one but does not open is broken.
_CONTAINER_MAGIC = (b"\x1a\x45\xdf\xa3", b"RIFF", b"FLV", b"OggS", b"\x47")
_PROBE_PACKETS = 600  # packets read to find a decodable video frame


class RecordingError(Invalid):
    """A recording file that cannot be packaged."""

    code = "recording.invalid"


class NotVideo(RecordingError):
    """The file is not a video at all (text, image, audio only, empty)."""

    code = "recording.not_video"


class UnsupportedCodec(RecordingError):
    """The video codec cannot be remuxed into the requested format without re-encoding."""

    code = "recording.unsupported_codec"


class BrokenMedia(RecordingError):
    """The file looks like a video but cannot be read through (truncated, corrupt)."""

    code = "recording.broken"


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """One stream of a probed file."""

    index: int
    kind: str  # "video" | "audio" | "subtitle" | "data" | "attachment"
    codec: str
    width: int | None = None
    height: int | None = None
    sample_rate: int | None = None
    channels: int | None = None


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What `probe` learnt about a file, and what packaging it needs."""

    path: Path
    format_name: str
    duration: float  # seconds
    start_time: float  # seconds, the container's first timestamp
    streams: tuple[StreamInfo, ...]
    video: StreamInfo
    audio: StreamInfo | None

    @property
    def mp4_copy(self) -> bool:
        """Video can go into MP4 as it is."""
        return self.video.codec in MP4_VIDEO_CODECS

    @property
    def hls_copy(self) -> bool:
        """Video can go into HLS (MPEG-TS segments) as it is."""
        return self.video.codec in HLS_VIDEO_CODECS

    @property
    def audio_needs_transcode(self) -> bool:
        """Audio must be re-encoded to AAC (Opus, MP3, PCM...)."""
        return self.audio is not None and self.audio.codec not in COPY_AUDIO_CODECS


def probe(path: str | Path) -> MediaInfo:
    """Open `path`, check that it is a readable video and describe it."""
    path = Path(path)
    container = open_input(path)
    with container:
        streams = tuple(_describe(s) for s in container.streams)
        video_stream = _pick_video(container, path)
        _check_decodes(container, video_stream, path)
        audio_stream = _pick_audio(container)
        return MediaInfo(
            path=path,
            format_name=container.format.name,
            duration=_duration(container, video_stream),
            start_time=(container.start_time or 0) / av.time_base,
            streams=streams,
            video=_describe(video_stream),
            audio=_describe(audio_stream) if audio_stream is not None else None,
        )


def open_input(path: Path) -> InputContainer:
    """Open a file for reading, turning libav's errors into ours."""
    if not path.is_file():
        raise NotVideo(f"{path.name}: no such file", fields={"file": "missing"})
    if path.stat().st_size == 0:
        raise NotVideo(f"{path.name}: the file is empty", fields={"file": "empty"})
    try:
        return av.open(str(path), "r")
    except (av.error.InvalidDataError, av.error.EOFError) as exc:
        if _looks_like_container(path):
            raise BrokenMedia(f"{path.name}: the video is damaged ({_reason(exc)})") from exc
        raise NotVideo(f"{path.name}: not a video file") from exc
    except av.error.FFmpegError as exc:
        raise BrokenMedia(f"{path.name}: cannot be read ({_reason(exc)})") from exc


def _reason(exc: Exception) -> str:
    """libav's message without the server-side path it appends."""
    return str(getattr(exc, "strerror", None) or type(exc).__name__)


def _looks_like_container(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(12)
    return head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide") or head.startswith(
        _CONTAINER_MAGIC
    )


def _pick_video(container: InputContainer, path: Path) -> VideoStream:
    if container.format.name in _NOT_VIDEO_FORMATS or container.format.name.endswith("_pipe"):
        raise NotVideo(f"{path.name}: not a video file ({container.format.name})")
    for stream in container.streams.video:
        attached = stream.disposition & av.stream.Disposition.attached_pic
        if not attached and stream.codec_context.name not in _NOT_VIDEO_CODECS:
            return stream
    raise NotVideo(f"{path.name}: the file has no video stream")


def _pick_audio(container: InputContainer) -> AudioStream | None:
    audio = [s for s in container.streams.audio if s.codec_context is not None]
    return audio[0] if audio else None


def _check_decodes(container: InputContainer, video: VideoStream, path: Path) -> None:
    """Decode the first video frame: a file whose video does not decode is broken."""
    seen_keyframe = False
    try:
        for count, packet in enumerate(container.demux(video)):
            seen_keyframe = seen_keyframe or packet.is_keyframe
            if seen_keyframe and video.codec_context.decode(packet):
                return
            if count >= _PROBE_PACKETS:
                break
    except av.error.FFmpegError as exc:
        raise BrokenMedia(f"{path.name}: the video does not decode ({_reason(exc)})") from exc
    raise BrokenMedia(f"{path.name}: no decodable video frame at the start")


def _duration(container: InputContainer, video: VideoStream) -> float:
    if container.duration:
        return container.duration / av.time_base
    if video.duration and video.time_base:
        return float(video.duration * video.time_base)
    return 0.0


def _describe(stream: Stream) -> StreamInfo:
    ctx = stream.codec_context
    codec = ctx.name if ctx is not None else (stream.codec_tag or "unknown")
    if isinstance(stream, VideoStream):
        vctx = stream.codec_context
        return StreamInfo(stream.index, "video", codec, width=vctx.width, height=vctx.height)
    if isinstance(stream, AudioStream):
        actx = stream.codec_context
        channels = actx.layout.nb_channels
        return StreamInfo(
            stream.index, "audio", codec, sample_rate=actx.sample_rate, channels=channels
        )
    return StreamInfo(stream.index, stream.type, codec)
