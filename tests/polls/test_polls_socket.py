"""Polls over the live socket on a real uvicorn server: answering, bad input, moderators only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from live.db import create_engine
from live.models.polls import Poll
from live.polls.service import recount, stored_counts
from live.realtime.limits import Limits
from live.settings import Settings
from tests.polls.app import build_app
from tests.support.liveserver import serve_app
from tests.support.ws_client import Client, Message, joined, make_db

CHOICE = {"kind": "multiple", "question": "Hva er viktigst?", "options": ["Vei", "Bane", "Buss"],
          "max_choices": 2, "launch": True}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {}, database_url=f"sqlite+aiosqlite:///{tmp_path / 'polls.db'}",
        secret_key="polls-secret", tick_seconds=0.02,
    )


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[str]:
    await make_db(settings.database_url)
    async with serve_app(build_app(settings)) as url:
        yield url.replace("http://", "ws://")


def is_polls(push: Message) -> bool:
    return push["type"] == "polls"


def poll_in(push: Message, poll_id: int) -> Message | None:
    return next((p for p in push.get("polls", []) if p["id"] == poll_id), None)


async def update_where(client: Client, poll_id: int, check: object) -> Message:
    """The first poll view in a `polls.update` push for which `check(view)` holds."""
    def matches(push: Message) -> bool:
        view = poll_in(push, poll_id) if push["type"] == "polls.update" else None
        return view is not None and bool(check(view))  # type: ignore[operator]
    return poll_in(await client.push(matches), poll_id)  # type: ignore[return-value]


async def create(mod: Client, **fields: object) -> Message:
    reply = await mod.call("poll.create", **{**CHOICE, **fields})
    assert reply["type"] == "ok", reply
    return reply["poll"]  # type: ignore[no-any-return]


async def test_answer_counts_for_moderators_at_once_and_viewers_once_revealed(server: str) -> None:
    """Moderators see counts as answers come; viewers see only the total until the reveal."""
    async with joined(server, "?token=mod-secret") as (mod, _), joined(server) as (viewer, _):
        await mod.push(is_polls)
        await viewer.push(is_polls)
        poll = await create(mod)
        reply = await viewer.call("poll.answer", poll=poll["id"], choices=[0, 2], key="k1")
        assert reply["type"] == "ok" and reply["mine"] == {"poll": poll["id"], "choices": [0, 2]}
        counted = await update_where(mod, poll["id"], lambda p: p.get("answers") == 1)
        assert counted["results"]["counts"] == [1, 0, 1]
        hidden = await update_where(viewer, poll["id"], lambda p: p.get("answers") == 1)
        assert "results" not in hidden
        await mod.call("poll.reveal", poll=poll["id"])
        shown = await update_where(viewer, poll["id"], lambda p: p.get("revealed"))
        assert shown["results"]["counts"] == [1, 0, 1]


async def test_bad_answers_get_error_codes_and_change_nothing(server: str) -> None:
    """Out of range, too many, too long, unknown and closed polls are refused with codes."""
    async with joined(server, "?token=mod-secret") as (mod, _), joined(server) as (viewer, _):
        poll = await create(mod, final=True)
        words = await create(mod, kind="words", question="Ett ord", options=[])
        cases = [
            ({"poll": poll["id"], "choices": [7]}, "poll.out_of_range"),
            ({"poll": poll["id"], "choices": [0, 1, 2]}, "poll.too_many_choices"),
            ({"poll": words["id"], "words": ["x" * 41]}, "poll.too_long"),
            ({"poll": words["id"], "words": ["a", "b", "c", "d"]}, "poll.too_many_choices"),
            ({"poll": 999, "choices": [0]}, "poll.not_found"),
        ]
        for fields, code in cases:
            reply = await viewer.call("poll.answer", **fields)
            assert (reply["type"], reply["code"]) == ("error", code), fields
        assert (await viewer.call("poll.answer", poll=poll["id"], choices=[1]))["type"] == "ok"
        second = await viewer.call("poll.answer", poll=poll["id"], choices=[0])
        assert second["code"] == "poll.answered"
        await mod.call("poll.close", poll=poll["id"])
        closed = await viewer.call("poll.answer", poll=words["id"] + 100, choices=[0])
        assert closed["code"] == "poll.not_found"
        late = await (await _fresh(server)).call("poll.answer", poll=poll["id"], choices=[0])
        assert late["code"] == "poll.closed"
        view = await update_where(mod, poll["id"], lambda p: p["status"] == "closed")
        assert view.get("answers") == 1 and view["results"]["counts"] == [0, 1, 0]


async def _fresh(server: str) -> Client:
    """A second viewer (a different participant), kept open for the test's duration."""
    from websockets.asyncio.client import connect

    ws = await connect(f"{server}/ws/events/panel")
    client = Client(ws)
    await client.push(is_polls)
    return client


async def test_viewers_cannot_run_polls(server: str) -> None:
    """A viewer's create, launch, reveal and moderate get `forbidden`; nothing is made."""
    async with joined(server, "?token=mod-secret") as (mod, _), joined(server) as (viewer, _):
        poll = await create(mod, launch=False)
        for type_, fields in [("poll.create", CHOICE), ("poll.launch", {"poll": poll["id"]}),
                              ("poll.reveal", {"poll": poll["id"]}),
                              ("poll.block", {"words": ["x"]})]:
            reply = await viewer.call(type_, **fields)
            assert (reply["type"], reply["code"]) == ("error", "forbidden"), type_
        draft = await viewer.call("poll.answer", poll=poll["id"], choices=[0])
        assert draft["code"] == "poll.not_found"  # drafts look unknown to viewers


