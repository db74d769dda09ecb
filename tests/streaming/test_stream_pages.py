"""The stream's pages over HTTP: the player on the event page, the publishing page, the
organiser's stream page and key rotation, and refused stream URLs in event documents."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from starlette.applications import Starlette

from live.cli import main as salen
from live.events import embeds
from stream.manager import Status, StreamState
from tests.support.app import ADMIN, LifespanApp

SLUG = "stream-test"
ROOT = Path(__file__).resolve().parents[2]
TEXTS = (
    "live/events/embeds.py",
    "live/events/player.py",
    "live/streaming/pages.py",
    "live/streaming/admin.py",
    "templates/_player.html",
    "templates/stream/publish.html",
    "templates/admin/stream.html",
)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """These tests are not about the database: SQLite only."""
    return sqlite_url


def event_doc(slug: str = SLUG, days: float = 2, **fields: Any) -> dict[str, Any]:
    """A streamed event `days` from now (negative: in the past), lasting two hours."""
    starts = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).replace(microsecond=0)
    return {
        "slug": slug,
        "title": "Strømmetest",
        "streamed": True,
        "occurrences": [
            {
                "slug": "oslo",
                "city": "Oslo",
                "starts": starts.isoformat(),
                "ends": (starts + dt.timedelta(hours=2)).isoformat(),
            }
        ],
    } | fields


class FixedStreams:
    """Stands in for LiveStreams where only the state matters: always reports `status`."""

    def __init__(self, status: Status, viewers: int = 0) -> None:
        self.status, self.viewers = status, viewers

    def state(self, name: str) -> StreamState:
        return StreamState(name, self.status, viewers=self.viewers)


@pytest.fixture
async def running(demo_app: Starlette) -> AsyncIterator[tuple[Starlette, dict[str, Any]]]:
    """The demo app with its lifespan running, and the lifespan state."""
    async with demo_app.router.lifespan_context(demo_app) as state:
        yield demo_app, dict(state or {})


def client_for(app: Starlette, state: dict[str, Any], **changes: Any) -> httpx.AsyncClient:
    """An HTTP client on the running app, with some of the lifespan state replaced."""
    transport = httpx.ASGITransport(app=LifespanApp(app, state | changes))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def create(client: httpx.AsyncClient, doc: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/events", json=doc, headers=ADMIN)


async def test_streamed_event_page_has_the_player_and_when_it_starts(running: Any) -> None:
    """A streamed upcoming event shows Salen's player, its WHEP/HLS URLs and "Starts …"."""
    async with client_for(*running) as client:
        assert (await create(client, event_doc())).status_code == 201
        page = await client.get(f"/e/{SLUG}?lang=en")
    assert page.status_code == 200
    html = page.text
    assert f'data-whep-url="/whep/{SLUG}"' in html
    assert f'data-hls-url="/live/{SLUG}/master.m3u8"' in html
    assert "/static/js/player-page.js" in html and "<video" in html
    assert re.search(r"data-stream-status>Starts [^<]+</span>", html)
    assert f'href="/live/{SLUG}/master.m3u8"' in html  # the no-script way to the stream
    assert "<script>" not in html  # no inline scripts (CSP script-src 'self')
    assert "data-force-hls" not in html
    async with client_for(*running) as client:
        forced = await client.get(f"/e/{SLUG}?hls=1")
    assert "data-force-hls" in forced.text  # ?hls=1 skips WebRTC


async def test_qa_page_has_the_same_player(running: Any) -> None:
    """The watch-and-ask page (/e/{slug}/live) shows the player partial beside the Q&A."""
    async with client_for(*running) as client:
        assert (await create(client, event_doc())).status_code == 201
        page = await client.get(f"/e/{SLUG}/live?lang=en")
        unstreamed = await client.get("/e/vi-bygger-innlandet/live?lang=en")
    assert page.status_code == 200
    assert f'data-whep-url="/whep/{SLUG}"' in page.text
    assert page.text.count("data-stream-texts") == 1
    assert "data-whep-url" not in unstreamed.text
    assert "This event is not streamed here." in unstreamed.text


async def test_finalising_stream_says_the_recording_is_being_prepared(running: Any) -> None:
    """While the recording is finalised the page says so, even after the event's end time."""
    app, state = running
    async with client_for(app, state) as client:
        assert (await create(client, event_doc(days=-1))).status_code == 201
    async with client_for(app, state, streams=FixedStreams(Status.FINALISING)) as client:
        finalising = await client.get(f"/e/{SLUG}?lang=en")
    async with client_for(app, state, streams=FixedStreams(Status.IDLE)) as client:
        over = await client.get(f"/e/{SLUG}?lang=en")
    assert "data-stream-status>Ended — the recording is being prepared</span>" in finalising.text
    assert 'data-state="finalising"' in finalising.text
    assert "data-stream" not in over.text  # ended, nothing live: no player at all


async def test_live_stream_shows_viewer_count(running: Any) -> None:
    """A live stream's status line says "Live" with the number watching."""
    app, state = running
    async with client_for(app, state) as client:
        assert (await create(client, event_doc())).status_code == 201
    async with client_for(app, state, streams=FixedStreams(Status.LIVE, viewers=3)) as client:
        page = await client.get(f"/e/{SLUG}?lang=en")
    assert "data-stream-status>Live · 3 watching</span>" in page.text


