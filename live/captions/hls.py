"""Live captions into the live HLS of the streams running in this process.

A stream runs in its event's worker, while the captioner's socket may reach any worker;
so this follows the hub: once a second it looks at the streams live here
(`LiveStreams.live_names`, the interpreters' streams left out) and listens to each one's captions channel through a `Relay`,
handing every committed line to the stream's subtitle writer (`stream.subtitles`) as a cue
from its first keystroke until `LINGER` seconds after its commit. Partial lines are not
written into HLS (a segment is a file a CDN keeps: only committed text goes there).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.captions.domain import LINGER, escape
from live.captions.messages import notice_decoder
from live.hub import Entry, Hub, Relay
from live.models import Event
from live.realtime.beat import sleep_beats
from live.realtime.channels import captions_channel
from live.streaming.whip import interpreter_of
from stream.manager import LiveStreams

log = logging.getLogger(__name__)
# Seconds between two looks at which streams are live here.
CHECK_SECONDS = 1.0


@dataclasses.dataclass(frozen=True, slots=True)
class _StreamListener:
    """One live stream's captions channel, as a relay listener."""

    streams: LiveStreams
    slug: str

    def entry(self, channel: str, entry: Entry) -> None:
        for line in notice_decoder.decode(entry.data).lines:
            at = dt.datetime.fromisoformat(line.at).timestamp()
            start = dt.datetime.fromisoformat(line.started).timestamp() if line.started else at
            self.streams.caption(self.slug, start, at + LINGER, escape(line.text))

    def live(self, channel: str) -> None:
        """Nothing to catch up: lines committed while unsubscribed are kept in the recording."""

    def lost(self, channel: str) -> None:
        """As `live`."""


class HlsCaptions:
    """Follows the captions channel of every stream live in this process."""

    def __init__(self, db: async_sessionmaker[AsyncSession], hub: Hub, streams: LiveStreams) -> None:
        self.db, self.streams = db, streams
        self._relay = Relay(hub)
        self._following: dict[str, tuple[str, _StreamListener]] = {}

    @property
    def following(self) -> frozenset[str]:
        """The streams whose captions channel this follows now."""
        return frozenset(self._following)

    async def check(self) -> None:
        """Follow the streams that went live here, let go of those that ended."""
        # An interpreter's stream (a picture-in-picture beside the event's) carries no captions.
        live = {name for name in self.streams.live_names() if interpreter_of(name) is None}
        for slug in set(self._following) - live:
            channel, listener = self._following.pop(slug)
            await self._relay.unlisten(channel, listener)
        for slug in live - set(self._following):
            async with self.db() as session:
                event_id = await session.scalar(select(Event.id).where(Event.slug == slug))
            if event_id is None:
                continue
            listener = _StreamListener(self.streams, slug)
            self._following[slug] = (captions_channel(event_id), listener)
            self._relay.listen(captions_channel(event_id), listener)
            await self._relay.ready(captions_channel(event_id))

    async def run(self) -> None:
        """`check` once every `CHECK_SECONDS`, for the lifespan."""
        while True:
            try:
                await self.check()
            except Exception:
                log.exception("following live captions for HLS failed")
            await sleep_beats(CHECK_SECONDS)

    async def aclose(self) -> None:
        await self._relay.aclose()


@contextlib.asynccontextmanager
async def open_hls_captions(
    db: async_sessionmaker[AsyncSession], hub: Hub, streams: LiveStreams
) -> AsyncIterator[HlsCaptions]:
    """`HlsCaptions` running for the lifespan."""
    bridge = HlsCaptions(db, hub, streams)
    task = asyncio.create_task(bridge.run(), name="salen-hls-captions")
    try:
        yield bridge
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await bridge.aclose()
