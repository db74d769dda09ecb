"""The encoded media unit that flows from the publisher to viewers, HLS and the recorder."""

from __future__ import annotations

import dataclasses
import time
from fractions import Fraction
from typing import TYPE_CHECKING, Literal, TypeAlias

import av

if TYPE_CHECKING:
    from av.stream import Stream

Kind = Literal["audio", "video"]
AnyPacket: TypeAlias = "av.Packet[Stream]"
CLOCK_RATES: dict[str, int] = {"audio": 48000, "video": 90000}


@dataclasses.dataclass(frozen=True, slots=True)
class MediaPacket:
    """One encoded access unit (H.264 Annex B or an Opus packet), timed from stream start."""

    kind: Kind
    data: bytes
    pts: int
    keyframe: bool

    @property
    def time_base(self) -> Fraction:
        """1/90000 for video, 1/48000 for audio (the RTP clocks)."""
        return Fraction(1, CLOCK_RATES[self.kind])

    @property
    def seconds(self) -> float:
        """Presentation time in seconds since the stream started."""
        return float(self.pts * self.time_base)

    def to_av(self) -> AnyPacket:
        """A fresh `av.Packet` (each consumer needs its own: muxing rewrites it)."""
        packet = av.Packet(self.data)
        packet.pts = packet.dts = self.pts
        packet.time_base = self.time_base
        packet.is_keyframe = self.keyframe
        return packet


class Timeline:
    """Maps each track's RTP clock onto one stream clock, anchored on arrival time.

    Audio and video RTP timestamps start at unrelated values; the first packet of each
    track is placed at its arrival time since the first packet of the stream, and later
    packets follow their own RTP clock from there, so lip sync is within network jitter.
    """

    def __init__(self) -> None:
        self._origin: float | None = None
        self._anchors: dict[str, tuple[int, int]] = {}

    def pts(self, kind: Kind, rtp_timestamp: int, now: float | None = None) -> int:
        """Stream-clock pts (in the track's RTP units) for a frame of `kind`."""
        arrival = time.monotonic() if now is None else now
        if self._origin is None:
            self._origin = arrival
        anchor = self._anchors.get(kind)
        if anchor is None:
            offset = round((arrival - self._origin) * CLOCK_RATES[kind])
            anchor = (rtp_timestamp, offset)
            self._anchors[kind] = anchor
        first_rtp, offset = anchor
        return offset + rtp_timestamp - first_rtp
