"""Group-work notices for the connections of one process, and what they announce remembered.

Every connection to an event follows the event's group-work channel. A `Relay`
(`live.hub.relay`) holds one hub subscription per channel for all of them and hands each
entry's text to every connection following it. When a channel was lost (Redis away) and is
live again, each connection following it is sent `rooms.resync`: notices of other processes
may have been missed, and the page reads the state again (`room.join`).

A channel can also remember one value derived from the state its notices announce (the
group work's state, which every connection is sent on joining): `remember` keeps it until
the next entry on the channel, or `MEMO_SECONDS`, whichever comes first, so a crowd
joining at once reads it from the database once rather than once each.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import msgspec

from live.hub import Entry, Hub, Relay
from live.rooms.messages import RoomsResync

Send = Callable[[str], None]

# How long a remembered value may serve without a notice (changes that announce nothing).
MEMO_SECONDS = 2.0
# Sent to a connection whose channel is live again after it was lost.
RESYNC = msgspec.json.encode(RoomsResync()).decode()


@dataclasses.dataclass(slots=True, unsafe_hash=True)
class _Follower:
    """One connection's `send` as a relay listener (equal for the same `send`)."""

    send: Send
    missed: bool = dataclasses.field(default=False, compare=False, hash=False)

    def entry(self, channel: str, entry: Entry) -> None:
        self.send(entry.data.decode())

    def live(self, channel: str) -> None:
        """Live again after `lost`: the page is told to read the state again."""
        if self.missed:
            self.missed = False
            self.send(RESYNC)

    def lost(self, channel: str) -> None:
        """Other processes' notices may pass unseen until the channel is live again."""
        self.missed = True


class Feeds:
    """This process's group-work channels, followed through one relay."""

    def __init__(self, hub: Hub) -> None:
        self._relay = Relay(hub)
        # Per channel: the relay's generation when the value was read, expiry, value.
        self._memos: dict[str, tuple[int, float, Any]] = {}

    async def follow(self, channel: str, send: Send) -> None:
        """Hand `channel`'s entries to `send` from the moment this returns."""
        self._relay.listen(channel, _Follower(send))
        await self._relay.ready(channel)

    async def unfollow(self, channel: str, send: Send) -> None:
        """Stop handing entries to `send`; the last one out ends the subscription."""
        await self._relay.unlisten(channel, _Follower(send))
        if self._relay.generation(channel) < 0:
            self._memos.pop(channel, None)

    def generation(self, channel: str) -> int:
        """A mark to pass to `remember` for a value about to be read (-1: not followed)."""
        return self._relay.generation(channel)

    def remember(self, channel: str, generation: int, value: Any) -> None:
        """Keep `value`, read after `generation(channel)`, unless an entry came since."""
        if generation >= 0 and self._relay.generation(channel) == generation:
            self._memos[channel] = (generation, time.monotonic() + MEMO_SECONDS, value)

    def recall(self, channel: str) -> tuple[bool, Any]:
        """(True, the remembered value) while it holds, else (False, None)."""
        memo = self._memos.get(channel)
        if memo is None:
            return False, None
        generation, expires, value = memo
        if generation != self._relay.generation(channel) or expires < time.monotonic():
            del self._memos[channel]
            return False, None
        return True, value

    def __len__(self) -> int:
        return len(self._relay)
