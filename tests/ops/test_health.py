"""/healthz, /readyz (each part failing for real) and /metrics (its token and its figures)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from starlette.applications import Starlette
from websockets.asyncio.client import connect

from live.app import create_app
from live.settings import Settings
from tests.support.app import ADMIN_TOKEN, LifespanApp, make_settings
from tests.support.liveserver import serve_app
from tests.support.servers import start_redis
from tests.support.ws_client import Client


@contextlib.asynccontextmanager
async def running(settings: Settings, peer: str = "127.0.0.1") -> AsyncIterator[
        tuple[httpx.AsyncClient, dict[str, Any], Starlette]]:
    """The app for `settings`, its lifespan state, and a client connecting from `peer`."""
    app = create_app(settings)
    async with app.router.lifespan_context(app) as state:
        transport = httpx.ASGITransport(app=LifespanApp(app, dict(state or {})), client=(peer, 5))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, dict(state or {}), app


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return make_settings(sqlite_url, tmp_path)


async def test_healthz_answers_while_the_process_runs(settings: Settings) -> None:
    """/healthz is 200 {"status": "ok"} and not cached."""
    async with running(settings) as (client, _, _app):
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_is_ready_when_every_part_works(settings: Settings) -> None:
    """/readyz is 200 with each check "ok" when database, hub and folder are usable."""
    async with running(settings) as (client, _, _app):
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {
        "database": "ok", "hub": "ok", "recordings": "ok"}}


async def test_readyz_names_a_database_that_cannot_be_opened(
        settings: Settings, sqlite_url: str) -> None:
    """A database file that is gone (a folder in its place) makes /readyz 503 naming the database."""
    path = Path(sqlite_url.removeprefix("sqlite+aiosqlite:///"))
    async with running(settings) as (client, state, _app):
        await state["app"].engine.dispose()
        path.unlink()
        path.mkdir()
        response = await client.get("/readyz")
        path.rmdir()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["code"] == "unavailable"
    assert body["checks"]["hub"] == "ok" and body["checks"]["recordings"] == "ok"
    assert body["checks"]["database"].startswith("database: ")
    assert body["message"].startswith("Not ready: database: ")


@pytest.mark.redis
async def test_readyz_names_a_hub_whose_redis_stopped(settings: Settings, tmp_path: Path) -> None:
    """With its redis-server stopped, /readyz is 503 naming the hub, and the rest is "ok"."""
    with start_redis() as redis:
        hub_settings = make_settings(settings.database_url, tmp_path, hub_url=redis.url)
        async with running(hub_settings) as (client, _, _app):
            assert (await client.get("/readyz")).status_code == 200
            stop_redis(redis.port)
            response = await client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["hub"].startswith("hub: ")
    assert checks["database"] == "ok" and checks["recordings"] == "ok"


def stop_redis(port: int) -> None:
    """Shut the test's redis-server down through its own SHUTDOWN command."""
    client = redis.Redis(port=port)
    with contextlib.suppress(redis.exceptions.ConnectionError):
        client.shutdown(nosave=True)
    client.close()


async def test_readyz_names_a_recordings_folder_that_is_not_a_folder(settings: Settings) -> None:
    """A file where the recordings folder should be makes /readyz 503 naming the folder."""
    folder = Path(settings.recordings_dir)
    async with running(settings) as (client, _, _app):
        shutil.rmtree(folder)
        folder.write_text("not a folder")
        response = await client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["recordings"].startswith(f"recordings folder {folder}: cannot be created")
    assert checks["database"] == "ok" and checks["hub"] == "ok"


async def test_metrics_answer_on_loopback_without_a_token(settings: Settings) -> None:
    """Without a metrics token /metrics is the Prometheus text to a loopback client."""
    async with running(settings) as (client, _, _app):
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE salen_tick_seconds histogram" in response.text
    assert "salen_stream_publishers 0.0" in response.text


