"""Captions: WebVTT and SRT in, clean WebVTT out, bad input refused with its line number."""

from __future__ import annotations

import pytest

from live.errors import Invalid
from stream.package.captions import (
    CaptionsInvalid,
    Cue,
    format_timestamp,
    normalise_captions,
    parse_captions,
    parse_srt,
    parse_webvtt,
)

SRT = (
    "1\r\n"
    "00:00:01,000 --> 00:00:02,500\r\n"
    '<font color="#ffff00">Velkommen</font> til <i>Gjøvik</i> & Otta\r\n'
    "\r\n"
    "2\r\n"
    "00:00:03,000 --> 00:00:04,000\r\n"
    "{\\an8}Første linje\r\n"
    "andre linje\r\n"
)

VTT = """WEBVTT - Salen

NOTE opptak fra Elverum
kan slettes

STYLE
::cue { color: yellow }

intro
00:01.000 --> 00:02.000 line:0 align:start
<v Ordfører>Hei alle sammen</v>

01:00:03.000 --> 01:00:04.500
Siste spørsmål
"""


def test_srt_becomes_webvtt() -> None:
    """SRT timings get dots, font and SSA tags go, <i> stays and & is escaped."""
    assert normalise_captions(SRT) == (
        "WEBVTT\n\n"
        "00:00:01.000 --> 00:00:02.500\n"
        "Velkommen til <i>Gjøvik</i> &amp; Otta\n\n"
        "00:00:03.000 --> 00:00:04.000\n"
        "Første linje\nandre linje\n"
    )


def test_windows_1252_srt_is_read() -> None:
    """An SRT saved as Windows-1252 (common for Norwegian files) keeps its æ, ø and å."""
    captions = parse_captions(SRT.replace("Gjøvik", "Lærdal på Ål").encode("cp1252"))
    assert "Lærdal på Ål" in captions.cues[0].text


def test_webvtt_is_normalised() -> None:
    """WebVTT keeps identifiers, settings, STYLE and voice tags; NOTE blocks are dropped."""
    text = normalise_captions(VTT.encode("utf-8-sig"))
    assert text.startswith("WEBVTT\n\nSTYLE\n::cue { color: yellow }\n\nintro\n")
    assert "00:00:01.000 --> 00:00:02.000 line:0 align:start\n<v Ordfører>Hei" in text
    assert "01:00:03.000 --> 01:00:04.500\nSiste spørsmål\n" in text
    assert "NOTE" not in text and "Elverum" not in text


def test_normalised_output_parses_to_the_same_cues() -> None:
    """Parsing the WebVTT we wrote gives back the cues we read."""
    first = parse_webvtt(VTT)
    again = parse_webvtt(normalise_captions(VTT))
    assert again.cues == first.cues
    assert first.cues[0] == Cue(
        1.0, 2.0, "<v Ordfører>Hei alle sammen</v>", "intro", "line:0 align:start"
    )


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("WEBVTT\n\n00:01.000 --> 00:02.000\nok\n\n00:03.000 -> 00:04.000\nbad\n", 6, "cue timing"),
        ("WEBVTT\n\nid\n00:01.000 --> 00:00.500\nbackwards\n", 4, "ends before it starts"),
        ("WEBVTT\n\n00:01.000 --> 00:02.000\none\n00:02.000 --> 00:03.000\ntwo\n", 5, "-->"),
        ("WEBVTT\n00:01.000 --> 00:02.000\nno blank line\n", 2, "blank line"),
        ("WEBVTT\n\n00:61.000 --> 00:62.000\nx\n", 3, "below 60"),
        (
            "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:02,000 00:00:03,000\nx\n",
            6,
            "SRT timing",
        ),
        ("1\n00:00:01,000 --> 00:00:02,000\nok\n\n\n\n7\n", 7, "after the cue number"),
        ("Dette er ikke teksting\n", 1, "not a caption file"),
        ("", 1, "not a caption file"),
    ],
)
def test_bad_captions_name_the_line(text: str, line: int, words: str) -> None:
    """Invalid captions raise captions.invalid with the line number in message and fields."""
    with pytest.raises(CaptionsInvalid) as error:
        normalise_captions(text)
    assert isinstance(error.value, Invalid)
    assert error.value.code == "captions.invalid"
    assert error.value.line == line
    assert error.value.message.startswith(f"line {line}: ")
    assert words in error.value.message
    assert error.value.as_dict()["fields"] == {"line": str(line)}


def test_srt_without_numbers_is_accepted() -> None:
    """SRT blocks that leave out the cue number still parse."""
    captions = parse_srt("00:00:01,000 --> 00:00:02,000\nEn\n\n00:00:03,000 --> 00:00:04,000\nTo\n")
    assert [c.text for c in captions.cues] == ["En", "To"]


def test_binary_file_is_refused() -> None:
    """A file with NUL bytes (a video uploaded as captions) is refused with its line."""
    with pytest.raises(CaptionsInvalid) as error:
        normalise_captions(b"WEBVTT\n\nfoo\x00bar")
    assert error.value.line == 3


def test_timestamps_are_formatted_with_hours() -> None:
    """Timestamps always carry hours and milliseconds."""
    assert format_timestamp(3723.4567) == "01:02:03.457"
    assert format_timestamp(0) == "00:00:00.000"
