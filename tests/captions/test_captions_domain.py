"""Live captions' rules without sockets or a database: cleaning, splitting, keys, cues, frames."""

from __future__ import annotations

import datetime as dt

from live.captions.domain import (
    MAX_LINE,
    Line,
    clean,
    cues,
    partial_text,
    piece_keys,
    split_line,
    webvtt,
)
from live.captions.feed import Feed
from live.captions.messages import LineView, Notice, Partial
from live.hub import Entry
from live.realtime.envelope import encode

T0 = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_clean_drops_control_characters_and_collapses_space() -> None:
    """Tabs, newlines and runs of spaces become one space; control characters go."""
    assert clean("  Hei\t\tpå\ndeg\x07 \u200b!  ") == "Hei på deg !"


def test_over_long_line_is_split_between_words() -> None:
    """A line longer than MAX_LINE is split into pieces at word boundaries, none refused."""
    words = ["ordet"] * 60
    pieces = split_line(" ".join(words))
    assert len(pieces) > 1 and all(len(p) <= MAX_LINE for p in pieces)
    assert " ".join(pieces) == " ".join(words)


def test_a_word_longer_than_a_line_is_cut() -> None:
    """One endless word is cut into pieces of MAX_LINE characters."""
    assert split_line("x" * (MAX_LINE * 2 + 3)) == ["x" * MAX_LINE, "x" * MAX_LINE, "xxx"]


def test_blank_line_has_no_pieces() -> None:
    """Only white space gives nothing to store."""
    assert split_line(" \n\t ") == []


def test_piece_keys_start_with_the_line_key() -> None:
    """The first piece keeps the captioner's key; the others derive from it."""
    assert piece_keys("k1", 3) == ["k1", "k1/1", "k1/2"]


def test_partial_text_keeps_the_end_of_a_long_line() -> None:
    """A partial line longer than MAX_PARTIAL shows its newest characters."""
    assert partial_text("a" * 600 + "slutt").endswith("slutt")
    assert len(partial_text("a" * 600)) == 500


def test_cues_run_from_first_keystroke_until_the_next_line() -> None:
    """A cue starts at its first keystroke, ends LINGER after commit or at the next line."""
    lines = [
        Line(1, "Velkommen", "Kari", at(10), at(12)),
        Line(2, "til <seminaret> & debatten", "Ola", at(13), at(15)),
    ]
    found = cues(lines, T0)
    assert [(c.start, c.end) for c in found] == [(10.0, 13.0), (13.0, 19.0)]
    assert found[1].text == "til &lt;seminaret&gt; &amp; debatten"


def test_cues_are_clipped_to_the_clock() -> None:
    """Lines before the origin are left out; one that overlaps it starts at 0."""
    lines = [Line(1, "før", "", at(-30), at(-20)), Line(2, "over", "", at(-2), at(1))]
    found = cues(lines, T0, until=3.0)
    assert [(c.start, c.end, c.text) for c in found] == [(0.0, 3.0, "over")]


def test_webvtt_lists_cues_in_order() -> None:
    """The WebVTT text has the header and each cue's timing and text."""
    text = webvtt(cues([Line(1, "Hei", "", at(1), at(2))], T0))
    assert text.startswith("WEBVTT\n\n00:00:01.000 --> 00:00:06.000\nHei\n")


def _entry(notice: Notice) -> Entry:
    return Entry(v=0, after=0, data=encode(notice))


def test_feed_coalesces_a_tick_into_one_frame() -> None:
    """Many partials and lines between two ticks give one frame: newest partial, new lines."""
    feed = Feed()
    for text in ("V", "Ve", "Vel"):
        feed.add(_entry(Notice(partial=Partial(text=text, who="a", by="Kari"), who="a")))
    feed.add(_entry(Notice(lines=[LineView(seq=1, text="Hei", at="t")], who="b")))
    frame = feed.take()
    assert frame is not None
    assert '"partial":{"text":"Vel"' in frame and '"seq":1' in frame
    assert feed.take() is None


def test_commit_clears_only_the_committers_partial() -> None:
    """A line from one captioner clears their partial, not the other captioner's."""
    feed = Feed()
    feed.add(_entry(Notice(partial=Partial(text="skriver", who="a"), who="a")))
    feed.add(_entry(Notice(lines=[LineView(seq=1, text="x", at="t")], who="b")))
    assert feed.partial is not None
    feed.add(_entry(Notice(lines=[LineView(seq=2, text="skriver", at="t")], who="a")))
    assert feed.partial is None


def test_feed_snapshot_keeps_recent_lines_once() -> None:
    """A line seen twice (notice and database) is in the snapshot once, in order."""
    feed = Feed()
    assert feed.snapshot() is None
    feed.add(_entry(Notice(lines=[LineView(seq=2, text="to", at="t")])))
    feed.load([LineView(seq=1, text="en", at="t"), LineView(seq=2, text="to", at="t")])
    snapshot = feed.snapshot()
    assert snapshot is not None and snapshot.count('"seq"') == 2
    assert snapshot.index('"seq":1') < snapshot.index('"seq":2')
