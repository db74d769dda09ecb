"""Input out of bounds on the live socket: ids past 64 bits, numbers that are not finite,
text with a NUL and deeply nested frames get an `error` reply with a validation code and
count as strikes; nothing reaches the database and nothing is logged per frame."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

import live.models.qa  # noqa: F401  (registers the Q&A tables)
from live import bounds
from live.errors import Conflict, Invalid
from live.qa.messages import CloseCode
from live.realtime.dispatch import Dispatcher, route
from live.realtime.envelope import Decoder, Envelope, Ok
from live.realtime.limits import Bucket, Limits
from live.rooms.messages import ROOM_MESSAGES
from live.settings import Settings
from live.unforeseen import UnforeseenLog
from tests.support.liveserver import serve_app
from tests.support.ws_app import build_app
from tests.support.ws_client import joined, make_db

MOD = "?token=mod-secret"
# 5,000 nested lists: under the 16 KiB frame limit, deeper than any decoder's stack allows.
NESTED = '{"type": "qa.ask", "id": 7, "text": ' + "[" * 5000 + "]" * 5000 + "}"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {},
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'edge.db'}",
        secret_key="edge-secret",
        tick_seconds=0.02,
    )


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[str]:
    await make_db(settings.database_url)
    async with serve_app(build_app(settings)) as url:
        yield url.replace("http://", "ws://")


@pytest.mark.parametrize("number", [2**63, 10**20, "1e309", "-1e309", "1.5"])
async def test_ids_out_of_range_get_a_validation_error(server: str, number: Any) -> None:
    """Question, item and position numbers past 2**63-1, not finite or not whole get
    `invalid_message` in every message that names one, never `internal`."""
    literal = str(number)
    cases = [
        ("qa.vote", '"question": N'), ("qa.unvote", '"question": N'),
        ("qa.ask", '"text": "Hm?", "item": N'), ("qa.approve", '"question": N'),
        ("qa.merge", '"question": 1, "into": N'), ("qa.merge", '"question": N, "into": 1'),
        ("panel.enqueue", '"question": N'), ("panel.enqueue", '"question": 1, "position": N'),
        ("panel.now", '"question": N'), ("qa.settings", '"item": N, "open": false'),
        ("resync", '"since": N'),
    ]
    async with joined(server, MOD) as (mod, _):
        for index, (kind, fields) in enumerate(cases, start=100):
            frame = f'{{"type": "{kind}", "id": {index}, {fields.replace("N", literal)}}}'
            await mod.ws.send(frame)
            reply = await mod.reply(index)
            assert reply.get("code") == "invalid_message", (frame, reply)
        assert (await mod.call("ping"))["type"] == "ok"


async def test_nan_and_infinity_are_not_json(server: str) -> None:
    """A bare NaN or Infinity is refused as `bad_json`."""
    async with joined(server) as (viewer, _):
        for literal in ["NaN", "Infinity", "-Infinity"]:
            await viewer.ws.send(f'{{"type": "qa.vote", "id": 1, "question": {literal}}}')
            assert (await viewer.reply(None))["code"] == "bad_json"


async def test_question_with_nul_is_refused(server: str) -> None:
    """A question, name or organisation holding a NUL gets `invalid_text`; a lone surrogate
    cannot even be read (`bad_json`); an escaped backslash or an emoji pair is fine."""
    async with joined(server) as (viewer, _):
        for fields in ['"text": "Why\\u0000?"', '"text": "Why?", "name": "Ola\\u0000"',
                       '"text": "Why?", "organisation": "\\u0000"']:
            await viewer.ws.send(f'{{"type": "qa.ask", "id": 5, {fields}}}')
            assert (await viewer.reply(5))["code"] == "invalid_text", fields
        await viewer.ws.send('{"type": "qa.ask", "id": 6, "text": "Why\\ud800?"}')
        assert (await viewer.reply(None))["code"] == "bad_json"
        fine = await viewer.call("qa.ask", text="Why \\u0000 \U0001f600?")
        assert fine["type"] == "ok" and fine["question"]["text"] == "Why \\u0000 \U0001f600?"


async def test_nested_frames_are_refused_as_abuse_and_not_logged(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A frame nested 5,000 deep gets `too_deep` (no traceback logged); repeating it is a
    flood closed with 4029."""
    await make_db(settings.database_url)
    caplog.set_level(logging.INFO)
    async with (
        serve_app(build_app(settings, Limits(strikes=5))) as url,
        joined(url.replace("http", "ws")) as (viewer, _),
    ):
        assert len(NESTED) < 16_384
        await viewer.ws.send(NESTED)
        assert (await viewer.reply(None))["code"] == "too_deep"
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(10):
                await viewer.ws.send(NESTED)
                await viewer.reply(None)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.FLOOD
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_depth_is_counted_outside_strings_only() -> None:
    """Brackets inside strings are text; 32 levels pass, 33 do not; no input is slow."""
    assert not bounds.too_deep('{"text": "' + "[" * 5000 + '"}')
    assert not bounds.too_deep("[" * 32 + "]" * 32)
    assert bounds.too_deep("[" * 33 + "]" * 33)
    assert bounds.too_deep('{"a": "\\"", "b": ' + "{" * 40 + "}" * 40 + "}")
    assert not bounds.too_deep('"' + '\\"' * 8000 + "[" * 40)  # an unterminated string


