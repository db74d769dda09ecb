"""The demo debate's sign-language interpreter: a generated video kept beside its recording.

A real interpreter's recording is a second stream's MP4 attached to the main recording
(`live.archive.interpreter`); the demo's is drawn on the spot and stored the same way
(`archive/<id>/interpreter/interpreter.mp4` and `interpreter.json`), so the recording page
offers "Show sign-language interpreter" as it does for a real one. It is no signing: a figure
on a plain background whose hands move while the debate's captions say someone speaks and
rest in the pauses, which shows the two videos in step. It starts `LEAD` seconds before the
recording, as an interpreter who goes on air first does, so the player's shift is exercised.

Drawn in pure Python straight into the YUV planes (no numpy, no colour conversion, nothing
downloaded) at 320x180 and 10 frames a second: one to two seconds of one core for the
debate. The MP4 is written under a scratch name and renamed into place last, so a run killed
half-way leaves no interpreter and the next run makes it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from av.video.stream import VideoStream

from live.archive.interpreter import FILE, FOLDER, META
from live.archive.service import CAPTIONS_DIR, Archive
from live.demo.recording import find_demo_recording
from stream.package.captions import Cue, parse_captions

SIZE = (320, 180)
FPS = 10
LEAD = 3.0  # seconds the interpreter is on air before the recording starts
BACKGROUND = (36, 44, 58)
CLOTHES = (12, 12, 16)
SKIN = (224, 182, 150)
HEAD = (160, 52, 17)  # centre x, centre y, radius
TORSO = (118, 84, 202, 180)  # left, top, right, bottom
REST = ((142, 128), (178, 128))  # the hands' places in a pause
HAND = 9  # radius


async def add_demo_interpreter(archive: Archive) -> int | None:
    """Give the demo debate's complete recording its interpreter unless it has one; returns
    the recording's id if made."""
    async with archive.db() as session:
        recording = await find_demo_recording(session)
    if recording is None or recording.duration is None:
        return None
    folder = archive.folder(recording.id)
    if (folder / FOLDER / FILE).exists():
        return None
    captions = parse_captions((folder / CAPTIONS_DIR / "nb.vtt").read_bytes()).cues
    await asyncio.to_thread(write_interpreter, folder / FOLDER, captions, recording.duration)
    return recording.id


def write_interpreter(folder: Path, cues: Sequence[Cue], duration: float) -> None:
    """The interpreter's MP4 and its offset in `folder`, for a recording of `duration`
    seconds whose speech is `cues`."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = folder / f".{META}"
    meta.write_text(json.dumps({"offset": -LEAD}), encoding="utf-8")
    meta.replace(folder / META)  # a new file: a copy hard-linked elsewhere is left alone
    scratch = folder / f".{FILE}"
    shifted = [Cue(c.start + LEAD, c.end + LEAD, c.text) for c in cues]
    with av.open(str(scratch), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=FPS, options={
            "g": str(FPS * 2), "preset": "ultrafast", "tune": "animation"})
        assert isinstance(stream, VideoStream)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        for frame in _frames(shifted, duration + LEAD):
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    scratch.rename(folder / FILE)


def _frames(cues: list[Cue], duration: float) -> Iterator[av.VideoFrame]:
    base = _figure()
    for n in range(round(duration * FPS)):
        planes = [bytearray(plane) for plane in base]
        for x, y in hands(cues, n / FPS):
            _disc(planes, x, y, HAND, SKIN)
        frame = av.VideoFrame(*SIZE, "yuv420p")
        for plane, data, width in zip(frame.planes, planes, _widths(), strict=True):
            _fill(plane, data, width)
        frame.pts, frame.time_base = n, Fraction(1, FPS)
        yield frame


def hands(cues: list[Cue], t: float) -> tuple[tuple[int, int], tuple[int, int]]:
    """Where the two hands are at `t`: moving while a cue is spoken, at rest between."""
    speaking = next((c for c in cues if c.start <= t < c.end), None)
    if speaking is None:
        return REST
    phase = (t - speaking.start) * 2 * math.pi / 1.6 + len(speaking.text)
    left = (140 + round(22 * math.sin(phase)), 112 + round(18 * math.sin(2 * phase)))
    right = (180 + round(22 * math.cos(phase * 1.3)), 108 + round(20 * math.sin(phase + 1)))
    return left, right


def _figure() -> list[bytes]:
    """The still part (background, shoulders and body, head) as Y, U and V planes."""
    width, height = SIZE
    planes = [bytearray(bytes([c]) * (w * h)) for c, (w, h) in
              zip(_yuv(BACKGROUND), [(width, height)] + [(width // 2, height // 2)] * 2,
                  strict=True)]
    left, top, right, bottom = TORSO
    for y in range(top, bottom):
        inset = max(0, 14 - (y - top))  # rounded shoulders
        _run(planes, left + inset, right - inset, y, CLOTHES)
    for y in range(HEAD[1], HEAD[1] + HEAD[2] + 4):  # neck
        _run(planes, HEAD[0] - 8, HEAD[0] + 8, y, SKIN)
    _disc(planes, HEAD[0], HEAD[1], HEAD[2], SKIN)
    return [bytes(plane) for plane in planes]


@functools.cache
def _yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """BT.601 limited-range Y, U, V of an RGB colour (what browsers assume for this video)."""
    r, g, b = (c / 255 for c in rgb)
    return (round(16 + 65.481 * r + 128.553 * g + 24.966 * b),
            round(128 - 37.797 * r - 74.203 * g + 112.0 * b),
            round(128 + 112.0 * r - 93.786 * g - 18.214 * b))


def _widths() -> list[int]:
    return [SIZE[0], SIZE[0] // 2, SIZE[0] // 2]


def _disc(planes: list[bytearray], cx: int, cy: int, r: int,
          colour: tuple[int, int, int]) -> None:
    for dy in range(-r, r + 1):
        dx = math.isqrt(r * r - dy * dy)
        _run(planes, cx - dx, cx + dx + 1, cy + dy, colour)


def _run(planes: list[bytearray], x0: int, x1: int, y: int,
         colour: tuple[int, int, int]) -> None:
    """Paint pixels x0..x1-1 of row `y`; on even rows the chroma planes' half row too."""
    width, height = SIZE
    x0, x1 = max(0, x0), min(width, x1)
    if not (0 <= y < height and x0 < x1):
        return
    luma, u, v = _yuv(colour)
    planes[0][y * width + x0:y * width + x1] = bytes([luma]) * (x1 - x0)
    if y % 2 == 0:
        half, row = width // 2, y // 2
        c0, c1 = x0 // 2, (x1 + 1) // 2
        planes[1][row * half + c0:row * half + c1] = bytes([u]) * (c1 - c0)
        planes[2][row * half + c0:row * half + c1] = bytes([v]) * (c1 - c0)


def _fill(plane: Any, data: bytearray, width: int) -> None:
    """Copy `data` (rows of `width` bytes) into a frame's plane, whose rows may be padded."""
    if plane.line_size == width:
        plane.update(bytes(data))
        return
    pad = b"\0" * (plane.line_size - width)
    rows = len(data) // width
    plane.update(b"".join(data[y * width:(y + 1) * width] + pad for y in range(rows)))
