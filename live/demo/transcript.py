"""The demo recording's transcript: its captions are the spoken text, so they are also the
draft a speech recogniser would have made (`live.archive.transcripts`), stored the same way:
`captions/nb-auto.vtt`, a caption row, and the `transcript.json` state `done`. Nothing is
recognised, so `salen serve --demo` stays quick and needs no engine."""

from __future__ import annotations

import json
import shutil

from live.archive.service import CAPTIONS_DIR, Archive
from live.archive.transcripts import STATUS, draft_lang
from live.models import Recording
from live.models.recordings import RecordingCaption

LANGUAGE = "nb"


async def add_demo_transcript(archive: Archive, rid: int) -> None:
    """Give recording `rid` (with its `nb` captions in place) the draft transcript."""
    folder = archive.folder(rid)
    lang = draft_lang(LANGUAGE)
    shutil.copyfile(folder / CAPTIONS_DIR / f"{LANGUAGE}.vtt", folder / CAPTIONS_DIR / f"{lang}.vtt")
    async with archive.db() as session, session.begin():
        recording = await session.get(Recording, rid)
        assert recording is not None
        recording.captions.append(RecordingCaption(lang=lang, label=f"{LANGUAGE} (automatic draft)"))
    status = {"state": "done", "progress": 1.0, "error": "", "lang": lang}
    (folder / STATUS).write_text(json.dumps(status), encoding="utf-8")
