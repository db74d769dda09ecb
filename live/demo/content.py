"""Everything the demo shows beyond its event files, made after the events are saved.

`salen serve --demo` (after `load_demo`) and `salen event import` of a demo file both call
`add_demo_content`, so either gives the same demo. Each demo event with more to show has its
steps in `STEPS`: the upcoming workshop's group work (closed, for visitors to try) and its
polls (one prepared, one finished with results), the first gathering's finished group work
with its published report, the past debate's recording with the polls run during it (on the
recording's timeline) and its sign-language interpreter's video, the streamed seminar's
captioner link. A step returns what it made (an address) or None when its content was there
already, and makes again what an interrupted run left half-made; a
step that only points at something (the captioner link) returns it as `Shown`, printed on
every run and not counted as made. What later capabilities add (polls, live
captions, interpreter video) gets its demo content as one more step here, so the demo stays
a tour of everything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.archive.service import Archive
from live.demo.captions import DEMO_CAPTIONS_EVENT, demo_captioner_link
from live.demo.groupwork import FIRST_GATHERING, WORKSHOP, finish_first_gathering, set_up_workshop
from live.demo.interpreter import add_demo_interpreter
from live.demo.media import Progress, SpeechUnavailable
from live.demo.polls import add_demo_polls
from live.demo.recording import DEMO_DEBATE, add_recording_polls, load_demo_recording
from live.settings import Settings


@dataclasses.dataclass(frozen=True)
class DemoRun:
    """What the steps work with; `cache` holds the generated media (default: the recordings
    folder's `demo/`), `progress` gets (step, fraction) while the recording is made."""

    settings: Settings
    db: async_sessionmaker[AsyncSession]
    cache: Path | None = None
    progress: Progress | None = None


class Shown(str):
    """A step's address of something that was there already: told, not made."""

    __slots__ = ()


Step = Callable[[DemoRun], Awaitable[str | None]]


async def _workshop(run: DemoRun) -> str | None:
    return await set_up_workshop(run.db)


async def _report(run: DemoRun) -> str | None:
    return await finish_first_gathering(run.db)


async def _recording(run: DemoRun) -> str | None:
    try:
        made = await load_demo_recording(run.settings, run.db, cache=run.cache,
                                         progress=run.progress)
    except SpeechUnavailable as exc:
        return f"skipped: {exc}"
    return None if made is None else f"/recordings/{made}"


async def _polls(run: DemoRun) -> str | None:
    return await add_demo_polls(run.db)


async def _recording_polls(run: DemoRun) -> str | None:
    rid = await add_recording_polls(run.db)
    return None if rid is None else f"/recordings/{rid}#polls-timeline-h"


async def _interpreter(run: DemoRun) -> str | None:
    rid = await add_demo_interpreter(Archive(run.settings, run.db))
    return None if rid is None else f"/recordings/{rid}/files/interpreter/interpreter.mp4"


async def _captioner(run: DemoRun) -> str | None:
    async with run.db() as session:
        link = await demo_captioner_link(session, run.settings.mail_base_url)
    return None if link is None else Shown(link)


STEPS: dict[str, list[tuple[str, Step]]] = {
    WORKSHOP: [("group work", _workshop), ("polls", _polls)],
    FIRST_GATHERING: [("group-work report", _report)],
    DEMO_DEBATE: [("recording", _recording), ("recording's polls", _recording_polls),
                  ("interpreter", _interpreter)],
    DEMO_CAPTIONS_EVENT: [("captioner link", _captioner)],
}


async def add_demo_content(
    run: DemoRun,
    slugs: Iterable[str] | None = None,
    say: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Make what the demo events `slugs` (default: all) still lack; returns what was made, by
    step name. `say` gets a line as each step ends (the CLI prints them)."""
    made: dict[str, str] = {}
    for slug in STEPS if slugs is None else slugs:
        for name, step in STEPS.get(slug, []):
            result = await step(run)
            if result is not None and not isinstance(result, Shown):
                made[name] = result
            if say:
                say(f"demo {name}: {result or 'already there'}")
    return made