async def test_retry_with_same_key_counts_once_and_change_moves_counts(server: str) -> None:
    """A retried answer (same key) counts once; a changed answer moves the count."""
    async with joined(server, "?token=mod-secret") as (mod, _), joined(server) as (viewer, _):
        poll = await create(mod, kind="single", max_choices=None)
        for _ in range(2):
            assert (await viewer.call("poll.answer", poll=poll["id"], choices=[0], key="a"))[
                "type"] == "ok"
        await viewer.call("poll.answer", poll=poll["id"], choices=[1], key="b")
        view = await update_where(mod, poll["id"], lambda p: p["results"]["counts"][1] == 1)
        assert view.get("answers") == 1 and view["results"]["counts"] == [0, 1, 0]


async def test_counts_equal_database_after_reconnect(server: str, settings: Settings) -> None:
    """A reconnecting viewer's snapshot holds the counts the stored answers give."""
    async with joined(server, "?token=mod-secret") as (mod, _):
        poll = await create(mod, kind="words", question="Ord?", options=[])
        for words in (["Grønn  omstilling!", "the Climate"], ["grønn omstilling"], ["og"]):
            voter = await _fresh(server)
            assert (await voter.call("poll.answer", poll=poll["id"], words=words))["type"] == "ok"
            await voter.ws.close()
        await mod.call("poll.reveal", poll=poll["id"])
    async with joined(server) as (viewer, _):
        snap = await viewer.push(is_polls)
    words = dict(map(tuple, poll_in(snap, poll["id"])["results"]["words"]))  # type: ignore[index]
    assert words == {"grønn omstilling": 2, "climate": 1}
    engine = create_engine(settings.database_url)
    async with engine.connect() as conn:
        db = await conn.run_sync(lambda c: _counts(Session(c), poll["id"]))
    await engine.dispose()
    assert db[0] == db[1] == {"w:grønn omstilling": 2, "w:climate": 1}


def _counts(session: Session, poll_id: int) -> tuple[dict[str, int], dict[str, int]]:
    assert session.get(Poll, poll_id) is not None
    return stored_counts(session, poll_id), recount(session, poll_id)


async def test_flooding_answers_are_refused(settings: Settings) -> None:
    """Past the participant's answers per minute each answer gets poll.rate_limited."""
    await make_db(settings.database_url)
    async with serve_app(build_app(settings, Limits(votes_per_minute=3))) as url:
        base = url.replace("http://", "ws://")
        async with joined(base, "?token=mod-secret") as (mod, _), joined(base) as (viewer, _):
            poll = await create(mod, kind="single", max_choices=None)
            replies = [await viewer.call("poll.answer", poll=poll["id"], choices=[min(n, 2)])
                       for n in range(5)]
            codes = [r.get("code", r["type"]) for r in replies]
            assert codes == ["ok", "ok", "ok", "poll.rate_limited", "poll.rate_limited"]
            view = await update_where(mod, poll["id"], lambda p: p["results"]["counts"][2] == 1)
            assert view["results"]["counts"] == [0, 0, 1]  # the third answer, the last allowed


async def test_open_input_is_moderated_and_goes_on_to_the_panel(server: str) -> None:
    """Open text waits for approval; viewers see approved entries once revealed; forward
    makes it a question on the panel queue."""
    async with joined(server, "?token=mod-secret") as (mod, _), joined(server) as (viewer, _):
        poll = await create(mod, kind="text", question="Innspill?", options=[])
        await viewer.call("poll.answer", poll=poll["id"], text="<script>Mer kollektiv</script>")
        pending = await update_where(mod, poll["id"], lambda p: p.get("results", {}).get("entries"))
        entry = pending["results"]["entries"][0]
        assert entry["status"] == "pending" and entry["text"] == "<script>Mer kollektiv</script>"
        await mod.call("poll.reveal", poll=poll["id"])
        shown = await update_where(viewer, poll["id"], lambda p: p.get("revealed"))
        assert shown["results"] == {}  # nothing approved yet
        approved = await mod.call("poll.moderate", poll=poll["id"], answer=entry["id"],
                                  action="approve")
        assert approved["poll"]["results"]["entries"][0].get("status", "approved") == "approved"
        seen = await update_where(viewer, poll["id"], lambda p: p.get("results", {}).get("entries"))
        assert seen["results"]["entries"] == [{"id": entry["id"], "text": entry["text"]}]
        assert (await mod.call("poll.forward", poll=poll["id"], answer=entry["id"]))["type"] == "ok"
        queued = await mod.push(lambda m: m["type"] == "update" and any(
            q.get("text") == entry["text"] for q in m.get("questions", [])))
        question = next(q for q in queued["questions"] if q.get("text") == entry["text"])
        panel = queued.get("panel") or (await mod.push(lambda m: bool(m.get("panel"))))["panel"]
        assert question["status"] == "approved" and question["id"] in panel["queue"]


async def test_the_display_may_not_answer(server: str, settings: Settings) -> None:
    """The read-only display (?key=) gets forbidden for poll.answer and nothing is stored."""
    from sqlalchemy import select

    from live.models import Event

    engine = create_engine(settings.database_url)
    async with engine.connect() as conn:
        key = (await conn.execute(select(Event.display_token).where(Event.slug == "panel"))).scalar()
    await engine.dispose()
    async with joined(server, "?token=mod-secret") as (mod, _), joined(server, f"?key={key}") as (
            display, _):
        poll = await create(mod)
        reply = await display.call("poll.answer", poll=poll["id"], choices=[0])
        assert (reply["type"], reply["code"]) == ("error", "forbidden")
        await mod.call("poll.close", poll=poll["id"])
        closed = await update_where(mod, poll["id"], lambda p: p["status"] == "closed")
        assert closed.get("answers", 0) == 0
