"""The archive over HTTP: import by upload, the API, publishing, Range requests, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from tests.support.app import ADMIN
from tests.support.archive import ITEMS, SLUG, add_event, video, wait_processed


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """These tests are about HTTP, not the database: SQLite only."""
    return sqlite_url


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 30-second H.264/AAC test video for the module (imports copy or move their own)."""
    return video(tmp_path_factory.mktemp("media"), 30, audio_codec="aac")


async def upload(client: httpx.AsyncClient, path: Path, **fields: str) -> httpx.Response:
    with path.open("rb") as f:
        return await client.post(
            f"/admin/events/{SLUG}/recordings",
            headers=ADMIN,
            data=fields,
            files={"file": (path.name, f, "video/mp2t")},
        )


@pytest.fixture
async def recording(
    client: httpx.AsyncClient, settings: object, source: Path, tmp_path: Path
) -> dict[str, object]:
    """A recording imported through the upload form and processed (not published)."""
    await add_event(settings)  # type: ignore[arg-type]
    copy = tmp_path / "upload.ts"
    copy.write_bytes(source.read_bytes())
    response = await upload(client, copy, started_at="2026-10-21T10:00")
    assert response.status_code == 303, response.text
    rid = int(response.headers["location"].rsplit("/", 1)[1])
    return await wait_processed(client, rid, ADMIN)


async def test_upload_import_gives_three_chapters_and_both_renditions(
    client: httpx.AsyncClient, recording: dict[str, object], settings: object
) -> None:
    """An uploaded 30 s video for a three-item event becomes ready with an MP4 and VOD HLS."""
    assert recording["state"] == "ready", recording
    assert [c["title"] for c in recording["chapters"]] == ITEMS  # type: ignore[union-attr]
    assert [c["start"] for c in recording["chapters"]] == [0.0, 10.0, 20.0]  # type: ignore[union-attr]
    assert abs(float(recording["duration"]) - 30) < 0.5  # type: ignore[arg-type]
    files = recording["files"]
    assert files["mp4"].endswith("/recording.mp4") and files["hls"].endswith("/hls/index.m3u8")  # type: ignore[index]
    playlist = await client.get(files["hls"], headers=ADMIN)  # type: ignore[index]
    assert playlist.status_code == 200
    assert playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert "#EXT-X-ENDLIST" in playlist.text and "#EXT-X-PLAYLIST-TYPE:VOD" in playlist.text


async def test_mp4_chapters_read_back_with_pyav(
    client: httpx.AsyncClient, recording: dict[str, object], tmp_path: Path
) -> None:
    """The served MP4 carries one chapter per programme item, which PyAV reads back."""
    body = await client.get(recording["files"]["mp4"], headers=ADMIN)  # type: ignore[index]
    assert body.headers["content-type"] == "video/mp4"
    path = tmp_path / "got.mp4"
    path.write_bytes(body.content)
    with av.open(str(path)) as container:
        chapters = container.chapters()
    assert [c["metadata"]["title"] for c in chapters] == ITEMS
    assert [c["start"] * c["time_base"] for c in chapters] == [0, 10, 20]


async def test_hls_segments_decode(
    client: httpx.AsyncClient, recording: dict[str, object], tmp_path: Path
) -> None:
    """Every segment the playlist names is served as video/mp2t and decodes to video frames."""
    hls = recording["files"]["hls"]  # type: ignore[index]
    playlist = (await client.get(hls, headers=ADMIN)).text
    names = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    assert len(names) >= 4
    total = 0.0
    for name in names:
        segment = await client.get(hls.rsplit("/", 1)[0] + "/" + name, headers=ADMIN)
        assert segment.headers["content-type"] == "video/mp2t"
        path = tmp_path / name
        path.write_bytes(segment.content)
        with av.open(str(path)) as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames > 0
        total += frames
    assert total == 30 * 25


