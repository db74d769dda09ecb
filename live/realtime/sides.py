"""Side channels: a feature's own notices per event that ride the viewers' ticks.

The fan-out (`live.realtime.fanout`) is built around the Q&A's versioned notices. A
feature whose news goes to everyone on the event without versions (live captions) gives
the fan-out a `Side`: the hub channel per event, and a `Collector` per event that gathers
the channel's notices between two ticks and hands over one frame of them per tick. The
fan-out subscribes to the channel with the event's other channels, wakes the room's tick
when a notice arrives, and writes the frame to every connection that has had its first
frame, moderators included; a connection still being synced gets the feature's own
snapshot instead (`Feature.start`). When the channel comes back after a loss (Redis away),
notices of other processes may have passed unseen: the side's `catch_up` reads them back
into the collector, and the next tick carries them (clients keep items by their own keys,
so one heard twice is harmless).
"""

from __future__ import annotations

from typing import Protocol

from live.hub import Entry


class Collector(Protocol):
    """One event's side notices in this process, gathered between two ticks."""

    def add(self, entry: Entry) -> None:
        """A notice from the side's channel."""

    def take(self) -> str | None:
        """The text of one frame of everything added since the last take (None: nothing)."""


class Side(Protocol):
    """A feature's own channel per event whose notices ride the viewers' ticks (captions).

    Each tick takes one frame from the event's collector and writes it to every connection
    (moderators too) that has had its first frame; one that has not yet gets the
    feature's own snapshot once it has (`Feature.start`).
    """

    def channel(self, event_id: int) -> str:
        """The hub channel of the event's side notices."""

    def collector(self, event_id: int) -> Collector:
        """The event's collector, while this process has connections to the event."""

    def release(self, event_id: int) -> None:
        """The process has no connections to the event any more."""

    async def catch_up(self, event_id: int) -> None:
        """The channel is live again after a loss: read what it may have missed into the
        event's collector."""
