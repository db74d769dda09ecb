"""The demo: the seed events from shared/seeds as event documents, and a demo organiser."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from live.auth import hash_password
from live.docfile import read_event_file
from live.events import save_event
from live.models import Event, User

DEMO_DIR = Path(__file__).parent
DEMO_ORGANISER = ("organiser@salen.local", "salen-demo")


def demo_files() -> list[Path]:
    return sorted(DEMO_DIR.glob("*.yaml"))


async def load_demo(session: AsyncSession) -> list[str]:
    """Import every demo event that is not there yet; returns the slugs imported."""
    imported = []
    for path in demo_files():
        doc = read_event_file(path)
        exists = (await session.scalars(select(Event.id).where(Event.slug == doc.slug))).first()
        if exists is None:
            await save_event(session, doc, create=True)
            imported.append(doc.slug)
    email, password = DEMO_ORGANISER
    if (await session.scalars(select(User).where(User.email == email))).first() is None:
        session.add(User(email=email, name="Demo organiser", is_admin=True,
                         password_hash=hash_password(password)))
    return imported