async def test_metrics_report_the_tick_pacing_against_the_latency_target(
        sqlite_url: str, tmp_path: Path) -> None:
    """SALEN_LIVE_LATENCY_TARGET_MS reaches the ticks' pace, and a tick paced over it shows
    in /metrics (the over-target counter, the wait and the worst delay)."""
    settings = make_settings(sqlite_url, tmp_path, live_latency_target_ms=120)
    async with running(settings) as (client, state, _app):
        pace = state["live"].fanout.pace
        assert pace.target == 0.12
        pace.record(0.5, 1000, pace.pacing(1000)._replace(wait=0.3, worst=1.3, over=True))
        text = (await client.get("/metrics")).text
    assert "salen_tick_over_target_total 1.0" in text
    assert "salen_tick_wait_seconds 0.3" in text
    assert "salen_tick_worst_delay_seconds 1.3" in text


async def test_metrics_refuse_a_remote_client_without_a_token(settings: Settings) -> None:
    """Without a metrics token a client off loopback gets 403 metrics.forbidden."""
    async with running(settings, peer="203.0.113.9") as (client, _, _app):
        response = await client.get("/metrics")
    assert response.status_code == 403
    assert response.json()["code"] == "metrics.forbidden"


async def test_metrics_ask_for_the_token_when_one_is_set(sqlite_url: str, tmp_path: Path) -> None:
    """With SALEN_METRICS_TOKEN, /metrics is 401 without it or with a wrong one, 200 with it."""
    settings = make_settings(sqlite_url, tmp_path, metrics_token="scrape-me")
    async with running(settings, peer="203.0.113.9") as (client, _, _app):
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["code"] == "metrics.token"
    assert missing.headers["www-authenticate"] == 'Bearer realm="salen-metrics"'
    assert right.status_code == 200 and "salen_connections" in right.text


async def test_metrics_count_sockets_actions_ticks_and_registrations(demo_app: Starlette) -> None:
    """A viewer's socket, its question, the tick that brought its approval and a
    registration show in the process's /metrics."""
    slug = "vi-bygger-innlandet"
    async with serve_app(demo_app) as base, httpx.AsyncClient(base_url=base) as http:
        ws_url = f"{base.replace('http', 'ws', 1)}/ws/events/{slug}"
        async with connect(ws_url) as ws, connect(f"{ws_url}?token={ADMIN_TOKEN}") as mod_ws:
            viewer, moderator = Client(ws), Client(mod_ws)
            await viewer.read()  # the snapshot
            await moderator.read()
            during = (await http.get("/metrics")).text
            asked = await viewer.call("qa.ask", text="Hvordan følges planen opp?")
            qid = asked["question"]["id"]
            assert (await moderator.call("qa.approve", question=qid))["type"] == "ok"
            await viewer.push(lambda m: any(q["id"] == qid for q in m.get("questions", [])))
        registered = await http.post(f"/api/events/{slug}/registrations", json={
            "occurrence": "otta", "attendance": "in_person", "name": "Per Hansen",
            "email": "per@example.no", "organisation": "Sel kommune"})
        after = (await http.get("/metrics")).text
    assert asked["type"] == "ok", asked
    assert registered.status_code == 201, registered.text
    assert f'salen_connections{{event="{slug}",role="viewer"}} 1.0' in during
    assert f'salen_connections{{event="{slug}",role="viewer"}} 0.0' in after
    assert 'salen_action_seconds_count{outcome="ok",type="qa.ask"} 1.0' in after
    assert 'salen_action_seconds_count{outcome="ok",type="qa.approve"} 1.0' in after
    assert f'salen_connections{{event="{slug}",role="moderator"}} 1.0' in during
    frames = float(next(line.split()[1] for line in after.splitlines()
                        if line.startswith("salen_tick_frames_total ")))
    assert frames >= 1
    assert f'salen_registrations_total{{event="{slug}",status="confirmed"}} 1.0' in after