async def test_external_player_is_a_nocookie_iframe(running: Any) -> None:
    """A YouTube stream URL is shown as a titled youtube-nocookie iframe, not Salen's player."""
    doc = event_doc(stream_url="https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    async with client_for(*running) as client:
        assert (await create(client, doc)).status_code == 201
        page = await client.get(f"/e/{SLUG}?lang=en")
    assert '<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in page.text
    assert 'title="Video player: Strømmetest"' in page.text
    assert "data-whep-url" not in page.text
    assert "https://www.youtube-nocookie.com" in page.headers["content-security-policy"]


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/player",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "https://www.youtube.com/feed/trending",
    ],
)
async def test_bad_stream_url_is_refused_with_a_field_message(running: Any, url: str) -> None:
    """An event document whose stream_url cannot be embedded is a 422 naming the field."""
    async with client_for(*running) as client:
        assert (await create(client, event_doc())).status_code == 201
        response = await client.patch(
            f"/api/events/{SLUG}",
            json={"stream_url": url},
            headers=ADMIN | {"accept-language": "en"},
        )
        created = await create(client, event_doc("other-slug", stream_url=url))
    for refused in (response, created):
        assert refused.status_code == 422
        assert set(refused.json()["fields"]) == {"stream_url"}
        assert refused.json()["fields"]["stream_url"]


async def test_publish_page_takes_the_key_from_the_address(running: Any) -> None:
    """/e/{slug}/publish?key=… fills in the key, loads its module and is never cached."""
    async with client_for(*running) as client:
        assert (await create(client, event_doc())).status_code == 201
        page = await client.get(f"/e/{SLUG}/publish?key=abc123&lang=en")
        missing = await client.get("/e/no-such-event/publish")
    assert page.status_code == 200
    assert 'value="abc123"' in page.text
    assert f'data-whip-url="/whip/{SLUG}"' in page.text
    assert "/static/js/publish-page.js" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert missing.status_code == 404


async def test_organiser_stream_page_and_key_rotation(running: Any) -> None:
    """Organisers see the WHIP URL and key with OBS settings; a new key replaces the old."""
    async with client_for(*running) as client:
        assert (await create(client, event_doc())).status_code == 201
        anonymous = await client.get(f"/admin/events/{SLUG}/stream")
        info = (await client.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()
        page = await client.get(f"/admin/events/{SLUG}/stream?lang=en", headers=ADMIN)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        forged = await client.post(
            f"/admin/events/{SLUG}/stream", headers=ADMIN, data={"csrf_token": "wrong"}
        )
        asked = await client.post(
            f"/admin/events/{SLUG}/stream", headers=ADMIN, data={"csrf_token": csrf.group(1)}
        )
        unchanged = (await client.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()
        rotated = await client.post(
            f"/admin/events/{SLUG}/stream", headers=ADMIN,
            data={"csrf_token": csrf.group(1), "confirm": "yes"}
        )
        after = (await client.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()
    assert anonymous.status_code == 303 and "/admin/login" in anonymous.headers["location"]
    assert f'value="{info["whip_url"]}"' in page.text
    assert f'value="{info["stream_key"]}"' in page.text
    assert "bframes=0" in page.text and "Opus" in page.text
    assert forged.status_code == 403
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/confirm/stream.key/admin/events/{SLUG}/stream"
    assert unchanged["stream_key"] == info["stream_key"]
    assert rotated.status_code == 303
    assert after["stream_key"] != info["stream_key"]


def test_cli_prints_the_stream_settings_and_makes_a_new_key(
    settings: Any,
    demo_app: Starlette,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`salen stream key SLUG` prints the URLs and key; `--new` prints a different key."""
    monkeypatch.setenv("SALEN_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SALEN_BASE_URL", "https://salen.example.org")
    assert salen(["stream", "key", "planstrategi-4-0"]) == 0
    first = capsys.readouterr().out
    assert salen(["stream", "key", "planstrategi-4-0", "--new"]) == 0
    second = capsys.readouterr().out
    assert salen(["stream", "key", "no-such-event"]) == 1
    lines = dict(line.split(": ", 1) for line in first.splitlines())
    assert lines["whip_url"] == "https://salen.example.org/whip/planstrategi-4-0"
    assert lines["whep_url"] == "https://salen.example.org/whep/planstrategi-4-0"
    assert lines["hls_url"] == "https://salen.example.org/live/planstrategi-4-0/master.m3u8"
    new = dict(line.split(": ", 1) for line in second.splitlines())
    assert len(lines["stream_key"]) >= 20 and new["stream_key"] != lines["stream_key"]


def test_every_stream_page_text_has_a_bokmal_translation() -> None:
    """Each msgid of the stream pages is translated in the bokmål catalogue."""
    extracted = set()
    for name in TEXTS:
        method = "python" if name.endswith(".py") else "jinja2"
        options = {} if method == "python" else {"extensions": "jinja2.ext.i18n"}
        for _line, message, *_ in extract_from_file(method, str(ROOT / name), options=options):
            extracted.add(message if isinstance(message, str) else message[0])
    with (ROOT / "live/locale/nb/LC_MESSAGES/messages.po").open("rb") as f:
        translated = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.string}
    assert "Ended — the recording is being prepared" in extracted
    assert {embeds.NOT_A_URL, embeds.NOT_HTTPS, embeds.NOT_ALLOWED, embeds.NO_VIDEO} <= extracted
    assert extracted - translated == set()