async def test_range_requests_return_206_with_the_right_bytes(
    client: httpx.AsyncClient, recording: dict[str, object], settings: object
) -> None:
    """A Range request gets 206, Content-Range and exactly those bytes of the file."""
    url = recording["files"]["mp4"]  # type: ignore[index]
    whole = (await client.get(url, headers=ADMIN)).content
    part = await client.get(url, headers={**ADMIN, "Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(whole)}"
    assert part.content == whole[1000:2000]
    tail = await client.get(url, headers={**ADMIN, "Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == whole[-100:]
    assert part.headers["accept-ranges"] == "bytes"


async def test_unpublished_is_404_for_visitors_until_published(
    client: httpx.AsyncClient, recording: dict[str, object]
) -> None:
    """Visitors get 404 for an unpublished recording's page, API and files; after publish, 200."""
    rid = recording["id"]
    urls = [f"/recordings/{rid}", f"/api/recordings/{rid}", recording["files"]["mp4"]]  # type: ignore[index]
    for url in urls:
        assert (await client.get(url)).status_code == 404
    mine = {"event": SLUG}  # the demo debate's recording is published from the start
    assert (await client.get("/api/recordings", params=mine)).json()["recordings"] == []
    assert (await client.post(f"/api/recordings/{rid}/publish")).status_code in (401, 404)
    published = await client.post(f"/api/recordings/{rid}/publish", headers=ADMIN)
    assert published.status_code == 200 and published.json()["state"] == "published"
    for url in urls:
        assert (await client.get(url)).status_code == 200
    listed = (await client.get("/api/recordings", params={"event": SLUG})).json()["recordings"]
    assert [r["id"] for r in listed] == [rid]
    mp4 = await client.get(recording["files"]["mp4"])  # type: ignore[index]
    assert "public" in mp4.headers["cache-control"]
    back = await client.post(f"/api/recordings/{rid}/unpublish", headers=ADMIN)
    assert back.json()["state"] == "ready"
    assert (await client.get(f"/recordings/{rid}")).status_code == 404


async def test_api_is_described_in_openapi(client: httpx.AsyncClient) -> None:
    """The recordings endpoints appear in /api/openapi.json."""
    paths = (await client.get("/api/openapi.json")).json()["paths"]
    assert set(paths["/api/recordings/{recording_id}/publish"]) == {"post"}
    assert "get" in paths["/api/recordings"]


async def test_archive_lists_and_searches_published(
    client: httpx.AsyncClient, recording: dict[str, object]
) -> None:
    """/archive lists a published recording and finds it by speaker organisation, type and year."""
    rid = recording["id"]
    await client.post(f"/api/recordings/{rid}/publish", headers=ADMIN)
    link = f'href="/recordings/{rid}"'
    assert link in (await client.get("/archive")).text
    assert link in (await client.get("/archive", params={"q": "innlandet fylkeskommune"})).text
    assert (
        link
        in (
            await client.get(
                "/archive", params={"q": "planstrategi", "type": "debate", "year": "2026"}
            )
        ).text
    )
    assert link not in (await client.get("/archive", params={"q": "nothing-like-this"})).text
    assert link not in (await client.get("/archive", params={"type": "workshop"})).text


async def test_no_path_traversal(client: httpx.AsyncClient, recording: dict[str, object]) -> None:
    """Only the recording's own media names are served; the source file and ../ are not."""
    rid = recording["id"]
    for name in [
        "source.ts",
        "../../salen.db",
        "..%2F..%2Fsalen.db",
        "hls/../source.ts",
        "media/recording.mp4",
        "hls/../../x.ts",
        "captions/../../x.vtt",
    ]:
        response = await client.get(f"/recordings/{rid}/files/{name}", headers=ADMIN)
        assert response.status_code == 404, name
    assert (await client.get("/api/recordings/abc", headers=ADMIN)).status_code == 404


async def test_captions_upload_srt_and_bad_line(
    client: httpx.AsyncClient, recording: dict[str, object]
) -> None:
    """SRT captions are stored as WebVTT; a broken file is refused naming the line."""
    rid = recording["id"]
    srt = b"1\n00:00:01,000 --> 00:00:04,000\nVelkommen til seminaret\n\n"
    ok = await client.post(
        f"/admin/recordings/{rid}/captions",
        headers=ADMIN,
        data={"lang": "nb", "label": "Norsk"},
        files={"file": ("nb.srt", srt, "application/x-subrip")},
    )
    assert ok.status_code == 303
    body = (await client.get(f"/api/recordings/{rid}", headers=ADMIN)).json()
    assert body["captions"] == [
        {"lang": "nb", "label": "Norsk", "url": f"/recordings/{rid}/files/captions/nb.vtt"}
    ]
    vtt = await client.get(body["captions"][0]["url"], headers=ADMIN)
    assert vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT") and "00:00:01.000 --> 00:00:04.000" in vtt.text
    bad = b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nok\n\n00:00:05.000 -> nonsense\ntext\n"
    refused = await client.post(
        f"/admin/recordings/{rid}/captions",
        headers=ADMIN,
        data={"lang": "en"},
        files={"file": ("en.vtt", bad, "text/vtt")},
    )
    assert refused.status_code == 422
    assert "line 6" in refused.text


async def test_slides_per_programme_item(
    client: httpx.AsyncClient, recording: dict[str, object]
) -> None:
    """A PDF uploaded for a programme item is listed under it; other files are refused."""
    rid = recording["id"]
    item = recording["chapters"][1]  # type: ignore[index]
    page = (await client.get(f"/admin/recordings/{rid}", headers=ADMIN)).text
    assert item["title"] in page
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    item_id = (await client.get(f"/api/recordings/{rid}", headers=ADMIN)).json()
    sent = await client.post(
        f"/admin/recordings/{rid}/attachments",
        headers=ADMIN,
        data={"item": "2", "title": "Lysark"},
        files={"file": ("lysark.pdf", pdf, "application/pdf")},
    )
    assert sent.status_code == 303 and item_id["id"] == rid
    attachments = (await client.get(f"/api/recordings/{rid}", headers=ADMIN)).json()["attachments"]
    assert [(a["title"], a["item"]) for a in attachments] == [("Lysark", 2)]
    got = await client.get(attachments[0]["url"], headers=ADMIN)
    assert got.content == pdf and got.headers["content-type"] == "application/pdf"
    refused = await client.post(
        f"/admin/recordings/{rid}/attachments",
        headers=ADMIN,
        data={"item": "2"},
        files={"file": ("x.pdf", b"hello", "text/plain")},
    )
    assert refused.status_code == 422 and "PDF" in refused.text


async def test_removing_slides_and_deriving_chapters_again_ask_first(
    client: httpx.AsyncClient, recording: dict[str, object]
) -> None:
    """Removing an attachment and deriving the chapters again (which drops hand-made ones)
    lead to the confirm page and change nothing; with `confirm` they are done."""
    rid = recording["id"]
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    await client.post(f"/admin/recordings/{rid}/attachments", headers=ADMIN,
                      data={"item": "2", "title": "Lysark"},
                      files={"file": ("lysark.pdf", pdf, "application/pdf")})
    await client.post(f"/admin/recordings/{rid}/chapters", headers=ADMIN,
                      data={"chapters": "00:00:00 Mine egne"})
    await wait_processed(client, rid, ADMIN)  # type: ignore[arg-type]

    def state(body: dict[str, Any]) -> tuple[int, list[str]]:
        return len(body["attachments"]), [c["title"] for c in body["chapters"]]

    before = state((await client.get(f"/api/recordings/{rid}", headers=ADMIN)).json())
    [attachment] = (await client.get(f"/api/recordings/{rid}", headers=ADMIN)).json()["attachments"]
    remove = f"/admin/recordings/{rid}/attachments/{attachment['id']}/delete"
    for action in (remove, f"/admin/recordings/{rid}/reset-chapters"):
        asked = await client.post(action, headers=ADMIN)
        assert asked.status_code == 303 and asked.headers["location"].startswith("/confirm/")
        page = await client.get(asked.headers["location"], headers=ADMIN, params={"lang": "en"})
        assert page.status_code == 200 and f'action="{action}"' in page.text
    assert state((await client.get(f"/api/recordings/{rid}", headers=ADMIN)).json()) == before
    for action in (remove, f"/admin/recordings/{rid}/reset-chapters"):
        done = await client.post(action, headers=ADMIN, data={"confirm": "yes"})
        assert done.status_code == 303 and done.headers["location"] == f"/admin/recordings/{rid}"
    after = state(await wait_processed(client, rid, ADMIN))  # type: ignore[arg-type]
    assert before == (1, ["Mine egne"]) and after == (0, ITEMS)


@pytest.mark.parametrize("content", [b"this is not a video at all\n" * 100, b""])
async def test_not_a_video_is_refused_and_nothing_created(
    client: httpx.AsyncClient, settings: object, tmp_path: Path, content: bytes
) -> None:
    """Uploading a text file (or nothing) is refused with a message; no recording appears."""
    await add_event(settings)  # type: ignore[arg-type]
    bogus = tmp_path / "notes.mp4"
    bogus.write_bytes(content)
    response = await upload(client, bogus)
    assert response.status_code == 422
    listed = await client.get("/api/recordings", params={"event": SLUG}, headers=ADMIN)
    assert listed.json()["recordings"] == []
    uploads = Path(settings.recordings_dir) / "archive" / "uploads"  # type: ignore[attr-defined]
    assert not any(uploads.iterdir())


async def test_refused_video_is_told_in_bokmal_with_the_chosen_name(
    client: httpx.AsyncClient, settings: object, tmp_path: Path
) -> None:
    """A text file sent as a video: the refusal is in bokmål and names the file chosen, not the temporary one."""
    await add_event(settings)  # type: ignore[arg-type]
    bogus = tmp_path / "notes.mp4"
    bogus.write_bytes(b"this is not a video at all\n" * 100)
    client.cookies.set("salen_lang", "nb")
    response = await upload(client, bogus)
    assert response.status_code == 422
    assert "notes.mp4 er ikke en videofil." in response.text
    assert "upload-" not in response.text and "not a video file" not in response.text


async def test_broken_file_fails_without_files(
    client: httpx.AsyncClient, settings: object, source: Path, tmp_path: Path
) -> None:
    """A truncated file ends as `failed` with a message and no MP4 or HLS left to serve."""
    await add_event(settings)  # type: ignore[arg-type]
    broken = tmp_path / "broken.ts"
    broken.write_bytes(source.read_bytes()[:2000])
    response = await upload(client, broken)
    if response.status_code == 422:  # refused at once by the probe: also fine
        assert "broken.ts" in response.text
        return
    rid = int(response.headers["location"].rsplit("/", 1)[1])
    body = await wait_processed(client, rid, ADMIN)
    assert body["state"] == "failed" and body["error"]
    assert body["files"] == {"mp4": None, "hls": None, "poster": None}
    folder = Path(settings.recordings_dir) / "archive" / str(rid)  # type: ignore[attr-defined]
    assert sorted(p.name for p in folder.iterdir()) == ["source.ts"]
    refused = await client.post(f"/api/recordings/{rid}/publish", headers=ADMIN)
    assert refused.status_code == 409


async def test_unsupported_codec_is_refused(
    client: httpx.AsyncClient, settings: object, tmp_path: Path
) -> None:
    """A codec that cannot be remuxed (MPEG-4 Part 2 in Matroska) is refused with the reason."""
    await add_event(settings)  # type: ignore[arg-type]
    old = video(
        tmp_path, 2, name="old.mkv", container="matroska", video_codec="mpeg4", audio_codec=None
    )
    response = await upload(client, old)
    assert response.status_code == 422
    assert "mpeg4" in response.text
    listed = await client.get("/api/recordings", params={"event": SLUG}, headers=ADMIN)
    assert listed.json()["recordings"] == []
