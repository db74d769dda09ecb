"""The demo debate's recording: generated once per run, packaged and published like an import."""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import httpx
import pytest
from sqlalchemy import select

from live.archive.service import MEDIA_DIR, MP4_NAME, Archive, recording_dir
from live.db import create_engine, sessionmaker
from live.demo import DEMO_DIR
from live.demo.content import DemoRun, add_demo_content
from live.demo.interpreter import LEAD, REST, hands
from live.demo.media import make_demo_media
from live.demo.polls import RECORDED_POLLS, remove_recorded_polls
from live.demo.recording import DEMO_DEBATE, PARTS, QUESTIONS
from live.events.document import read_event_file
from live.models import Event, ProgrammeItem
from live.models.polls import Poll
from live.models.qa import Question
from live.settings import Settings
from stream.package.captions import Cue, parse_captions

ITEMS = [i.title for b in read_event_file(DEMO_DIR / f"{DEMO_DEBATE}.yaml").programme
         for i in b.items]


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The demo content, not the database, is under test: SQLite only."""
    return sqlite_url


@pytest.fixture
async def recording(client: httpx.AsyncClient) -> dict[str, object]:
    listed = (await client.get("/api/recordings", params={"event": DEMO_DEBATE})).json()
    assert len(listed["recordings"]) == 1, listed
    return listed["recordings"][0]  # type: ignore[no-any-return]


async def test_published_with_a_chapter_per_programme_item(recording: dict[str, object]) -> None:
    """The debate has one published recording, a few minutes long, whose chapters are its
    programme items."""
    assert recording["state"] == "published"
    chapters = recording["chapters"]
    assert [c["title"] for c in chapters] == ITEMS  # type: ignore[union-attr]
    assert 120 <= float(recording["duration"]) <= 240  # type: ignore[arg-type]


async def test_mp4_decodes_with_its_chapters(
    recording: dict[str, object], settings: Settings
) -> None:
    """PyAV opens the MP4, decodes video and audio, and reads back the programme's chapters."""
    path = recording_dir(settings, int(recording["id"])) / MEDIA_DIR / MP4_NAME  # type: ignore[call-overload]
    with av.open(str(path)) as container:
        assert container.duration and container.duration > 0
        assert [c["metadata"]["title"] for c in container.chapters()] == ITEMS
        assert next(container.decode(video=0)).width == 640
        container.seek(0)
        assert next(container.decode(audio=0)).samples > 0


async def test_poster_frame_is_served(
    client: httpx.AsyncClient, recording: dict[str, object]
) -> None:
    """The packaging made a poster frame; the API names it and it is served as JPEG."""
    url = recording["files"]["poster"]  # type: ignore[index]
    response = await client.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.content[:2] == b"\xff\xd8"
    page = await client.get(f"/recordings/{recording['id']}")
    assert f'poster="{url}"' in page.text


async def test_captions_parse_and_speak_every_line(
    client: httpx.AsyncClient, recording: dict[str, object]
) -> None:
    """The Norwegian captions are valid WebVTT with the spoken text, one cue per sentence;
    the draft transcript beside them is the same text."""
    track, draft = recording["captions"]  # type: ignore[misc]
    assert track["lang"] == "nb" and draft["lang"] == "nb-auto"
    assert (await client.get(draft["url"])).text == (await client.get(track["url"])).text
    response = await client.get(track["url"])
    assert response.status_code == 200
    cues = parse_captions(response.text).cues
    assert [c.text for c in cues] == [line for p in PARTS for line in p.lines]
    assert all(c.end <= float(recording["duration"]) for c in cues)  # type: ignore[arg-type]


async def test_slides_attached_to_the_first_item(
    client: httpx.AsyncClient, recording: dict[str, object], settings: Settings
) -> None:
    """A PDF slide is attached to the first programme item and served."""
    [slide] = recording["attachments"]  # type: ignore[misc]
    engine = create_engine(settings.database_url)
    try:
        async with sessionmaker(engine)() as session:
            first = await session.scalar(
                select(ProgrammeItem.id).where(ProgrammeItem.title == ITEMS[0]))
    finally:
        await engine.dispose()
    assert first is not None and slide["item"] == first
    response = await client.get(slide["url"])
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")


async def test_archive_lists_it_and_the_page_shows_the_questions(
    client: httpx.AsyncClient, recording: dict[str, object]
) -> None:
    """/archive lists the debate; its page has the player, chapters and the questions."""
    rid = recording["id"]
    assert f'href="/recordings/{rid}"' in (await client.get("/archive")).text
    page = await client.get(f"/recordings/{rid}")
    assert page.status_code == 200
    starts = [float(c["start"]) for c in recording["chapters"]]  # type: ignore[union-attr]
    for part, asked, _, answered, _, _, text in QUESTIONS:
        assert text in page.text
        assert f'href="?t={int(starts[part] + asked)}"' in page.text
        if answered is not None:
            assert f'href="?t={int(starts[part] + answered)}"' in page.text


async def test_the_polls_run_during_the_debate_are_on_its_timeline(
    client: httpx.AsyncClient, recording: dict[str, object]
) -> None:
    """The recording page lists the debate's polls with their results, each launched and
    revealed at its moment in its programme item's chapter."""
    page = (await client.get(f"/recordings/{recording['id']}")).text
    assert 'id="polls-timeline-h"' in page
    starts = [float(c["start"]) for c in recording["chapters"]]  # type: ignore[union-attr]
    for poll in RECORDED_POLLS:
        assert poll.question in page
        assert f'href="?t={int(starts[poll.part] + poll.launched)}"' in page
        assert f'href="?t={int(starts[poll.part] + poll.revealed)}"' in page
        assert f"{len(poll.answers)} svar" in page
    assert "Næring og internasjonalt samarbeid: 6" in page


