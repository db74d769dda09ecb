"""The demo's captioner link: the streamed demo seminar, ready for a skrivetolk to try."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from live.models import Event

# The demo event streamed on its page (seed 001), where captions show over the player.
DEMO_CAPTIONS_EVENT = "planstrategi-4-0"


async def demo_captioner_link(session: AsyncSession, base_url: str) -> str | None:
    """The captioner link of the demo's streamed seminar, or None when it is not loaded."""
    key = await session.scalar(
        select(Event.captions_token).where(Event.slug == DEMO_CAPTIONS_EVENT))
    if key is None:
        return None
    return f"{base_url.rstrip('/')}/e/{DEMO_CAPTIONS_EVENT}/captions?key={key}"
