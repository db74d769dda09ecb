"""Live captions: committing lines (one transaction, then a hub notice) and partial lines.

`commit` stores a line's pieces (`domain.split_line`) with the event's next sequence
numbers, unless a line with the same idempotency key is stored already: then it returns
the stored lines and publishes nothing, so a line sent twice (a retry after a reconnect,
or by both captioners during a hand-over) is never doubled, and none is lost while either
captioner still holds it. `typing` publishes the partial line and stores nothing.

The service is also the fan-out's `Side` for captions (`live.realtime.sides`): one `Feed`
per event with connections in this process. The live HLS learns of lines from the hub
too (`live.captions.hls`), since a stream runs in its event's worker and the captioner's
socket may reach any worker.

When the organiser replaces the captioner link (`replace_key`, after the event's new
`captions_token` is stored), a notice on the captions channel reaches every process with
connections to the event, and each ends the connections its captioners opened with the old
link (`CloseCode.KEY_REPLACED`); an organiser captioning by role is not ended.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.captions.domain import RECENT, Line, partial_text, piece_keys, split_line
from live.captions.feed import Feed
from live.captions.messages import LineView, Notice, Partial
from live.errors import Conflict, Invalid
from live.hub import Entry, Hub
from live.models import CaptionLine, Event
from live.models.base import utcnow
from live.realtime.channels import captions_channel
from live.realtime.conn import Conn
from live.realtime.envelope import CloseCode, encode

log = logging.getLogger(__name__)

# Attempts at a commit that lost the race for a sequence number to another process.
ATTEMPTS = 5


def line_view(row: CaptionLine) -> LineView:
    """A stored line as clients see it."""
    return LineView(seq=row.seq, text=row.text, at=row.at.isoformat(), by=row.by,
                    started=row.started_at.isoformat())


def as_line(row: CaptionLine) -> Line:
    """A stored line as the rules see it."""
    return Line(row.seq, row.text, row.by, row.started_at, row.at)


class CaptionService:
    """Live captions of every event, for this process."""

    def __init__(self, db: async_sessionmaker[AsyncSession], hub: Hub) -> None:
        self.db, self.hub = db, hub
        self.feeds: dict[int, Feed] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._loading: dict[int, asyncio.Lock] = {}
        # Per event, this process's captioners' connections and the link key each opened with.
        self.captioners: dict[int, dict[Conn, str]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # --- the fan-out's side (live.realtime.sides.Side) -------------------------------------------

    def channel(self, event_id: int) -> str:
        return captions_channel(event_id)

    def collector(self, event_id: int) -> Feed:
        feed = self.feeds.get(event_id)
        if feed is None:
            feed = self.feeds[event_id] = Feed(lambda: self._rekeyed(event_id))
        return feed

    def release(self, event_id: int) -> None:
        self.feeds.pop(event_id, None)
        self._loading.pop(event_id, None)

    async def catch_up(self, event_id: int) -> None:
        """The captions channel is back after a loss: the recent lines from the database,
        those the feed has not seen going out with its next frame; and a captioner link
        replaced meanwhile ends its connections here too."""
        self._rekeyed(event_id)
        rows = await self.recent(event_id)
        feed = self.feeds.get(event_id)
        if feed is not None:
            feed.missed([line_view(row) for row in rows])

    async def snapshot(self, event_id: int) -> str | None:
        """The `captions` snapshot frame for a connecting client (None: no captions yet).

        The event's feed reads the recent lines once; a crowd connecting meanwhile waits
        for that one read.
        """
        feed = self.feeds.get(event_id) or Feed()
        if not feed.loaded:
            async with self._loading.setdefault(event_id, asyncio.Lock()):
                if not feed.loaded:
                    feed.load([line_view(row) for row in await self.recent(event_id)])
        return feed.snapshot()

    # --- reading ---------------------------------------------------------------------------

    async def recent(self, event_id: int, count: int = RECENT) -> list[CaptionLine]:
        """The newest `count` committed lines of the event, oldest first."""
        async with self.db() as session:
            rows = (await session.scalars(
                select(CaptionLine).where(CaptionLine.event_id == event_id)
                .order_by(CaptionLine.seq.desc()).limit(count))).all()
        return sorted(rows, key=lambda row: row.seq)

    async def between(self, event_id: int, start: dt.datetime, end: dt.datetime) -> list[Line]:
        """The lines committed from `start` to `end` (a recording's span), in order."""
        async with self.db() as session:
            rows = (await session.scalars(
                select(CaptionLine).where(
                    CaptionLine.event_id == event_id, CaptionLine.at >= start,
                    CaptionLine.started_at <= end,
                ).order_by(CaptionLine.seq))).all()
        return [as_line(row) for row in rows]

    # --- the captioner link ------------------------------------------------------------------

    def enlist(self, event_id: int, conn: Conn, key: str) -> None:
        """A captioner's connection, opened with the link key `key`, ends if it is replaced."""
        held = self.captioners.setdefault(event_id, {})
        for gone in [c for c in held if c.closed]:  # one that failed before its close hook
            del held[gone]
        held[conn] = key

    def discharge(self, event_id: int, conn: Conn) -> None:
        """The captioner's connection has closed."""
        held = self.captioners.get(event_id, {})
        held.pop(conn, None)
        if not held:
            self.captioners.pop(event_id, None)

    async def replace_key(self, event_id: int) -> None:
        """The event's captioner link was replaced (its new key is stored): end the
        captioners' connections opened with the old one, in every process."""
        await self._publish(event_id, 0, Notice(rekeyed=True))

    def _rekeyed(self, event_id: int) -> None:
        if event_id in self.captioners:
            task = asyncio.get_running_loop().create_task(self._end_old(event_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def current_key(self, event_id: int) -> str | None:
        """The event's captioner key as stored now (not as cached by the socket)."""
        async with self.db() as session:
            key: str | None = await session.scalar(
                select(Event.captions_token).where(Event.id == event_id))
        return key

    async def _end_old(self, event_id: int) -> None:
        try:
            key = await self.current_key(event_id)
        except Exception:  # the connections end at their next reconnect instead
            log.exception("event %s: cannot read the new captioner key", event_id)
            return
        for conn, held in list(self.captioners.get(event_id, {}).items()):
            if held != key:
                conn.drop(CloseCode.KEY_REPLACED, "the captioner link was replaced")

    # --- writing ---------------------------------------------------------------------------

    async def typing(self, event_id: int, who: str, name: str, text: str) -> None:
        """Publish the line `who` is typing (blank: they stopped). Nothing is stored."""
        shown = partial_text(text)
        partial = Partial(text=shown, who=who, by=name) if shown else None
        await self._publish(event_id, 0, Notice(partial=partial, who=who))

    async def commit(
        self, event_id: int, who: str, name: str, key: str, text: str,
        started_at: dt.datetime | None = None,
    ) -> list[LineView]:
        """Store the line (split when long) once per key, publish it, and return it."""
        pieces = split_line(text)
        if not pieces:
            raise Invalid("The line is empty.", code="captions.empty")
        keys = piece_keys(key, len(pieces))
        lock = self._locks.setdefault(event_id, asyncio.Lock())
        async with lock:
            for _ in range(ATTEMPTS):
                try:
                    rows, new = await self._store(event_id, name, keys, pieces, started_at)
                    break
                except IntegrityError:
                    continue  # another process took the sequence number (or the key): again
            else:
                raise Conflict("Busy; send the line again.", code="captions.busy")
        views = [line_view(row) for row in rows]
        if new:
            await self._publish(event_id, views[-1].seq, Notice(lines=views, who=who))
        return views

    async def _store(
        self, event_id: int, name: str, keys: list[str], pieces: list[str],
        started_at: dt.datetime | None,
    ) -> tuple[list[CaptionLine], bool]:
        async with self.db() as session, session.begin():
            stored = (await session.scalars(select(CaptionLine).where(
                CaptionLine.event_id == event_id, CaptionLine.key.in_(keys)))).all()
            if stored:
                return sorted(stored, key=lambda row: row.seq), False
            top = await session.scalar(
                select(func.max(CaptionLine.seq)).where(CaptionLine.event_id == event_id)) or 0
            now = utcnow()
            begun = min(started_at or now, now)
            rows = [
                CaptionLine(event_id=event_id, seq=top + i + 1, key=k, text=piece, by=name,
                            started_at=begun, at=now)
                for i, (k, piece) in enumerate(zip(keys, pieces, strict=True))
            ]
            session.add_all(rows)
        return rows, True

    async def _publish(self, event_id: int, v: int, notice: Notice) -> None:
        await self.hub.publish(captions_channel(event_id), Entry(v=v, after=0, data=encode(notice)))
