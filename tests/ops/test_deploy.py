"""The shipped deployment, for real on loopback: Debian's nginx with deploy/nginx/salen.conf in
front of two `salen serve` workers sharing a real redis-server and a throwaway PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from stream.client import SyntheticAudio, SyntheticVideo, publish, view
from tests.support.app import ADMIN, ADMIN_TOKEN
from tests.support.deploy import Deployment, Worker, deployment
from tests.support.servers import PostgresServer
from tests.support.ws_client import Client

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.media]

SLUG = "fylkesdebatt"
EVENT = {
    "slug": SLUG, "title": "Fylkesdebatt",
    "occurrences": [{"slug": "hamar", "city": "Hamar", "starts": "2027-05-04T09:00",
                     "ends": "2027-05-04T12:00", "registration_deadline": "2027-04-27T23:59",
                     "capacity_in_person": 40}],
}
GUARD = 60.0  # seconds before a wait is declared hung (not a performance assertion)


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    async def poll() -> None:
        while not await check():
            await asyncio.sleep(0.2)

    try:
        await asyncio.wait_for(poll(), GUARD)
    except TimeoutError:
        pytest.fail(f"gave up waiting for {what}")


def figure(text: str, name: str, **labels: str) -> float:
    """One sample of a metric in Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = "^" + re.escape(name + (f"{{{wanted}}}" if labels else "")) + r" (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def metrics(worker: Worker) -> str:
    """The worker's own /metrics, on its own port (nginx does not pass /metrics on)."""
    async with httpx.AsyncClient(timeout=10) as http:
        return (await http.get(f"{worker.url}/metrics")).text


async def sockets_on(worker: Worker, role: str) -> float:
    return figure(await metrics(worker), "salen_connections", event=SLUG, role=role)


@contextlib.asynccontextmanager
async def socket(d: Deployment, query: str = "") -> AsyncIterator[tuple[Client, dict[str, Any]]]:
    """A live socket to the event through nginx, with its first push."""
    async with connect(f"{d.url.replace('http', 'ws', 1)}/ws/events/{SLUG}{query}") as ws:
        client = Client(ws)
        yield client, await client.read()


def question_ids(push: dict[str, Any]) -> set[int]:
    return {q["id"] for q in push.get("questions", []) + push.get("mine", [])}


@pytest.fixture
def deployed(tmp_path: Path, postgres_server: PostgresServer, redis_url: str
             ) -> Iterator[Deployment]:
    database = postgres_server.create_database("deploy_e2e")
    with deployment(tmp_path, database, redis_url, admin_token=ADMIN_TOKEN) as running:
        yield running
    postgres_server.drop_database("deploy_e2e")


async def test_two_workers_behind_nginx(deployed: Deployment) -> None:
    """Through nginx: register, ask on one worker and approve on the other, watch over WHEP
    and HLS (nginx serving the files with CDN cache headers), then SIGKILL the asker's
    worker: its client reconnects through nginx to the other and no acknowledged question
    is lost; the access log names no secret."""
    d = deployed
    async with httpx.AsyncClient(base_url=d.url, timeout=30) as http:
        assert (await http.post("/api/events", json=EVENT, headers=ADMIN)).status_code == 201
        token = await register(http)
        await watch_media(d, http)
        await ask_approve_and_survive_a_kill(d)
    log = d.access_log.read_text() + d.access_log.with_name("salen.error.log").read_text()
    assert ADMIN_TOKEN not in log and token not in log and "?p=" not in log
    for worker in d.workers:
        assert "Traceback" not in worker.log.read_text()
    assert '"GET /r/... HTTP/1.1" 200' in log
    assert f"/ws/events/{SLUG}?... HTTP/1.1" in log


async def register(http: httpx.AsyncClient) -> str:
    """A registration through nginx; its personal page opens. Returns its secret token."""
    registered = await http.post(f"/api/events/{SLUG}/registrations", json={
        "occurrence": "hamar", "attendance": "in_person", "name": "Kari Nordmann",
        "email": "kari@example.no", "organisation": "Hamar kommune"})
    assert registered.status_code == 201, registered.text
    token = registered.json()["page_url"].rsplit("/", 1)[-1]
    assert (await http.get(f"/r/{token}")).status_code == 200
    return token


