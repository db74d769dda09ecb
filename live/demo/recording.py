"""The past demo debate's published recording: generated media, packaged like any import.

`load_demo_recording` makes the media (`live.demo.media`, cached in the recordings folder),
imports it through `Archive.import_file` (probe, MP4 with chapters, VOD HLS), sets one
chapter per programme item, stores the spoken text as the Norwegian captions, attaches a
slide PDF to the first item, adds a few questions asked, approved and answered at their
moments (the recording page's Q&A timeline), and publishes it. Steps of their own, after
this one, add the polls run during the debate at their moments (`add_recording_polls`) and
the sign-language interpreter's video (`live.demo.interpreter`).

A marker file (`COMPLETE`) is written into the recording's folder last. A demo recording
without it was left half-made by an interrupted run (a row still processing, missing
files, no questions): it is removed, with its questions and polls, and made again. A
complete one is kept, so a second start does nothing; so is a debate with a recording of
the organiser's own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import shutil
import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.archive.chapters import programme_start, timed_items
from live.archive.service import ATTACHMENTS_DIR, CAPTIONS_DIR, Archive
from live.demo.media import DemoMedia, Part, Progress, make_demo_media
from live.demo.polls import add_recorded_polls, has_recorded_polls, remove_recorded_polls
from live.demo.transcript import add_demo_transcript
from live.errors import NotFound
from live.events.service import load_event
from live.models import Event, Recording, RecordingState
from live.models.qa import Question
from live.models.recordings import RecordingAttachment, RecordingCaption
from live.settings import Settings

log = logging.getLogger(__name__)

DEMO_DEBATE = "fylkestinget-internasjonal-plan"
CACHE_DIR = "demo"  # under the recordings folder
SOURCE = "demo"  # the recordings' `source`
COMPLETE = ".demo-complete"  # in the recording's folder, written last
QUESTION_PREFIX = "demo-"  # the questions' `participant`
SLIDES_TITLE = "Lysark: internasjonal mål- og handlingsplan"
PARTS = [
    Part(
        item="Innledning ved fylkeskommunedirektøren",
        speaker="Fylkeskommunedirektøren",
        colour=(31, 84, 140),
        lines=(
            "Innledning ved fylkeskommunedirektøren.",
            "Innlandet fylkeskommune skal være en synlig internasjonal aktør.",
            ("Planen har seks delmål, fra kultur og samferdsel til næring og internasjonalt "
            "samarbeid."),
            "Målet er å nå satsingsområdene i Innlandsstrategien.",
            "Vi vil styrke samarbeidet med regioner i Europa og delta i flere EU-prosjekter.",
            "Fylkeskommunen skal også hjelpe kommuner og bedrifter som vil ut i verden.",
            ("Innenfor kultur vil vi gi kunstnere fra Innlandet flere muligheter til å vise "
            "seg fram i utlandet."),
            "På samferdsel er det viktigste å få bedre forbindelser over grensen mot Sverige.",
            "Eiendom handler om at fylkeskommunens bygg skal være gode og energieffektive.",
            ("Innen kompetanse skal flere elever og lærlinger få ta en del av utdanningen i "
            "et annet land."),
            "Tannhelsetjenesten deltar i nordisk samarbeid om forebygging.",
            "Næringslivet skal få hjelp til å finne partnere og markeder i Europa.",
            "Planen følges opp med en årlig handlingsplan og en rapport til fylkestinget.",
        ),
    ),
    Part(
        item="Debatt",
        speaker="Fylkestingets representanter",
        colour=(140, 62, 31),
        lines=(
            "Debatt.",
            "Flere representanter ønsker et tettere samarbeid med nabolandene.",
            "Andre spør hvordan planen skal måles og følges opp.",
            "Kompetanse og tannhelse får også plass i ordskiftet.",
            "En representant minner om at samferdsel over grensen til Sverige er viktig.",
            "En annen mener at planen må gi mer til kommunene i distriktene.",
            "Det blir spurt om hvor mye planen koster, og hvem som skal betale.",
            "Flere trekker fram at unge i Innlandet bør få reise ut og lære.",
            "En representant vil at fylket skal søke mer penger fra Interreg-programmene.",
            "Andre advarer mot å bruke for mye tid på reiser og møter i utlandet.",
            "Næringslivets behov for arbeidskraft fra andre land blir også nevnt.",
            "Det kommer et forslag om en egen sak om samarbeidet med Sverige.",
            "Fylkeskommunedirektøren svarer på spørsmålene fra salen og fra nett.",
            "Planen gir rom for både kommunene og næringslivet, svarer direktøren.",
        ),
    ),
    Part(
        item="Votering",
        speaker="Fylkesordføreren",
        colour=(40, 110, 70),
        lines=(
            "Votering.",
            "Fylkesordføreren leser opp forslaget til vedtak.",
            ("Fylkestinget vedtar internasjonal mål- og handlingsplan for perioden "
            "2021 til 2024."),
            "Forslaget om en egen sak om samarbeidet med Sverige sendes til direktøren.",
            "Vedtaket er enstemmig.",
            "Takk for i dag.",
        ),
    ),
]
# (part, then seconds into that part: asked, approved, answered or None; name, organisation, text)
QUESTIONS = [
    (0, 8.0, 10.0, 20.0, "Ingrid", "Hamar kommune",
     "Hvordan henger planen sammen med Innlandsstrategien?"),
    # Answered when the director answers the debate (the part's last two sentences).
    (1, 8.0, 10.0, 57.0, "", "", "Hvilke land blir viktigst å samarbeide med?"),
    (1, 18.0, 21.0, 62.0, "Ola", "Næringsforeningen",
     "Hva betyr planen for små bedrifter som vil eksportere?"),
    (1, 30.0, 33.0, None, "Sara", "", "Blir resultatene lagt fram for fylkestinget hvert år?"),
]


async def load_demo_recording(
    settings: Settings,
    db: async_sessionmaker[AsyncSession],
    *,
    cache: Path | None = None,
    progress: Progress | None = None,
) -> int | None:
    """Give the demo debate its published recording unless it has one; returns its id if made."""
    archive = Archive(settings, db)
    async with db() as session:
        try:
            event = await load_event(session, DEMO_DEBATE)
        except NotFound:  # the demo debate was deleted: nothing to record
            return None
        rows = (await session.execute(select(Recording.id, Recording.source).where(
            Recording.event_id == event.id))).all()
        started = programme_start(event)
        items = {t.item.title: t.item.id for t in timed_items(event)}
    if any(source != SOURCE or (archive.folder(rid) / COMPLETE).exists() for rid, source in rows):
        return None
    for rid, _ in rows:
        log.warning("demo recording %s was left unfinished; making it again", rid)
    await _discard(archive, [rid for rid, _ in rows], event.id)
    media = await asyncio.to_thread(
        make_demo_media, cache or Path(settings.recordings_dir) / CACHE_DIR, PARTS, progress
    )
    report = (lambda value: progress("packaging", value)) if progress else None
    rid = await archive.import_file(
        DEMO_DEBATE, media.source, started_at=started, source=SOURCE, wait=True, progress=report
    )
    chapters = [{"title": title, "start": start, "item": items.get(title)}
                for title, start in media.chapters]
    await archive.set_chapters(rid, chapters)
    await archive.wait_idle()
    await _extras(archive, rid, media, [items.get(p.item) for p in PARTS])
    await add_demo_transcript(archive, rid)
    await archive.set_published(rid, True)
    (archive.folder(rid) / COMPLETE).write_text("", encoding="utf-8")
    return rid


async def find_demo_recording(session: AsyncSession) -> Recording | None:
    """The demo debate's published demo recording, if there is one."""
    recording: Recording | None = await session.scalar(select(Recording).join(Event).where(
        Event.slug == DEMO_DEBATE, Recording.source == SOURCE,
        Recording.state == RecordingState.PUBLISHED))
    return recording