async def test_the_interpreter_plays_beside_it_a_few_seconds_ahead(
    client: httpx.AsyncClient, recording: dict[str, object], settings: Settings
) -> None:
    """The interpreter's MP4 is served and offered on the page, began `LEAD` seconds before
    the recording (the player's shift), and lasts as long as the recording from there."""
    interpreter = recording["interpreter"]
    assert interpreter == {"url": f"/recordings/{recording['id']}/files/interpreter/interpreter.mp4",
                           "shift": LEAD}
    response = await client.get(interpreter["url"])  # type: ignore[index]
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    page = (await client.get(f"/recordings/{recording['id']}")).text
    assert 'id="show-interpreter"' in page and f'data-pip-shift="{LEAD}"' in page
    folder = recording_dir(settings, int(recording["id"]))  # type: ignore[call-overload]
    with av.open(str(folder / "interpreter" / "interpreter.mp4")) as container:
        assert next(container.decode(video=0)).width == 320
        seconds = float(container.duration or 0) / av.time_base
    assert abs(seconds - (float(recording["duration"]) + LEAD)) < 0.5  # type: ignore[arg-type]


def test_the_interpreter_signs_while_someone_speaks() -> None:
    """The figure's hands move during a spoken cue and rest in the pauses between."""
    cues = [Cue(1.0, 3.0, "Debatt."), Cue(4.0, 6.0, "Votering.")]
    assert hands(cues, 0.5) == hands(cues, 3.5) == REST
    assert len({hands(cues, t / 10) for t in range(10, 30)}) > 10


async def test_a_demo_recording_made_before_its_polls_and_interpreter_gets_them(
    client: httpx.AsyncClient, recording: dict[str, object], settings: Settings,
    demo_media: Path,
) -> None:
    """A site whose demo recording was made before the debate's polls and interpreter were
    part of the demo gets them at the next load, the recording kept; so does one whose
    interpreter was killed half-written."""
    rid = recording["id"]
    folder = recording_dir(settings, int(rid)) / "interpreter"  # type: ignore[call-overload]
    shutil.rmtree(folder)
    folder.mkdir()
    (folder / ".interpreter.mp4").write_bytes(b"\0" * 100)  # what a killed run leaves
    engine = create_engine(settings.database_url)
    try:
        db = sessionmaker(engine)
        async with db() as session, session.begin():
            debate = await session.scalar(select(Event.id).where(Event.slug == DEMO_DEBATE))
            assert debate is not None
            await remove_recorded_polls(session, debate)
        made = await add_demo_content(DemoRun(settings, db, cache=demo_media))
    finally:
        await engine.dispose()
    assert made == {"recording's polls": f"/recordings/{rid}#polls-timeline-h",
                    "interpreter": f"/recordings/{rid}/files/interpreter/interpreter.mp4"}


async def test_a_second_load_reuses_everything(
    client: httpx.AsyncClient, settings: Settings, demo_media: Path
) -> None:
    """Loading again makes nothing (no second recording or report), and the cached media are
    not regenerated."""
    engine = create_engine(settings.database_url)
    try:
        assert await add_demo_content(DemoRun(settings, sessionmaker(engine), cache=demo_media)) == {}
    finally:
        await engine.dispose()
    before = {p: p.stat().st_mtime_ns for p in demo_media.rglob("*")}
    make_demo_media(demo_media, PARTS)
    assert {p: p.stat().st_mtime_ns for p in demo_media.rglob("*")} == before


async def test_a_deleted_demo_recording_is_made_again_without_doubled_questions(
    client: httpx.AsyncClient, recording: dict[str, object], settings: Settings,
    demo_media: Path,
) -> None:
    """After the organiser deletes the demo recording, the next load makes a new one, and the
    debate keeps one copy of each demo question and poll."""
    engine = create_engine(settings.database_url)
    try:
        db = sessionmaker(engine)
        await Archive(settings, db).delete(int(recording["id"]))  # type: ignore[call-overload]
        made = await add_demo_content(DemoRun(settings, db, cache=demo_media))
        assert list(made) == ["recording", "recording's polls", "interpreter"]
        async with db() as session:
            texts = list(await session.scalars(select(Question.text)))
            polls = list(await session.scalars(select(Poll.question).join(
                Event, Event.id == Poll.event_id).where(Event.slug == DEMO_DEBATE)))
    finally:
        await engine.dispose()
    assert sorted(texts) == sorted(q[-1] for q in QUESTIONS)
    assert sorted(polls) == sorted(p.question for p in RECORDED_POLLS)


async def test_transcript_is_searchable(
    client: httpx.AsyncClient, recording: dict[str, object]
) -> None:
    """The recording page lists the spoken text as a transcript whose search finds a line
    and links it to its moment; /archive finds the recording by a word only spoken."""
    rid = recording["id"]
    page = (await client.get(f"/recordings/{rid}", params={"tq": "EU-prosjekter"})).text
    assert 'id="transcript-h"' in page
    assert "delta i flere EU-prosjekter." in page and "1 linje inneholder «EU-prosjekter»" in page
    assert 'class="seek ds-link" href="?t=' in page
    found = (await client.get("/archive", params={"q": "eu-prosjekter"})).text
    assert f'href="/recordings/{rid}"' in found
