"""One event's live captions in this process: the recent lines and the line being typed.

A `Feed` is the fan-out's collector for the event's captions channel
(`live.realtime.sides.Side`): each hub notice updates it, and each tick `take`s one
`captions` frame of the lines committed since the last tick and the newest partial line,
so a captioner typing ten keystrokes a second still costs viewers one frame a tick. It
also keeps the last `RECENT` lines, which a (re)connecting client gets as its snapshot
(read from the database once, when the feed is new), so a crowd reconnecting at once
costs no query each. A notice that the captioner link was replaced is handed to
`on_rekeyed` (the service ends the captioners' connections made with the old link).
"""

from __future__ import annotations

from collections.abc import Callable

from live.captions.domain import RECENT
from live.captions.messages import CaptionsPush, LineView, Partial, notice_decoder
from live.hub import Entry
from live.realtime.envelope import encode


class Feed:
    """The captions of one event as this process has seen them."""

    __slots__ = ("_changed", "_new", "loaded", "on_rekeyed", "partial", "recent")

    def __init__(self, on_rekeyed: Callable[[], None] | None = None) -> None:
        self.on_rekeyed = on_rekeyed
        self.recent: dict[int, LineView] = {}
        self.partial: Partial | None = None
        self.loaded = False
        self._new: dict[int, LineView] = {}
        self._changed = False

    def add(self, entry: Entry) -> None:
        """A notice from the captions channel."""
        notice = notice_decoder.decode(entry.data)
        if notice.rekeyed and self.on_rekeyed is not None:
            self.on_rekeyed()
        for line in notice.lines:
            self._line(line)
        if notice.partial is not None:
            self.partial = notice.partial
            self._changed = True
        elif notice.who and self.partial is not None and self.partial.who == notice.who:
            self.partial = None  # that captioner committed or cleared their line
            self._changed = True

    def _line(self, line: LineView) -> None:
        if line.seq in self.recent:
            return
        self.recent[line.seq] = line
        self._new[line.seq] = line
        self._changed = True
        if len(self.recent) > RECENT:
            for seq in sorted(self.recent)[: len(self.recent) - RECENT]:
                del self.recent[seq]

    def missed(self, lines: list[LineView]) -> None:
        """Lines read back after the channel was lost: the unseen ones go in the next frame."""
        for line in lines:
            self._line(line)

    def load(self, lines: list[LineView]) -> None:
        """The newest lines from the database (a new feed); notices already seen stay."""
        for line in lines:
            if line.seq not in self.recent:
                self.recent[line.seq] = line
        for seq in sorted(self.recent)[: max(len(self.recent) - RECENT, 0)]:
            del self.recent[seq]
        self.loaded = True

    def take(self) -> str | None:
        """One `captions` frame of the news since the last take, or None."""
        if not self._changed:
            return None
        push = CaptionsPush(partial=self.partial, lines=sorted(self._new.values(),
                                                               key=lambda line: line.seq))
        self._new = {}
        self._changed = False
        return encode(push).decode()

    def snapshot(self) -> str | None:
        """The `captions` frame a connecting client gets: recent lines and the partial
        (None when there is neither)."""
        if not self.recent and self.partial is None:
            return None
        lines = [self.recent[seq] for seq in sorted(self.recent)]
        return encode(CaptionsPush(partial=self.partial, lines=lines, snapshot=True)).decode()
