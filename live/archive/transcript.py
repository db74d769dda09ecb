"""A recording's transcript: its caption track read back as text with times, for the
recording page (searchable, each line a link to its moment) and the archive search.

The transcript is the first caption track that is not an automatic draft, else the draft
(`<lang>-auto`, `live.archive.transcripts`). WebVTT tags are dropped and entities decoded;
the text is plain and escaped wherever it is shown (Jinja's autoescape).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from live.archive.service import CAPTIONS_DIR
from live.errors import Invalid
from live.models.recordings import RecordingCaption
from stream.package.captions import parse_captions

MAX_QUERY = 200
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class Line:
    """One cue of the transcript: where it starts (player seconds) and its plain text."""

    start: float
    text: str


def transcript_lang(captions: list[RecordingCaption]) -> str | None:
    """The caption track the transcript is made of, or None."""
    langs = [c.lang for c in captions]
    chosen = [lang for lang in langs if not lang.endswith("-auto")] or langs
    return chosen[0] if chosen else None


def read_lines(folder: Path, lang: str) -> list[Line]:
    """The cues of `folder/captions/<lang>.vtt` as plain lines; [] if missing or unreadable."""
    try:
        captions = parse_captions((folder / CAPTIONS_DIR / f"{lang}.vtt").read_bytes())
    except (OSError, Invalid):
        return []
    lines = []
    for cue in captions.cues:
        text = html.unescape(_TAG.sub("", cue.text)).replace("\n", " ").strip()
        if text:
            lines.append(Line(cue.start, text))
    return lines


def search(lines: list[Line], query: str) -> list[Line]:
    """The lines holding every word of `query` (case-insensitive); all lines for no query."""
    words = query[:MAX_QUERY].lower().split()
    return [line for line in lines if all(w in line.text.lower() for w in words)]


def plain_text(folder: Path, captions_langs: list[str]) -> str:
    """The transcript as one lower-case text, for the archive search."""
    lang = transcript_lang([RecordingCaption(lang=lang) for lang in captions_langs])
    if lang is None:
        return ""
    return " ".join(line.text for line in read_lines(folder, lang)).lower()