def test_room_ids_are_bounded() -> None:
    """Room and note ids past 2**63-1 and negative versions are invalid room messages."""
    decoder = Decoder(ROOM_MESSAGES)
    edit = '{"type": "room.note.edit", "id": 1, "room": 1, "text": "x", '
    for frame in ['{"type": "room.join", "id": 1, "room": 9223372036854775808}',
                  edit + '"note": 1e309, "base": 0}', edit + '"note": 1, "base": -1}']:
        with pytest.raises(Exception) as refused:
            decoder.decode(frame)
        assert getattr(refused.value, "code", None) == "invalid_message", frame


class Boom(Envelope, tag="test.boom"):
    """A message whose handler has a bug."""


class Caller:
    """One connection as the dispatcher sees it."""

    def __init__(self) -> None:
        self.moderator, self.read_only, self.strikes, self.event_id = False, False, 0, 1
        self.messages, self.address = Bucket(1000, 1000), Bucket(1000, 1000)
        self.states: list[Any] = [None]
        self.conn: Any = None


async def broken(state: None, msg: Boom) -> Ok:
    raise ZeroDivisionError("a bug")


class Late(Envelope, tag="test.late"):
    """A message that lost a race."""


class Bad(Envelope, tag="test.bad"):
    """A message whose value the handler refuses."""


async def raced(state: None, msg: Late) -> Ok:
    raise Conflict("Someone was first.", code="test.conflict")


async def refused(state: None, msg: Bad) -> Ok:
    raise Invalid("Too long.", code="test.too_long")


async def test_an_unforeseen_error_is_logged_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug hit by 100 frames gives 100 `internal` replies and one logged traceback; once
    the minute is over the next is logged with the count of those left out."""
    now = [0.0]
    dispatcher = Dispatcher(max_strikes=50)
    dispatcher.unforeseen = UnforeseenLog(logging.getLogger("live.realtime.dispatch"),
                                          clock=lambda: now[0])
    dispatcher.register(0, [route(Boom, broken)])
    caller = Caller()
    caplog.set_level(logging.ERROR)
    for _ in range(100):
        reply = await dispatcher.handle(caller, '{"type": "test.boom", "id": 1}')
        assert getattr(reply, "code", None) == "internal"
    assert len(caplog.records) == 1 and caplog.records[0].exc_info
    now[0] = 61.0
    await dispatcher.handle(caller, '{"type": "test.boom", "id": 1}')
    assert len(caplog.records) == 2 and "99 more" in caplog.records[1].getMessage()
    assert caller.strikes == 0  # a bug of ours is no strike against the client


async def test_invalid_values_are_strikes_and_races_are_not() -> None:
    """A refused value counts toward the flood limit; a lost race does not."""
    dispatcher = Dispatcher(max_strikes=50)
    dispatcher.register(0, [route(Late, raced), route(Bad, refused)])
    caller = Caller()
    await dispatcher.handle(caller, '{"type": "test.late", "id": 1}')
    assert caller.strikes == 0
    await dispatcher.handle(caller, '{"type": "test.bad", "id": 2}')
    assert caller.strikes == 1
    await dispatcher.handle(caller, json.dumps({"type": "test.late", "id": 2**64}))
    assert caller.strikes == 2
