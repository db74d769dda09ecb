"""What a fan-out room missed while its hub subscription was down, read from the database.

A room (`live.realtime.fanout.Room`) hears the notices of every process through the hub.
When a channel is lost (Redis away, a subscription lagged) and then live again, notices of
other processes may have passed unseen. The room's `Catcher` knows, per channel, the newest
version up to which it heard every notice (`Watermark`), and asks the syncing feature's
`CatchUp` for everything after it; the answer is handed to the room as one more notice. A
catch-up that fails (the database away too) is tried again every `CATCH_UP_RETRY` seconds
while the channel stays live. The first `live` of a channel only reads its version.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from live.hub import Entry

log = logging.getLogger(__name__)

# (event, since, moderators' channel?) -> the channel's newest committed version and, when
# `since` is given and older, the text of one notice of every change after it.
CatchUp = Callable[[int, int | None, bool], Awaitable[tuple[int, str | None]]]
# Seconds before a catch-up that failed (the database away too) is tried again.
CATCH_UP_RETRY = 1.0
# Notices heard out of order that a watermark keeps while waiting for the one before.
MAX_AHEAD = 1000


class Watermark:
    """The newest version up to which every notice of one channel reached the room.

    Notices from several processes may arrive out of version order; each names the version
    of the channel's notice before it (`Entry.after`), so the mark moves only along an
    unbroken chain and notices ahead of a gap wait (`MAX_AHEAD` at most). None: not known yet.
    """

    __slots__ = ("_ahead", "v")

    def __init__(self) -> None:
        self.v: int | None = None
        self._ahead: dict[int, int] = {}  # after -> v

    def saw(self, entry: Entry) -> None:
        """A notice reached the room."""
        if self.v is not None and entry.after <= self.v:
            self.reach(entry.v)
        elif len(self._ahead) < MAX_AHEAD:
            self._ahead[entry.after] = max(entry.v, self._ahead.get(entry.after, 0))

    def reach(self, v: int) -> None:
        """Every notice up to `v` is known to have reached the room."""
        self.v = v if self.v is None else max(self.v, v)
        while True:
            joined = [after for after in self._ahead if after <= self.v]
            if not joined:
                return
            for after in joined:
                self.v = max(self.v, self._ahead.pop(after))


class CatchingRoom(Protocol):
    """What a `Catcher` uses of its room."""

    event_id: int
    public_channel: str
    mod_channel: str

    def is_live(self, channel: str) -> bool:
        """Is the hub subscription to `channel` live?"""
        ...

    def entry(self, channel: str, entry: Entry) -> None:
        """Deliver a notice as if the hub had brought it."""
        ...

    def known_public(self, v: int) -> None:
        """Public version `v` is committed."""
        ...


class Catcher:
    """One room's watermarks, and its catch-up task (at most one at a time)."""

    __slots__ = ("_catch_up", "_due", "_room", "_task", "marks")

    def __init__(self, room: CatchingRoom, catch_up: CatchUp | None) -> None:
        self._room, self._catch_up = room, catch_up
        self.marks = {room.public_channel: Watermark(), room.mod_channel: Watermark()}
        self._due: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def saw(self, channel: str, entry: Entry) -> None:
        """A notice on `channel` reached the room."""
        self.marks[channel].saw(entry)

    def due(self, channel: str) -> asyncio.Task[None] | None:
        """`channel` is live again: read what it missed. Returns a task the room owns (and
        cancels when it closes) when a new one had to start."""
        if self._catch_up is None:
            return None
        self._due.add(channel)
        if self._task is not None and not self._task.done():
            return None  # the running task takes it on
        self._task = asyncio.create_task(
            self._run(self._catch_up), name=f"salen-catch-up-{self._room.event_id}")
        return self._task

    async def _run(self, catch_up: CatchUp) -> None:
        room = self._room
        while self._due:
            channel = self._due.pop()
            if not room.is_live(channel):
                continue  # lost again: its next `live` asks once more
            mark = self.marks[channel]
            since = mark.v
            try:
                v, text = await catch_up(room.event_id, since, channel == room.mod_channel)
            except Exception as exc:  # noqa: BLE001  (the database may be away too)
                log.warning("event %s could not catch up (%r); retrying", room.event_id, exc)
                self._due.add(channel)
                await asyncio.sleep(CATCH_UP_RETRY)
                continue
            if text is not None and since is not None and v > since:
                room.entry(channel, Entry(v, since, text.encode()))
            mark.reach(v)
            if channel == room.public_channel:
                room.known_public(v)
