"""Room video calls through Salen: a small SFU on top of `stream/` (no decoding, no encoding).

Each member publishes once (a `stream.peers.PublisherPeer` feeding a `stream.relay.Relay`)
and receives every other member through one `ViewerPeer` per publisher, so a call of n
people costs n publishing and n·(n−1) forwarding peers, and frames are copied, never
re-encoded. Signalling is SDP over HTTP as in WHIP/WHEP (see `live.rooms.pages`); who
publishes in a room is announced as a `room.video` push on the room's channel, so members
subscribe to newcomers. Calls are held per process: a room's call lives in the process
that served its first publisher (sticky routing by room in a multi-process set-up).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable

import msgspec

from live.errors import Conflict, NotFound
from stream.ice import IceConfig
from stream.peers import PublisherPeer, ViewerPeer
from stream.relay import Relay
from stream.sdp import check_offer

log = logging.getLogger(__name__)

MAX_PUBLISHERS = 10
Notify = Callable[[int, "VideoPush"], Awaitable[None]]


class VideoPush(msgspec.Struct, tag_field="type", tag="room.video"):
    """Push to a room: who publishes video now (participant ids), as of version `v`."""

    room: int
    v: int
    publishers: list[str]


@dataclasses.dataclass(eq=False)
class _Publisher:
    peer: PublisherPeer
    relay: Relay
    viewers: dict[str, ViewerPeer] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(eq=False)
class _Call:
    publishers: dict[str, _Publisher] = dataclasses.field(default_factory=dict)


class RoomVideo:
    """Every room call of this process."""

    def __init__(self, ice: IceConfig, notify: Notify | None = None,
                 max_publishers: int = MAX_PUBLISHERS) -> None:
        self._ice = ice
        self._notify = notify
        self._max = max_publishers
        self._calls: dict[int, _Call] = {}
        # One counter for every call of the process, so versions never repeat when a room's
        # call ends and starts again: pages drop announcements older than what they hold.
        self.version = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def set_notify(self, notify: Notify) -> None:
        """Where publisher changes are announced (the room's hub channel)."""
        self._notify = notify

    def publishers(self, room_id: int) -> list[str]:
        """Participants publishing in a room, in the order they started."""
        call = self._calls.get(room_id)
        return list(call.publishers) if call else []

    async def publish(self, room_id: int, participant: str, offer_sdp: str) -> str:
        """Take a member's published audio/video; returns the SDP answer."""
        offer = check_offer(offer_sdp, "publish")
        call = self._calls.setdefault(room_id, _Call())
        if participant not in call.publishers and len(call.publishers) >= self._max:
            raise Conflict(f"A room call holds at most {self._max} cameras.",
                           code="rooms.video_full")
        await self.leave(room_id, participant, announce=False)
        call = self._calls.setdefault(room_id, _Call())
        holder: list[PublisherPeer] = []
        relay = Relay(lambda: holder[0].request_keyframe() if holder else None)
        peer = PublisherPeer(self._ice, relay,
                             lambda reason: self._later(self._gone(room_id, participant, relay)))
        holder.append(peer)
        answer = await peer.answer(offer)
        call.publishers[participant] = _Publisher(peer, relay)
        await self._announce(room_id)
        return answer

    async def view(self, room_id: int, viewer: str, publisher: str, offer_sdp: str) -> str:
        """Send `viewer` what `publisher` publishes; returns the SDP answer."""
        offer = check_offer(offer_sdp, "view")
        call = self._calls.get(room_id)
        source = call.publishers.get(publisher) if call else None
        if source is None:
            raise NotFound("That member does not publish video now.", code="rooms.no_video")
        old = source.viewers.pop(viewer, None)
        if old is not None:
            await old.close()
        holder: list[ViewerPeer] = []
        peer = ViewerPeer(self._ice, source.relay, lambda reason: self._later(
            self._drop_viewer(source, viewer, holder[0] if holder else None)))
        holder.append(peer)
        source.viewers[viewer] = peer
        return await peer.answer(offer)

    async def _gone(self, room_id: int, participant: str, relay: Relay) -> None:
        # Only if that publication is still the current one (not replaced by a new publish).
        call = self._calls.get(room_id)
        current = call.publishers.get(participant) if call else None
        if current is not None and current.relay is relay:
            await self.leave(room_id, participant)

    async def _drop_viewer(self, source: _Publisher, viewer: str,
                           peer: ViewerPeer | None = None) -> None:
        if peer is not None and source.viewers.get(viewer) is not peer:
            return
        found = source.viewers.pop(viewer, None)
        if found is not None:
            await found.close()

    async def leave(self, room_id: int, participant: str, *, announce: bool = True) -> None:
        """Hang up a member: their publication, their viewers, and what they view."""
        call = self._calls.get(room_id)
        if call is None:
            return
        gone = call.publishers.pop(participant, None)
        for source in list(call.publishers.values()):
            await self._drop_viewer(source, participant)
        if gone is not None:
            gone.relay.close()
            viewers, gone.viewers = list(gone.viewers.values()), {}
            for peer in viewers:
                await peer.close()
            await gone.peer.close()
            if announce:
                await self._announce(room_id)
        if not call.publishers:
            self._calls.pop(room_id, None)

    async def close_room(self, room_id: int) -> None:
        """End a room's call (the room closed)."""
        for participant in self.publishers(room_id):
            await self.leave(room_id, participant)

    async def _announce(self, room_id: int) -> None:
        call = self._calls.get(room_id)
        if call is None or self._notify is None:
            return
        self.version += 1
        await self._notify(room_id, VideoPush(room=room_id, v=self.version,
                                              publishers=list(call.publishers)))

    def _later(self, coro: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await coro
            except Exception:
                log.exception("room video clean-up failed")

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Hang up every call (shutdown)."""
        for room_id in list(self._calls):
            await self.close_room(room_id)
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
