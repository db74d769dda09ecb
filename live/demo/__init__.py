"""The demo: the seed events from shared/seeds as event documents, and a demo organiser.

What the events show beyond their files (group work, a published report, a recording) is
made afterwards by `live.demo.content.add_demo_content`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from live.auth import hash_password
from live.events.document import EventDoc, read_event_file
from live.events.service import save_event
from live.models import Event, User
from live.organisations.service import ensure_registry

DEMO_DIR = Path(__file__).parent
DEMO_ORGANISER = ("organiser@salen.local", "salen-demo")
# The demo files' dates are as seen from this day. Loading moves them by whole weeks so
# they stand as far from today as they stood from this day (weekdays and times kept): the
# workshops stay ahead with registration open, the debate and the first gathering stay
# in the past.
DEMO_WRITTEN = dt.date(2026, 11, 23)
OSLO = ZoneInfo("Europe/Oslo")
T = TypeVar("T")


def demo_files() -> list[Path]:
    """The demo's event files."""
    return sorted(DEMO_DIR.glob("*.yaml"))


def demo_shift(today: dt.date | None = None) -> dt.timedelta:
    """How far the demo's dates move when loaded on `today` (default: today in Oslo)."""
    today = today or dt.datetime.now(OSLO).date()
    return dt.timedelta(weeks=max(0, (today - DEMO_WRITTEN).days // 7))


def shifted(value: T, delta: dt.timedelta) -> T:
    """`value` (an event document or any part of one) with every date and time moved by `delta`."""
    moved: Any = value
    if isinstance(value, dt.datetime):
        moved = value + delta
    elif isinstance(value, list):
        moved = [shifted(v, delta) for v in value]
    elif isinstance(value, msgspec.Struct):
        changes = {f: shifted(getattr(value, f), delta) for f in value.__struct_fields__}
        moved = msgspec.structs.replace(value, **changes)
    return moved  # type: ignore[no-any-return]


def demo_docs(today: dt.date | None = None) -> list[EventDoc]:
    """The demo events with their dates moved for `today`."""
    delta = demo_shift(today)
    return [shifted(read_event_file(path), delta) for path in demo_files()]


def is_demo_file(path: Path) -> bool:
    """Whether `path` is one of the demo's own event files (not a copy elsewhere)."""
    return path.resolve() in {f.resolve() for f in demo_files()}


async def load_demo(session: AsyncSession, today: dt.date | None = None) -> list[str]:
    """Import every demo event that is not there yet; returns the slugs imported.

    The registry of public bodies comes first when the database has none, so that the
    seed events' county quotas apply to what registrants type.
    """
    await ensure_registry(session)
    imported = []
    for doc in demo_docs(today):
        exists = (await session.scalars(select(Event.id).where(Event.slug == doc.slug))).first()
        if exists is None:
            await save_event(session, doc, create=True)
            imported.append(doc.slug)
    email, password = DEMO_ORGANISER
    if (await session.scalars(select(User).where(User.email == email))).first() is None:
        session.add(User(email=email, name="Demoarrangør", is_admin=True,
                         password_hash=hash_password(password)))
    return imported

