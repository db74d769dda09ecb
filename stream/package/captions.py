"""Captions: parse WebVTT and SRT, refuse bad input with its line number, write clean WebVTT.

    text = normalise_captions(uploaded_bytes)   # WebVTT or SRT in, WebVTT out

What is kept: cue identifiers, timings, cue settings (WebVTT), `<b> <i> <u>` tags and, for
WebVTT input, the other WebVTT tags; STYLE and REGION blocks. What is dropped: NOTE blocks,
SRT `<font>` tags and `{\\an8}`-style SSA overrides, cues without text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from live.errors import Invalid

MAX_CAPTION_BYTES = 5_000_000

_TIME = r"(?:(\d{1,3}):)?(\d{2}):(\d{2})[.,](\d{3})"
_VTT_TIMING = re.compile(rf"^{_TIME}[ \t]+-->[ \t]+{_TIME}(?:[ \t]+(.*))?$")
_SRT_TIMING = re.compile(rf"^{_TIME}[ \t]*-->[ \t]*{_TIME}(?:[ \t]+X1:.*)?$")
_SRT_KEEP_TAG = re.compile(r"</?[biu]>", re.IGNORECASE)
_SRT_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_SSA_OVERRIDE = re.compile(r"\{\\[^{}]*\}")
_ENTITY = re.compile(r"&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")


class CaptionsInvalid(Invalid):
    """Captions that do not parse; `line` is the 1-based line where parsing stopped."""

    code = "captions.invalid"

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}", fields={"line": str(line)})
        self.line = line


@dataclass(frozen=True, slots=True)
class Cue:
    """One caption: shown from `start` to `end` seconds."""

    start: float
    end: float
    text: str
    identifier: str | None = None
    settings: str = ""


@dataclass(frozen=True, slots=True)
class Captions:
    """A parsed caption file: its cues and any WebVTT STYLE/REGION blocks."""

    cues: tuple[Cue, ...]
    blocks: tuple[str, ...] = ()


def normalise_captions(data: bytes | str) -> str:
    """Parse WebVTT or SRT (sniffed from the content) and return clean WebVTT."""
    return to_webvtt(parse_captions(data))


def parse_captions(data: bytes | str) -> Captions:
    """Parse WebVTT if the text starts with `WEBVTT`, SRT otherwise."""
    text = decode_text(data)
    if text.startswith("WEBVTT"):
        return parse_webvtt(text)
    first = next(_blocks(text), (1, [""]))
    if not re.match(r"\d", first[1][0].strip()):
        raise CaptionsInvalid(
            first[0], "not a caption file: WebVTT starts with 'WEBVTT', SRT with a cue number"
        )
    return parse_srt(text)


def decode_text(data: bytes | str) -> str:
    """Bytes to text: UTF-8 (with or without BOM), else Windows-1252, which old SRT files use."""
    if isinstance(data, bytes):
        if len(data) > MAX_CAPTION_BYTES:
            raise CaptionsInvalid(1, f"the file is larger than {MAX_CAPTION_BYTES} bytes")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    else:
        text = data
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise CaptionsInvalid(line, "binary data (NUL byte) in a caption file")
    return text


def parse_webvtt(text: str) -> Captions:
    """Parse WebVTT text; raise `CaptionsInvalid` naming the first bad line."""
    text = decode_text(text)
    blocks = list(_blocks(text))
    if not blocks:
        raise CaptionsInvalid(1, "the file is empty")
    first_line, header = blocks[0]
    if not re.fullmatch(r"WEBVTT(?:[ \t].*)?", header[0]):
        raise CaptionsInvalid(first_line, "a WebVTT file must start with 'WEBVTT'")
    for offset, line in enumerate(header[1:], start=1):
        if "-->" in line:
            raise CaptionsInvalid(first_line + offset, "a blank line must follow the WEBVTT header")
    cues: list[Cue] = []
    extra: list[str] = []
    for line_no, lines in blocks[1:]:
        head = lines[0]
        if head.startswith("NOTE") and re.match(r"NOTE(?:[ \t]|$)", head):
            continue
        if head in ("STYLE", "REGION") and not cues:
            extra.append("\n".join(lines))
            continue
        cue = _vtt_cue(line_no, lines)
        if cue.text:
            cues.append(cue)
    return Captions(tuple(cues), tuple(extra))


def _vtt_cue(line_no: int, lines: list[str]) -> Cue:
    identifier = None
    if "-->" not in lines[0] and not re.match(r"\d+:\d", lines[0]):
        identifier, lines, line_no = lines[0], lines[1:], line_no + 1
        if not lines:
            raise CaptionsInvalid(line_no - 1, "expected a cue timing after the cue identifier")
    match = _VTT_TIMING.match(lines[0])
    if match is None:
        raise CaptionsInvalid(
            line_no, f"expected a cue timing like '00:01:02.000 --> 00:01:05.000', got {lines[0]!r}"
        )
    start, end = _times(match, line_no)
    for offset, payload in enumerate(lines[1:], start=1):
        if "-->" in payload:
            raise CaptionsInvalid(line_no + offset, "'-->' inside cue text (missing blank line?)")
    settings = " ".join((match.group(9) or "").split())
    return Cue(start, end, "\n".join(lines[1:]).strip(), identifier, settings)


def parse_srt(text: str) -> Captions:
    """Parse SubRip (SRT) text; raise `CaptionsInvalid` naming the first bad line."""
    text = decode_text(text)
    cues: list[Cue] = []
    for line_no, lines in _blocks(text):
        if re.fullmatch(r"\d+", lines[0].strip()):
            lines, line_no = lines[1:], line_no + 1
            if not lines:
                raise CaptionsInvalid(line_no - 1, "expected a timing line after the cue number")
        match = _SRT_TIMING.match(lines[0].strip())
        if match is None:
            raise CaptionsInvalid(
                line_no,
                f"expected an SRT timing like '00:01:02,000 --> 00:01:05,000', got {lines[0]!r}",
            )
        start, end = _times(match, line_no)
        for offset, payload in enumerate(lines[1:], start=1):
            if "-->" in payload:
                raise CaptionsInvalid(
                    line_no + offset, "'-->' inside cue text (missing blank line?)"
                )
        body = _srt_text("\n".join(lines[1:]))
        if body:
            cues.append(Cue(start, end, body))
    if not cues:
        raise CaptionsInvalid(1, "no captions found (expected WebVTT or SRT)")
    return Captions(tuple(cues))


def _srt_text(text: str) -> str:
    """SRT markup to WebVTT: keep b/i/u, drop font and SSA tags, escape the rest."""
    text = _SSA_OVERRIDE.sub("", text)
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(0).lower())
        return f"\x00{len(kept) - 1}\x00"

    text = _SRT_KEEP_TAG.sub(keep, text)
    text = _SRT_TAG.sub("", text)
    text = _escape(text)
    text = re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)
    return "\n".join(line.strip() for line in text.strip().split("\n") if line.strip())


def _escape(text: str) -> str:
    """Escape `&`, `<` and `>` for WebVTT, leaving existing entities alone."""
    parts = _ENTITY.split(text)
    entities = _ENTITY.findall(text)
    escaped = [p.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for p in parts]
    out = escaped[0]
    for entity, part in zip(entities, escaped[1:], strict=True):
        out += entity + part
    return out


def _times(match: re.Match[str], line_no: int) -> tuple[float, float]:
    groups = match.groups()
    start = _seconds(groups[0:4], line_no)
    end = _seconds(groups[4:8], line_no)
    if end <= start:
        raise CaptionsInvalid(line_no, "the cue ends before it starts")
    return start, end


def _seconds(parts: tuple[str | None, ...], line_no: int) -> float:
    hours, minutes, seconds, millis = (int(p) if p else 0 for p in parts)
    if minutes > 59 or seconds > 59:
        raise CaptionsInvalid(line_no, "minutes and seconds must be below 60")
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def _blocks(text: str) -> Iterator[tuple[int, list[str]]]:
    """Blank-line separated blocks with the 1-based line number of their first line."""
    lines: list[str] = []
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not lines:
                start = number
            lines.append(line.rstrip())
        elif lines:
            yield start, lines
            lines = []
    if lines:
        yield start, lines


def to_webvtt(captions: Captions) -> str:
    """Serialise to WebVTT: header, STYLE/REGION blocks, then cues ordered by start time."""
    out = ["WEBVTT", ""]
    for block in captions.blocks:
        out += [block, ""]
    for cue in sorted(captions.cues, key=lambda c: (c.start, c.end)):
        if cue.identifier:
            out.append(cue.identifier)
        timing = f"{format_timestamp(cue.start)} --> {format_timestamp(cue.end)}"
        out.append(f"{timing} {cue.settings}" if cue.settings else timing)
        out += [cue.text, ""]
    return "\n".join(out)


def format_timestamp(seconds: float) -> str:
    """Seconds as a WebVTT timestamp, always with hours: `01:02:03.456`."""
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"
