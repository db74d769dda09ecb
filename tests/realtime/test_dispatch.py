"""The dispatcher: handlers found by message type, flags checked, errors become replies."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from live.errors import Conflict
from live.realtime.dispatch import Dispatcher, route
from live.realtime.envelope import CloseCode, Envelope, Ok
from live.realtime.limits import Bucket


class Open(Envelope, tag="poll.open"):
    """A message of a feature that does not exist yet."""

    question: str


class Close(Envelope, tag="poll.close"):
    """Another one, for moderators only."""


class Opened(Ok, omit_defaults=True):
    question: str = ""


class Polls:
    """A feature's per-connection state with one handler per message type."""

    def __init__(self) -> None:
        self.seen: list[Envelope] = []

    async def open(self, msg: Open) -> Opened:
        if msg.question == "taken":
            raise Conflict("Someone asked that.", code="poll.taken")
        self.seen.append(msg)
        return Opened(id=msg.id, question=msg.question)

    async def close(self, msg: Close) -> Ok:
        self.seen.append(msg)
        return Ok(id=msg.id)


class FakeConn:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.dropped: tuple[int, str] | None = None

    def send(self, text: str) -> None:
        self.sent.append(msgspec.json.decode(text))

    def drop(self, code: int, reason: str) -> None:
        self.dropped = (code, reason)


class Caller:
    """One connection as the dispatcher sees it."""

    def __init__(self, polls: Polls, *, moderator: bool = False) -> None:
        self.moderator, self.read_only, self.strikes, self.event_id = moderator, False, 0, 1
        self.messages = Bucket(1000, 1000)
        self.address = Bucket(1000, 1000)
        self.states: list[Any] = [polls]
        self.conn: Any = FakeConn()
        self._lock = asyncio.Lock()

    def write_lock(self) -> asyncio.Lock:
        return self._lock


def dispatcher() -> Dispatcher:
    registry = Dispatcher(max_strikes=2)
    registry.register(0, [route(Open, Polls.open), route(Close, Polls.close, moderator=True)])
    return registry


async def test_a_registered_type_reaches_its_handler_typed() -> None:
    """A feature's message is decoded into its struct and answered by its handler."""
    polls = Polls()
    reply = await dispatcher().handle(Caller(polls), '{"type":"poll.open","id":3,"question":"Q"}')
    assert reply == Opened(id=3, question="Q")
    assert polls.seen == [Open(id=3, question="Q")]


async def test_flags_and_errors_become_error_replies() -> None:
    """Moderator-only types are refused to others; a handler's SalenError keeps its code."""
    registry, caller = dispatcher(), Caller(Polls())
    refused = await registry.handle(caller, '{"type":"poll.close","id":4}')
    assert (refused.id, getattr(refused, "code", None)) == (4, "forbidden")
    taken = await registry.handle(caller, '{"type":"poll.open","id":5,"question":"taken"}')
    assert (taken.id, getattr(taken, "code", None)) == (5, "poll.taken")
    unknown = await registry.handle(caller, '{"type":"qa.ask","id":6,"text":"x"}')
    assert getattr(unknown, "code", None) == "unknown_type"


async def test_strikes_close_the_connection_with_flood() -> None:
    """Refused frames count as strikes; past the limit `answer` closes with FLOOD."""
    registry, caller = dispatcher(), Caller(Polls())
    for _ in range(3):
        await registry.answer(caller, "not json")
    assert [m["code"] for m in caller.conn.sent] == ["bad_json"] * 3
    assert caller.conn.dropped == (CloseCode.FLOOD, "too many messages")


def test_a_type_is_routed_once() -> None:
    """Two features cannot claim one message type."""
    registry = dispatcher()
    with pytest.raises(ValueError, match="Open is routed twice"):
        registry.register(1, [route(Open, Polls.open)])