async def add_recording_polls(db: async_sessionmaker[AsyncSession]) -> int | None:
    """Give the debate the polls it ran (`live.demo.polls.RECORDED_POLLS`) at their moments
    in its complete demo recording, unless it has them; returns the recording's id if added."""
    async with db() as session, session.begin():
        recording = await find_demo_recording(session)
        if recording is None or recording.started_at is None:
            return None
        if await has_recorded_polls(session, recording.event_id):
            return None
        origin = recording.started_at + dt.timedelta(seconds=recording.cut_start)
        parts = [(origin + dt.timedelta(seconds=float(c["start"])), c.get("item"))
                 for c in recording.chapters]
        await add_recorded_polls(session, recording.event_id, parts)
        return recording.id


async def _discard(archive: Archive, rids: list[int], event_id: int) -> None:
    """Remove half-made demo recordings (rows and files) and every question and poll the demo
    added."""
    async with archive.db() as session, session.begin():
        await session.execute(delete(Question).where(
            Question.event_id == event_id, Question.participant.startswith(QUESTION_PREFIX)))
        await remove_recorded_polls(session, event_id)
        await session.execute(delete(Recording).where(Recording.id.in_(rids)))
    for rid in rids:
        await asyncio.to_thread(shutil.rmtree, archive.folder(rid), True)


