"""The group work's per-process state for the app's lifespan: service, identities, video."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.hub import Entry, Hub
from live.identity import Identities
from live.realtime.channels import room_channel
from live.rooms.feeds import Feeds
from live.rooms.service import RoomsService
from live.rooms.video import RoomVideo, VideoPush
from live.settings import Settings
from stream.ice import IceConfig


class RoomsLive:
    """What room pages, the room socket and the video endpoints share in one process."""

    def __init__(self, settings: Settings, db: async_sessionmaker[AsyncSession],
                 hub: Hub) -> None:
        self.settings, self.db, self.hub = settings, db, hub
        self.service = RoomsService(db, hub)
        # Group-work notices for every connection of the process, one subscription a channel.
        self.feeds = Feeds(hub)
        self.identities = Identities(settings.secret_key)
        self.video = RoomVideo(IceConfig.parse(settings.ice_addresses, settings.ice_servers),
                               notify=self._announce_video)

    async def _announce_video(self, room_id: int, push: VideoPush) -> None:
        await self.hub.publish(room_channel(room_id), Entry(push.v, 0, msgspec.json.encode(push)))


@contextlib.asynccontextmanager
async def open_rooms(settings: Settings, db: async_sessionmaker[AsyncSession],
                     hub: Hub) -> AsyncIterator[RoomsLive]:
    """`RoomsLive` for the lifespan; hangs up every room video peer on exit."""
    rooms = RoomsLive(settings, db, hub)
    try:
        yield rooms
    finally:
        await rooms.video.aclose()