async def watch_media(d: Deployment, http: httpx.AsyncClient) -> None:
    """WHIP and WHEP of the event reach the same worker; live HLS comes from nginx."""
    key = (await http.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()["stream_key"]
    publisher = await publish(http, f"{d.url}/whip/{SLUG}", key, SyntheticVideo(),
                              SyntheticAudio())
    try:
        viewer, tracks = await view(http, f"{d.url}/whep/{SLUG}")
        track = await asyncio.wait_for(tracks.get(), GUARD)
        while track.kind != "video":
            track = await asyncio.wait_for(tracks.get(), GUARD)
        assert (await asyncio.wait_for(track.recv(), GUARD)).width > 0
        texts = [await metrics(w) for w in d.workers]
        assert sorted(figure(t, "salen_stream_publishers") for t in texts) == [0.0, 1.0]
        owner = next(t for t in texts if figure(t, "salen_stream_publishers") == 1.0)
        assert figure(owner, "salen_stream_viewers", event=SLUG) == 1.0
        await watch_hls(d, http)
        await viewer.delete(http)
        await viewer.close()
    finally:
        await publisher.delete(http, key)
        await publisher.close()
    for _ in range(4):  # a room's pages and video call: the event's worker too
        await http.get(f"/e/{SLUG}/rooms/1")
    lines = [line for line in d.access_log.read_text().splitlines()
             if re.search(rf'"(?:(?:POST|DELETE) /wh[ie]p/|GET /e/{SLUG}/rooms/)', line)]
    assert sum(f"/e/{SLUG}/rooms/" in line for line in lines) == 4
    upstreams = {line.rsplit("upstream=", 1)[1] for line in lines}
    assert len(upstreams) == 1, upstreams


async def watch_hls(d: Deployment, http: httpx.AsyncClient) -> None:
    """The live playlist (1 s) and a segment (immutable), sent by nginx from the folder."""
    playlist: httpx.Response | None = None

    async def ready() -> bool:
        nonlocal playlist
        playlist = await http.get(f"/live/{SLUG}/index.m3u8")
        return playlist.status_code == 200 and ".ts" in playlist.text

    await eventually(ready, "the live HLS playlist")
    assert playlist is not None
    assert playlist.headers["cache-control"] == "public, max-age=1"
    assert playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert playlist.headers["server"].startswith("nginx")
    assert "x-accel-redirect" not in playlist.headers
    name = next(line for line in playlist.text.splitlines() if line.endswith(".ts"))
    segment = await http.get(f"/live/{SLUG}/{name}")
    assert segment.status_code == 200
    assert segment.headers["cache-control"] == "public, max-age=86400, immutable"
    assert segment.headers["content-type"] == "video/mp2t"
    assert segment.content == (d.recordings / "live" / SLUG / name).read_bytes()
    part = await http.get(f"/live/{SLUG}/{name}", headers={"Range": "bytes=0-187"})
    assert part.status_code == 206 and part.content == segment.content[:188]


async def ask_approve_and_survive_a_kill(d: Deployment) -> None:
    async with socket(d, f"?token={ADMIN_TOKEN}") as (moderator, _):
        async with socket(d) as (asker, first):
            roles = [(await sockets_on(w, "moderator"), await sockets_on(w, "viewer"))
                     for w in d.workers]
            assert sorted(roles) == [(0.0, 1.0), (1.0, 0.0)], roles  # one on each worker
            asked = await asker.call("qa.ask", text="Hva koster bussen til Otta?")
            assert asked["type"] == "ok" and asked["question"]["status"] == "pending", asked
            qid = asked["question"]["id"]
            await moderator.push(lambda m: qid in question_ids(m))
            approved = await moderator.call("qa.approve", question=qid)
            assert approved["type"] == "ok", approved
            await asker.push(lambda m: any(
                q["id"] == qid and q["status"] == "approved" for q in m.get("questions", [])))
            acked = {qid} | await ask_until_killed(asker, d.workers[roles.index((0.0, 1.0))])
        participant = first["you"]["participant"]
        async with socket(d, f"?p={participant}") as (_, snapshot):
            assert acked <= question_ids(snapshot)  # its own, pending ones too
        async with socket(d) as (newcomer, _):  # (the asker has used its 3 a minute)
            more = await newcomer.call("qa.ask", text="Og etter klokka ti?")
            assert more["type"] == "ok", more
            acked.add(more["question"]["id"])
        await moderator.push(lambda m: more["question"]["id"] in question_ids(m))
    async with socket(d, f"?token={ADMIN_TOKEN}") as (_, fresh):
        assert acked <= question_ids(fresh)


async def ask_until_killed(asker: Client, worker: Worker) -> set[int]:
    """Questions acknowledged before and while the asker's worker is killed with SIGKILL."""
    reply = await asker.call("qa.ask", text="Kommer det et referat?")
    assert reply["type"] == "ok", reply
    acked = {reply["question"]["id"]}
    asker.next_id += 1
    await asker.ws.send(json.dumps({"type": "qa.ask", "id": asker.next_id,
                                    "text": "Sendt idet prosessen dør"}))
    await asyncio.to_thread(worker.kill)
    with pytest.raises(ConnectionClosed):
        while True:  # the last question's ok may or may not have left before the kill
            message = await asker.read()
            if message.get("id") == asker.next_id and message["type"] == "ok":
                acked.add(message["question"]["id"])
    return acked
