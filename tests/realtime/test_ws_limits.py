"""Questions and votes are limited per participant over all their connections; per address
there is only a ceiling that a hall of phones behind one NAT address stays under."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from live.identity import Identities, Participant
from live.realtime.limits import Limits
from live.settings import Settings
from tests.support.liveserver import serve_app
from tests.support.ws_app import build_app
from tests.support.ws_client import Client, joined, make_db

SECRET = "ws-limits-secret"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env({}, database_url=f"sqlite+aiosqlite:///{tmp_path / 'ws.db'}",
                             secret_key=SECRET, tick_seconds=0.02)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[str]:
    await make_db(settings.database_url)
    async with serve_app(build_app(settings)) as url:
        yield url.replace("http://", "ws://")


def token(participant: str) -> str:
    return Identities(SECRET).token(Participant(participant))


@contextlib.asynccontextmanager
async def sockets(server: str, queries: list[str]) -> AsyncIterator[list[Client]]:
    """One connection (snapshot read) per query, all open at once from 127.0.0.1."""
    async with contextlib.AsyncExitStack() as stack:
        yield [(await stack.enter_async_context(joined(server, q)))[0] for q in queries]


async def codes(client: Client, kind: str, times: int, **fields: object) -> list[str]:
    return [(await client.call(kind, **fields)).get("code", "ok") for _ in range(times)]


async def test_more_sockets_buy_no_more_questions(server: str) -> None:
    """30 sockets of one participant from one address, asking four times each at once, get
    the participant's three questions a minute between them."""
    me = token("one-person")
    async with sockets(server, [f"?p={me}"] * 30) as clients:
        replies = await asyncio.gather(*(codes(c, "qa.ask", 4, text="Me again?") for c in clients))
    flat = [code for reply in replies for code in reply]
    assert flat.count("ok") == Limits().questions_per_minute
    assert set(flat) == {"ok", "qa.rate_limited"}


async def test_a_hall_behind_one_address_may_all_ask(server: str) -> None:
    """300 participants on 300 sockets from one address each ask a question: all accepted."""
    queries = [f"?p={token(f'phone-{i}')}" for i in range(300)]
    async with sockets(server, queries) as clients:
        replies = await asyncio.gather(*(codes(c, "qa.ask", 1, text="From the hall") for c in clients))
    assert [r for reply in replies for r in reply] == ["ok"] * 300


async def test_votes_are_limited_per_participant(settings: Settings) -> None:
    """Votes and unvotes of one participant count together over their connections."""
    await make_db(settings.database_url)
    async with serve_app(build_app(settings, Limits(votes_per_minute=4))) as url:
        base = url.replace("http://", "ws://")
        async with joined(base, "?token=mod-secret") as (mod, _):
            question = (await mod.call("qa.ask", text="Vote on me"))["question"]["id"]
            assert (await codes(mod, "qa.vote", 6, question=question)) == ["ok"] * 6
        me = token("voter")
        async with sockets(base, [f"?p={me}"] * 2) as (one, two):
            first = await codes(one, "qa.vote", 3, question=question)
            second = await codes(two, "qa.unvote", 3, question=question)
    assert first + second == ["ok"] * 4 + ["qa.rate_limited"] * 2
