"""Flood limits of the live socket: token buckets per connection, per address, for questions.

A connection that exceeds its bucket gets `too_many` replies, which count as strikes;
`live.realtime.dispatch` closes it with `CloseCode.FLOOD` after `Limits.strikes` of them.
Connections from one address share that address's bucket, so opening more sockets does
not buy more messages.
"""

from __future__ import annotations

import dataclasses
import time

# Addresses remembered before idle ones (full buckets) are forgotten.
MAX_ADDRESSES = 10_000


@dataclasses.dataclass(frozen=True)
class Limits:
    """Flood limits: token buckets per connection, per address, and for questions."""

    messages_per_second: float = 30.0
    message_burst: int = 60
    address_per_second: float = 150.0
    address_burst: int = 300
    questions_per_minute: float = 3.0
    question_burst: int = 3
    # Refused messages a connection may send before it is closed with FLOOD.
    strikes: int = 50


class Bucket:
    """A token bucket: `take()` is False when the rate is exceeded."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.stamp = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def full(self) -> bool:
        return self.tokens + (time.monotonic() - self.stamp) * self.rate >= self.burst


class AddressBuckets:
    """The shared bucket of each client address, forgotten once idle."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._buckets: dict[str, Bucket] = {}

    def bucket(self, address: str) -> Bucket:
        """The bucket every connection from `address` takes from."""
        if len(self._buckets) > MAX_ADDRESSES:
            self._buckets = {a: b for a, b in self._buckets.items() if not b.full()}
        bucket = self._buckets.get(address)
        if bucket is None:
            bucket = self._buckets[address] = Bucket(
                self._limits.address_per_second, self._limits.address_burst
            )
        return bucket
