"""The demo debate's media, made on the spot: title cards, espeak-ng speech, captions, a slide PDF.

Blocking; nothing is downloaded. The video is one coloured card per programme item with
the item's title and the speaker (drawn by Pillow or the `ffmpeg` program: see
`title_card`), H.264 with a keyframe every 2 s; the audio is `espeak-ng` reading the
script, encoded to AAC. The result is kept under a folder named by a hash of the script,
the card renderer and `MEDIA_VERSION`, so a second start reuses it. The files are made in a
scratch folder named with the process id and renamed into place when whole; scratch folders
of processes that are gone (killed half-way) are removed by the next run.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import heapq
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from av.audio.stream import AudioStream
from av.video.frame import PictureType
from av.video.stream import VideoStream

from stream.package.captions import format_timestamp, normalise_captions

# Bump when the generated media change in a way the script's text does not show.
MEDIA_VERSION = 3
SIZE = (640, 360)
# The card's text stays above this line; below it a darker band is left to the captions and
# the player's controls (half of a phone's small player).
BAND = 190
SPEAKER_Y = 136
FPS = 10
GOP_SECONDS = 2
RATE = 48000
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PAUSE = 0.5  # silence after each sentence, seconds
SCRATCH = ".demo-"  # scratch folders: .demo-<pid>-<random>
Progress = Callable[[str, float], None]


class SpeechUnavailable(RuntimeError):
    """`espeak-ng` is not installed, so the demo recording cannot be made."""


@dataclass(frozen=True, slots=True)
class Part:
    """One programme item as the demo recording shows it: its card and the sentences spoken."""

    item: str
    speaker: str
    colour: tuple[int, int, int]
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Cue:
    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class DemoMedia:
    """The generated files and where each part begins (seconds)."""

    folder: Path
    source: Path
    captions: Path
    slides: Path
    chapters: list[tuple[str, float]]
    duration: float


def media_key(parts: list[Part]) -> str:
    """The cache key: the script and the version, hashed."""
    script = [[p.item, p.speaker, list(p.colour), list(p.lines)] for p in parts]
    text = json.dumps([MEDIA_VERSION, SIZE, FPS, card_renderer(), script])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_demo_media(cache: Path, parts: list[Part], progress: Progress | None = None) -> DemoMedia:
    """The demo media under `cache/<key>/`, generated unless already there.

    Processes sharing `cache` (the test run's workers, a server and an import) take turns
    on it: one generates, the others wait for it and reuse its files.
    """
    folder = cache / media_key(parts)
    if not (folder / "done").exists():
        if shutil.which("espeak-ng") is None:
            raise SpeechUnavailable("espeak-ng is not installed (apt-get install espeak-ng)")
        with _locked(cache):
            if not (folder / "done").exists():
                _generate_into(folder, parts, progress or (lambda step, fraction: None))
    plan = json.loads((folder / "done").read_text(encoding="utf-8"))
    return DemoMedia(
        folder, folder / "source.ts", folder / "captions.vtt", folder / "slides.pdf",
        [(title, float(start)) for title, start in plan["chapters"]], float(plan["duration"]),
    )


@contextlib.contextmanager
def _locked(cache: Path) -> Iterator[None]:
    """An exclusive lock on the folder `cache` itself (released when the process dies)."""
    cache.mkdir(parents=True, exist_ok=True)
    fd = os.open(cache, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _generate_into(folder: Path, parts: list[Part], progress: Progress) -> None:
    remove_abandoned(folder.parent)
    work = Path(tempfile.mkdtemp(prefix=f"{SCRATCH}{os.getpid()}-", dir=folder.parent))
    try:
        _generate(work, parts, progress)
        shutil.rmtree(folder, ignore_errors=True)
        work.rename(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def remove_abandoned(cache: Path) -> list[Path]:
    """Remove the scratch folders of processes no longer running; returns those removed."""
    removed = []
    for folder in cache.glob(f"{SCRATCH}*-*"):
        pid = folder.name.removeprefix(SCRATCH).partition("-")[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _generate(work: Path, parts: list[Part], progress: Progress) -> None:
    total = sum(len(p.lines) for p in parts)
    speech: list[list[av.AudioFrame]] = []
    for n, line in enumerate(line for p in parts for line in p.lines):
        progress("speech", n / total)
        speech.append(speak(line, work / f"line{n}.wav"))
    progress("speech", 1.0)
    cues, spans = _timeline(parts, speech)
    progress("video", 0.0)
    _encode(work / "source.ts", parts, spans, speech, cues, progress)
    (work / "captions.vtt").write_text(normalise_captions(webvtt(cues)), encoding="utf-8")
    (work / "slides.pdf").write_bytes(slide_pdf(parts[0].item, [p.item for p in parts]))
    chapters = [(p.item, start) for p, (start, _) in zip(parts, spans, strict=True)]
    plan = {"chapters": chapters, "duration": spans[-1][1]}
    for scratch in [*work.glob("*.wav"), *work.glob("*.txt"), *work.glob("card.png")]:
        scratch.unlink()
    (work / "done").write_text(json.dumps(plan), encoding="utf-8")


def speak(text: str, wav: Path) -> list[av.AudioFrame]:
    """`text` read by espeak-ng in bokmål, as 48 kHz mono float frames."""
    subprocess.run(
        ["espeak-ng", "-v", "nb", "-s", "165", "-w", str(wav), text],
        check=True, capture_output=True, timeout=60,
    )
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    frames: list[av.AudioFrame] = []
    with av.open(str(wav)) as container:
        for frame in container.decode(audio=0):
            frames.extend(resampler.resample(frame))
    frames.extend(resampler.resample(None))
    return frames


def _seconds(frames: list[av.AudioFrame]) -> float:
    return sum(f.samples for f in frames) / RATE


def _timeline(
    parts: list[Part], speech: list[list[av.AudioFrame]]
) -> tuple[list[Cue], list[tuple[float, float]]]:
    """Cues for every sentence, and each part's span; parts start on keyframes."""
    cues: list[Cue] = []
    spans: list[tuple[float, float]] = []
    at, n = 0.0, 0
    for part in parts:
        start = at
        at += 1.0
        for line in part.lines:
            length = _seconds(speech[n])
            cues.append(Cue(at, at + length, line))
            at += length + PAUSE
            n += 1
        at = GOP_SECONDS * -(-(at + 1.0) // GOP_SECONDS)  # round up to a keyframe
        spans.append((start, at))
    return cues, spans


def webvtt(cues: list[Cue]) -> str:
    blocks = [f"{format_timestamp(c.start)} --> {format_timestamp(c.end)}\n{c.text}" for c in cues]
    return "WEBVTT\n\n" + "\n\n".join(blocks) + "\n"


def _encode(
    path: Path,
    parts: list[Part],
    spans: list[tuple[float, float]],
    speech: list[list[av.AudioFrame]],
    cues: list[Cue],
    progress: Progress,
) -> None:
    with av.open(str(path), "w", format="mpegts") as out:
        video = out.add_stream("libx264", rate=FPS, options={
            "g": str(FPS * GOP_SECONDS), "keyint_min": str(FPS * GOP_SECONDS),
            "sc_threshold": "0", "preset": "ultrafast", "tune": "stillimage"})
        assert isinstance(video, VideoStream)
        video.width, video.height = SIZE
        video.pix_fmt = "yuv420p"
        audio = out.add_stream("aac", rate=RATE, layout="mono")
        assert isinstance(audio, AudioStream)
        audio.bit_rate = 64_000
        streams = [
            _video_packets(video, parts, spans, progress, path.parent),
            _audio_packets(audio, speech, cues, spans[-1][1]),
        ]
        for _, _, packet in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
            out.mux(packet)


def _video_packets(
    stream: VideoStream,
    parts: list[Part],
    spans: list[tuple[float, float]],
    progress: Progress,
    work: Path,
) -> Iterator[tuple[float, int, av.Packet[Any]]]:
    total = spans[-1][1]
    pts = 0
    for part, (start, end) in zip(parts, spans, strict=True):
        card = title_card(part, work)
        for _ in range(round((end - start) * FPS)):
            frame = card.reformat(format="yuv420p")
            frame.pts = pts
            frame.time_base = Fraction(1, FPS)  # a card decoded from PNG brings its own
            frame.pict_type = PictureType.NONE
            pts += 1
            if pts % (FPS * 10) == 0:
                progress("video", pts / FPS / total)
            yield from _timed(stream.encode(frame), 0)
    yield from _timed(stream.encode(None), 0)
    progress("video", 1.0)


def _audio_packets(
    stream: AudioStream, speech: list[list[av.AudioFrame]], cues: list[Cue], total: float
) -> Iterator[tuple[float, int, av.Packet[Any]]]:
    at = 0  # samples written
    for frames, cue in zip(speech, cues, strict=True):
        for frame in _silence(at, round(cue.start * RATE)):
            at += frame.samples
            yield from _timed(stream.encode(frame), 1)
        for frame in frames:
            frame.pts = at
            at += frame.samples
            yield from _timed(stream.encode(frame), 1)
    for frame in _silence(at, round(total * RATE)):
        yield from _timed(stream.encode(frame), 1)
    yield from _timed(stream.encode(None), 1)


def _silence(start: int, end: int) -> Iterator[av.AudioFrame]:
    while start < end:
        count = min(1024, end - start)
        frame = av.AudioFrame(format="flt", layout="mono", samples=count)
        frame.planes[0].update(bytes(frame.planes[0].buffer_size))
        frame.sample_rate = RATE
        frame.pts = start
        start += count
        yield frame


def _timed(
    packets: list[av.Packet[Any]], order: int
) -> Iterator[tuple[float, int, av.Packet[Any]]]:
    for packet in packets:
        dts = packet.dts if packet.dts is not None else packet.pts or 0
        yield float(dts * packet.time_base), order, packet


def card_renderer() -> str:
    """How title cards get their text: "pillow", "ffmpeg" (the program's drawtext), or "plain"."""
    if importlib.util.find_spec("PIL") is not None:
        return "pillow"
    if shutil.which("ffmpeg") is not None:
        return "ffmpeg"
    return "plain"


def title_card(part: Part, work: Path) -> av.VideoFrame:
    """The part's card: its colour, the item's title and the speaker, and a darker lower band.

    PyAV's bundled FFmpeg has no `drawtext`, so the text is drawn with Pillow when it is
    installed, else by the `ffmpeg` program (one PNG per card); failing both, no text.
    """
    renderer = card_renderer()
    if renderer == "pillow":
        return _pillow_card(part)
    if renderer == "ffmpeg":
        with contextlib.suppress(subprocess.SubprocessError, OSError, av.FFmpegError):
            return _ffmpeg_card(part, work)
    return _plain_card(part.colour)


def _ffmpeg_card(part: Part, work: Path) -> av.VideoFrame:
    width, height = SIZE
    title, speaker, png = work / "title.txt", work / "speaker.txt", work / "card.png"
    title.write_text(textwrap.fill(part.item, 30), encoding="utf-8")
    speaker.write_text(part.speaker, encoding="utf-8")
    font = f"fontfile={FONT}:" if Path(FONT).exists() else ""
    dark = "0x{:02x}{:02x}{:02x}".format(*(c // 3 for c in part.colour))
    band = BAND
    graph = (
        f"drawbox=y={band}:w=iw:h=ih-{band}:color={dark}:t=fill,"
        f"drawtext={font}textfile={title}:fontsize=34:fontcolor=white:x=32:y=36:line_spacing=8,"
        f"drawtext={font}textfile={speaker}:fontsize=26:fontcolor=white:x=32:y={SPEAKER_Y}"
    )
    colour = "0x{:02x}{:02x}{:02x}".format(*part.colour)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"color=c={colour}:s={width}x{height}:d=1", "-vf", graph,
         "-frames:v", "1", str(png)],
        check=True, capture_output=True, timeout=60,
    )
    with av.open(str(png)) as image:
        frame = next(image.decode(video=0))
    return frame.reformat(format="rgb24")


def _pillow_card(part: Part) -> av.VideoFrame:
    width, height = SIZE
    image_module: Any = importlib.import_module("PIL.Image")
    draw_module: Any = importlib.import_module("PIL.ImageDraw")
    image = image_module.new("RGB", SIZE, part.colour)
    draw = draw_module.Draw(image)
    dark = tuple(c // 3 for c in part.colour)
    draw.rectangle((0, BAND, width, height), fill=dark)
    font = _font(36)
    draw.text((32, 36), part.item, fill=(255, 255, 255), font=font)
    draw.text((32, SPEAKER_Y), part.speaker, fill=(255, 255, 255), font=_font(28))
    frame: av.VideoFrame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
    return frame


def _font(size: int) -> Any:
    font_module: Any = importlib.import_module("PIL.ImageFont")
    if Path(FONT).exists():
        return font_module.truetype(FONT, size)
    return font_module.load_default()


def _plain_card(colour: tuple[int, int, int]) -> av.VideoFrame:
    width, height = SIZE
    frame = av.VideoFrame(width, height, "rgb24")
    plane = frame.planes[0]
    dark = bytes(c // 3 for c in colour)
    rows = [bytes(colour) * width if y < BAND else dark * width for y in range(height)]
    pad = b"\0" * (plane.line_size - width * 3)
    plane.update(b"".join(row + pad for row in rows))
    return frame


def slide_pdf(title: str, bullets: list[str]) -> bytes:
    """A one-page PDF slide (Helvetica, WinAnsi text), written by hand so nothing extra is needed."""

    def text(value: str) -> str:
        raw = value.encode("cp1252", "replace").decode("latin-1")
        return raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    lines = [f"BT /F1 30 Tf 60 480 Td ({text(title)}) Tj ET"]
    lines += [f"BT /F1 20 Tf 80 {400 - 40 * n} Td ({text('- ' + b)}) Tj ET"
              for n, b in enumerate(bullets)]
    stream = "\n".join(lines).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 960 540] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)