async def _extras(
    archive: Archive, rid: int, media: DemoMedia, items: list[int | None]
) -> None:
    """The captions, the slides on the first item, and the questions."""
    folder = archive.folder(rid)
    (folder / CAPTIONS_DIR).mkdir(parents=True, exist_ok=True)
    (folder / CAPTIONS_DIR / "nb.vtt").write_bytes(media.captions.read_bytes())
    async with archive.db() as session, session.begin():
        recording = await session.get(Recording, rid)
        assert recording is not None and recording.started_at is not None
        recording.captions.append(RecordingCaption(lang="nb", label="Norsk"))
        attachment = RecordingAttachment(
            recording_id=rid, item_id=items[0], title=SLIDES_TITLE, filename="lysark.pdf",
            size=media.slides.stat().st_size,
        )
        session.add(attachment)
        await session.flush()
        (folder / ATTACHMENTS_DIR).mkdir(parents=True, exist_ok=True)
        (folder / ATTACHMENTS_DIR / f"{attachment.id}.pdf").write_bytes(media.slides.read_bytes())
        origin = recording.started_at + dt.timedelta(seconds=recording.cut_start)
        for n, (part, asked, approved, answered, name, org, text) in enumerate(QUESTIONS):
            at = origin + dt.timedelta(seconds=media.chapters[part][1])
            session.add(Question(
                event_id=recording.event_id, item_id=items[part], participant=f"{QUESTION_PREFIX}{n}",
                name=name, organisation=org, text=text,
                status="answered" if answered is not None else "approved",
                asked_at=at + dt.timedelta(seconds=asked),
                approved_at=at + dt.timedelta(seconds=approved),
                answered_at=at + dt.timedelta(seconds=answered) if answered is not None else None,
            ))


class StepBars:
    """Progress on stderr, one bar per step (speech, video, packaging)."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        from live.archive.cli import ProgressBar

        self.stream, self.bar_type = stream, ProgressBar
        self.step = ""
        self.bar: ProgressBar | None = None

    def __call__(self, step: str, fraction: float) -> None:
        if step != self.step:
            self.done()
            self.step, self.bar = step, self.bar_type(self.stream, f"demo recording: {step:<9}")
        assert self.bar is not None
        self.bar(fraction)

    def done(self) -> None:
        if self.bar is not None:
            self.bar(1.0)
            self.bar.done()
            self.bar = None
