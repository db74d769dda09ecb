"""Live captions' rules, without a database, socket or clock: lines, splitting, cues.

A captioner (skrivetolk) types a partial line that viewers see as it grows, and commits it
with Enter. A committed line is cleaned (control characters out, runs of white space as
one space) and, when longer than `MAX_LINE` characters, split at word boundaries into
several lines: an over-long line is never refused. Each piece keeps an idempotency key
derived from the captioner's key for the line (`piece_keys`), so sending the same line
again (after a reconnect, or by the other captioner in a hand-over) stores nothing new.

Cues: a committed line is shown from its first keystroke (`started_at`) until `LINGER`
seconds after its commit, or until the next line starts, whichever is first; on any clock
whose zero is `origin` (the live stream's first frame, a recording's first frame).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence

from stream.package.captions import Cue, format_timestamp

# Characters per stored line (two rows of a caption as broadcasters set them, and a bit).
MAX_LINE = 84
# Characters of a partial line kept (what viewers see while the captioner types).
MAX_PARTIAL = 500
# Seconds a committed line stays on screen after its commit (unless the next one starts).
LINGER = 4.0
# Shortest cue, in seconds.
MIN_CUE = 1.0
# Committed lines a (re)connecting viewer is sent.
RECENT = 50

_SPACE = re.compile(r"\s+")


@dataclasses.dataclass(frozen=True, slots=True)
class Line:
    """One committed line as the rules see it (a row of `caption_lines`)."""

    seq: int
    text: str
    by: str
    started_at: dt.datetime
    at: dt.datetime


def clean(text: str) -> str:
    """Plain one-line text: control and format characters dropped, white space collapsed."""
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch)[0] != "C"
    )
    return _SPACE.sub(" ", kept).strip()


def split_line(text: str, limit: int = MAX_LINE) -> list[str]:
    """`text` (cleaned) in pieces of at most `limit` characters, broken between words.

    A word longer than `limit` is itself cut. Blank text gives no pieces.
    """
    pieces: list[str] = []
    current = ""
    for word in clean(text).split(" "):
        if not word:
            continue
        while len(word) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:limit])
            word = word[limit:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= limit:
            current = f"{current} {word}"
        else:
            pieces.append(current)
            current = word
    if current:
        pieces.append(current)
    return pieces


def piece_keys(key: str, count: int) -> list[str]:
    """The idempotency key of each piece of one line: the line's own key for the first."""
    return [key if i == 0 else f"{key}/{i}" for i in range(count)]


def partial_text(text: str) -> str:
    """What viewers see of a line being typed: cleaned, its last `MAX_PARTIAL` characters."""
    return clean(text)[-MAX_PARTIAL:]


def cues(lines: Sequence[Line], origin: dt.datetime, until: float | None = None) -> list[Cue]:
    """The lines as cues in seconds from `origin`; cues wholly before 0 or after `until`
    are left out, and the rest are clipped to [0, until]."""
    out: list[Cue] = []
    ordered = sorted(lines, key=lambda line: line.seq)
    for index, line in enumerate(ordered):
        start = (line.started_at - origin).total_seconds()
        end = max((line.at - origin).total_seconds() + LINGER, start + MIN_CUE)
        if index + 1 < len(ordered):
            following = (ordered[index + 1].started_at - origin).total_seconds()
            end = min(end, max(following, start + MIN_CUE))
        start = max(start, 0.0)
        if until is not None:
            end = min(end, until)
        if end - start < 0.001:
            continue
        out.append(Cue(start, end, escape(line.text)))
    return out


def escape(text: str) -> str:
    """Plain caption text as WebVTT cue text (`&`, `<`, `>` escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(cue_list: Iterable[Cue], header: str = "WEBVTT") -> str:
    """A WebVTT file of these cues (already escaped), in start order."""
    out = [header, ""]
    for cue in sorted(cue_list, key=lambda c: (c.start, c.end)):
        out += [f"{format_timestamp(cue.start)} --> {format_timestamp(cue.end)}", cue.text, ""]
    return "\n".join(out)
