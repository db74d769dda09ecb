"""The endpoint /ws/events/{slug} over a real uvicorn server with the websockets client."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

import live.models.qa  # noqa: F401  (registers the Q&A tables)
from live.hub import Entry, open_hub
from live.qa.domain import QaStatus
from live.qa.messages import CloseCode, QuestionView, Update, encode
from live.realtime.channels import qa_public_channel as public_channel
from live.realtime.limits import Limits
from live.settings import Settings
from tests.support.liveserver import serve_app
from tests.support.ws_app import build_app
from tests.support.ws_client import Client, Message, joined, make_db

ADMIN_TOKEN = "ws-admin-token"
@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {},
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'ws.db'}",
        secret_key="ws-secret",
        admin_token=ADMIN_TOKEN,
        tick_seconds=0.02,
    )


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[str]:
    await make_db(settings.database_url)
    async with serve_app(build_app(settings)) as url:
        yield url.replace("http://", "ws://")


def questions(push: Message) -> dict[int, Message]:
    return {q["id"]: q for q in push.get("questions", [])}


async def test_connect_sends_snapshot_with_identity(server: str) -> None:
    """A new viewer gets a snapshot with version, settings and a signed participant token."""
    async with joined(server) as (_, snap):
        assert snap["type"] == "snapshot" and snap["v"] == 0
        assert snap["you"]["roles"] == ["viewer"] and snap["you"]["participant"]
        assert snap["settings"]["premoderation"] is True and snap["panel"]["queue"] == []


async def test_moderator_roles_from_token(server: str) -> None:
    """The event's moderator link token and the admin token both give moderator rights."""
    async with joined(server, "?token=mod-secret") as (_, snap):
        assert "moderator" in snap["you"]["roles"]
    async with connect(
        f"{server}/ws/events/panel", additional_headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as ws:
        assert "organiser" in json.loads(await ws.recv())["you"]["roles"]


async def test_unknown_event_is_closed_with_not_found(server: str) -> None:
    """Connecting to an unknown slug closes with 4004."""
    async with connect(f"{server}/ws/events/nope") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.NOT_FOUND


async def test_unpublished_event_is_for_moderators_only(server: str) -> None:
    """A viewer of an unpublished event is closed with 4004; its moderator gets in."""
    async with connect(f"{server}/ws/events/draft") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.NOT_FOUND
    async with connect(f"{server}/ws/events/draft?token=mod-secret") as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"


async def test_display_key_reads_but_does_not_ask(server: str) -> None:
    """The display key opens a read-only public view, even of an unpublished event."""
    async with connect(f"{server}/ws/events/draft?key=wrong") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.NOT_FOUND
    async with connect(f"{server}/ws/events/draft?key=display-secret") as ws:
        display = Client(ws)
        snapshot = await display.read()
        assert snapshot["type"] == "snapshot" and snapshot["you"]["roles"] == ["viewer"]
        assert (await display.call("qa.ask", text="from the screen"))["code"] == "forbidden"
        assert (await display.call("qa.vote", question=1))["code"] == "forbidden"
        assert (await display.call("ping"))["type"] == "ok"


async def test_whole_flow_reaches_viewer_and_moderator(server: str) -> None:
    """ask → approve → enqueue → move → now → done: moderators see it all, viewers the public part."""
    async with (
        joined(server, "?token=mod-secret") as (mod, _),
        joined(server) as (asker, _),
        joined(server) as (viewer, _),
    ):
        asked = await asker.call("qa.ask", text="What about <b>trains</b>?", name="Ada")
        assert asked["type"] == "ok" and asked["question"]["status"] == "pending"
        qid = asked["question"]["id"]
        pending = await mod.push(lambda m: qid in questions(m))
        assert questions(pending)[qid]["status"] == "pending"
        second = (await mod.call("qa.ask", text="From the floor"))["question"]
        assert second["status"] == "approved" and second["floor"] is True
        assert (await mod.call("qa.approve", question=qid))["type"] == "ok"
        seen = await viewer.push(lambda m: questions(m).get(qid, {}).get("status") == "approved")
        assert questions(seen)[qid]["text"] == "What about <b>trains</b>?"
        await mod.call("panel.enqueue", question=qid)
        await mod.call("panel.enqueue", question=second["id"])
        moved = await mod.call("panel.move", question=second["id"], position=0)
        assert moved["panel"]["queue"] == [second["id"], qid]
        await mod.call("panel.now", question=qid)
        on_air = await viewer.push(lambda m: (m.get("panel") or {}).get("now") == qid)
        assert on_air["panel"]["queue"] == [second["id"]]
        await mod.call("panel.done")
        done = await viewer.push(lambda m: questions(m).get(qid, {}).get("status") == "answered")
        assert questions(done)[qid]["answered_at"]
        assert all(
            q.get("status") != "pending" for m in viewer.pushes for q in m.get("questions", [])
        )


async def test_viewer_never_receives_unapproved_questions(server: str) -> None:
    """A pending question and its edits reach moderators only; viewers see it once approved."""
    async with joined(server, "?token=mod-secret") as (mod, _), joined(server) as (viewer, _):
        qid = (await viewer.call("qa.ask", text="secret draft"))["question"]["id"]
        await mod.call("qa.edit", question=qid, text="edited draft")
        other = (await mod.call("qa.ask", text="public one"))["question"]["id"]
        frame = await viewer.push(lambda m: other in questions(m))
        assert qid not in questions(frame)
        assert "draft" not in json.dumps(frame) and not viewer.pushes


async def test_bad_input_gets_error_replies_and_connection_stays(server: str) -> None:
    """Invalid JSON, unknown types, bad fields, long text, unknown votes: error codes, no close."""
    async with joined(server) as (c, _):
        await c.ws.send("{not json")
        assert (await c.reply(None))["code"] == "bad_json"
        await c.ws.send(json.dumps({"type": "qa.shout", "id": 41}))
        assert (await c.reply(41))["code"] == "unknown_type"
        assert (await c.call("qa.vote"))["code"] == "invalid_message"
        assert (await c.call("qa.vote", question="one"))["code"] == "invalid_message"
        assert (await c.call("qa.ask", text="x" * 501))["code"] == "qa.too_long"
        assert (await c.call("qa.vote", question=999))["code"] == "qa.not_found"
        assert (await c.call("qa.approve", question=1))["code"] == "forbidden"
        assert (await c.call("panel.now", question=1))["code"] == "forbidden"
        assert (await c.call("ping"))["type"] == "ok"


async def test_voting_twice_counts_once(server: str) -> None:
    """The same participant voting twice leaves one vote; the update shows the count."""
    async with joined(server, "?token=mod-secret") as (mod, _), joined(server) as (viewer, _):
        qid = (await mod.call("qa.ask", text="Vote me"))["question"]["id"]
        assert (await viewer.call("qa.vote", question=qid))["type"] == "ok"
        assert (await viewer.call("qa.vote", question=qid))["type"] == "ok"
        # A vote travels as the question's count alone (docs/protocol.md, `update`).
        await mod.push(lambda m: {c["id"]: c["votes"] for c in m.get("votes", [])}.get(qid) == 1)
    async with joined(server) as (_, snap):
        assert questions(snap)[qid]["votes"] == 1


async def test_participant_token_restores_own_questions(server: str) -> None:
    """Reconnecting with the participant token shows one's own pending question and votes."""
    async with joined(server) as (viewer, snap):
        token = snap["you"]["participant"]
        qid = (await viewer.call("qa.ask", text="Mine?"))["question"]["id"]
    async with joined(server, f"?p={token}") as (_, again):
        assert again["you"]["participant"] == token
        assert [q["id"] for q in again["mine"]] == [qid] and again["questions"] == []
    async with joined(server, "?p=forged") as (_, stranger):
        assert stranger["you"]["participant"] != token and "mine" not in stranger


async def test_reconnect_replays_what_was_missed(server: str) -> None:
    """A viewer reconnecting with its last version gets an update with only what it missed."""
    async with joined(server) as (_, snap):
        since = snap["v"]
    async with joined(server, "?token=mod-secret") as (mod, _):
        a = (await mod.call("qa.ask", text="A"))["question"]["id"]
        b = (await mod.call("qa.ask", text="B"))["question"]["id"]
    async with joined(server, f"?since={since}") as (_, replay):
        assert replay["type"] == "update" and set(questions(replay)) == {a, b}
        assert replay["v"] > since
    async with joined(server, f"?since={replay['v']}") as (_, nothing):
        assert nothing == {"type": "update", "v": replay["v"]}
    async with joined(server, f"?since={since}") as (_, same):
        assert same == replay  # a crowd reconnecting from one version shares one frame
    async with joined(server, "?token=mod-secret") as (mod, _):
        c = (await mod.call("qa.ask", text="C"))["question"]["id"]
    async with joined(server, f"?since={since}") as (_, later):  # not the remembered frame
        assert set(questions(later)) == {a, b, c} and later["v"] > replay["v"]
    async with joined(server, "?since=9999") as (_, fallback):
        assert fallback["type"] == "snapshot" and set(questions(fallback)) == {a, b, c}


async def test_resync_message_sends_snapshot(server: str) -> None:
    """`resync` without a version sends a fresh snapshot before its ok."""
    async with joined(server) as (c, _):
        reply = await c.call("resync")
        assert reply["type"] == "ok"
        assert (await c.push(lambda m: m["type"] == "snapshot"))["v"] == 0


async def test_question_flood_is_limited_then_closed(settings: Settings) -> None:
    """Beyond a few questions a minute: qa.rate_limited, and persisting closes with 4029."""
    await make_db(settings.database_url)
    limits = Limits(questions_per_minute=2, strikes=12)
    async with (
        serve_app(build_app(settings, limits)) as url,
        joined(url.replace("http", "ws")) as (c, _),
    ):
        assert (await c.call("qa.ask", text="1"))["type"] == "ok"
        assert (await c.call("qa.ask", text="2"))["type"] == "ok"
        assert (await c.call("qa.ask", text="3"))["code"] == "qa.rate_limited"
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(10):
                await c.call("qa.ask", text="more")
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.FLOOD


async def test_message_flood_is_closed(settings: Settings) -> None:
    """Hundreds of messages a second from one connection get rate_limited, then a 4029 close."""
    await make_db(settings.database_url)
    async with serve_app(build_app(settings)) as url, joined(url.replace("http", "ws")) as (c, _):
        for i in range(400):
            await c.ws.send(json.dumps({"type": "ping", "id": i}))
        codes = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                codes.append((await c.read()).get("code"))
    assert "rate_limited" in codes
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.FLOOD


async def test_address_limit_spans_connections(settings: Settings) -> None:
    """Connections from one address share a budget: together they are limited."""
    await make_db(settings.database_url)
    limits = Limits(address_burst=10, address_per_second=0.01)
    async with serve_app(build_app(settings, limits)) as url:
        base = url.replace("http", "ws")
        async with joined(base) as (one, _), joined(base) as (two, _):
            replies = [await one.call("ping") for _ in range(5)]
            replies += [await two.call("ping") for _ in range(6)]
    assert [r["type"] for r in replies].count("ok") == 10
    assert replies[-1]["code"] == "rate_limited"


def read_frames(sock: socket.socket, buffer: bytes) -> list[tuple[int, bytes]]:
    """Server frames (opcode, payload) from a raw socket, up to the close frame."""
    frames: list[tuple[int, bytes]] = []
    while True:
        while len(buffer) >= 2:
            length, start = buffer[1] & 0x7F, 2
            if length == 126:
                length, start = int.from_bytes(buffer[2:4]), 4
            elif length == 127:
                length, start = int.from_bytes(buffer[2:10]), 10
            if len(buffer) < start + length:
                break
            frames.append((buffer[0] & 0x0F, buffer[start : start + length]))
            buffer = buffer[start + length :]
            if frames[-1][0] == 8:
                return frames
        chunk = sock.recv(1 << 20)
        if not chunk:
            return frames
        buffer += chunk


def handshake(sock: socket.socket) -> None:
    """Open a WebSocket by hand, reading exactly the response headers."""
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ws/events/panel HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101")


async def test_viewer_that_stops_reading_is_dropped(settings: Settings) -> None:
    """Over a real socket, a viewer that never reads gets 4008; a reading viewer gets every frame."""
    await make_db(settings.database_url)
    async with open_hub("memory://") as hub:
        app = build_app(settings, hub=hub)
        async with serve_app(app) as url:
            port = int(url.rsplit(":", 1)[1])
            raw = socket.create_connection(("127.0.0.1", port))
            # The slow viewer reads the handshake response, then nothing until the end.
            await asyncio.to_thread(handshake, raw)
            async with joined(url.replace("http", "ws")) as (fast, _):
                room = app.state.live.fanout.room(1)
                v = 0
                while not any(c.closed for c in room.viewers) and v < 2000:
                    v += 1
                    big = QuestionView(id=v, v=v, status=QaStatus.APPROVED, text="x" * 60_000)
                    await hub.publish(public_channel(1), Entry(v, v - 1, encode(Update(v, [big]))))
                    await fast.push(lambda m, v=v: m.get("v") == v)
            frames = await asyncio.to_thread(read_frames, raw, b"")
            raw.close()
    assert v < 2000 and frames[0][0] == 1  # the snapshot came first, as text
    opcode, payload = frames[-1]
    assert opcode == 8 and int.from_bytes(payload[:2]) == CloseCode.SLOW
