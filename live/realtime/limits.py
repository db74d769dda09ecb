"""Flood limits of the live socket: messages per connection and per address, and what
each participant may ask and vote.

A connection that exceeds its bucket gets `too_many` replies, which count as strikes;
`live.realtime.dispatch` closes it with `CloseCode.FLOOD` after `Limits.strikes` of them.
Connections from one address share that address's bucket, so opening more sockets does
not buy more messages (these buckets are per process: they guard the process).

Questions and votes (`Actions`) are counted per event and participant identity over all
of the participant's connections, and over every process when Redis is configured
(`live.ratelimit`): opening more sockets buys no more questions. Per address there is
only a ceiling, high enough for a hall of phones behind the venue's one NAT address.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Protocol

from limits import RateLimitItem

from live.identity import Participant
from live.ratelimit import Limiter, per

# Addresses remembered before idle ones (full buckets) are forgotten.
MAX_ADDRESSES = 10_000


@dataclasses.dataclass(frozen=True)
class Limits:
    """Message buckets per connection and address; questions and votes per participant."""

    messages_per_second: float = 30.0
    message_burst: int = 60
    address_per_second: float = 150.0
    address_burst: int = 300
    # Per participant (all connections), and the ceiling per address.
    questions_per_minute: int = 3
    address_questions_per_minute: int = 600
    votes_per_minute: int = 60
    address_votes_per_minute: int = 6000
    # Live captions per captioner connection: partial-line updates and lines together.
    captions_per_second: float = 20.0
    captions_burst: int = 40
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


class Actor(Protocol):
    """Who acts on a connection: the event, the participant, the client's address."""

    event_id: int
    participant: Participant
    host: str


class Actions:
    """Questions and votes per participant, with a ceiling per address, on a `Limiter`."""

    def __init__(self, limiter: Limiter, limits: Limits) -> None:
        self.limiter = limiter
        self.questions = (per(limits.questions_per_minute, 60, "qa-ask"),
                          per(limits.address_questions_per_minute, 60, "qa-ask-address"))
        self.votes = (per(limits.votes_per_minute, 60, "qa-vote"),
                      per(limits.address_votes_per_minute, 60, "qa-vote-address"))

    async def ask(self, actor: Actor) -> bool:
        """May `actor` ask one more question now? (Counts it when so.)"""
        return await self._allow(self.questions, actor)

    async def vote(self, actor: Actor) -> bool:
        """May `actor` vote or take back a vote now? (Counts it when so.)"""
        return await self._allow(self.votes, actor)

    async def _allow(self, items: tuple[RateLimitItem, RateLimitItem], actor: Actor) -> bool:
        each, ceiling = items
        event = str(actor.event_id)
        return (await self.limiter.hit(each, event, actor.participant.id)
                and await self.limiter.hit(ceiling, event, actor.host))
