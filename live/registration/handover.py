"""Hand a place to a colleague through the personal link, without the place ever being free.

When an organisation's quota is used up ("one per county, coordinate"), a holder who cannot
come passes the place on instead of cancelling: the registration keeps its status, date,
waitlist position and organisation (so it still counts once for the quota), and takes the
colleague's name and e-mail address. The holder's diet and answers are theirs and are
cleared (the colleague sets the diet on their own page). The personal link changes (the old
one stops working) and the confirmation goes to the colleague. Under the event's write lock, like every write
(`service`): the place is never released in between, so nobody else can take it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.models.registration import Registration, Status, new_manage_token
from live.registration import rules
from live.registration.service import (
    After,
    Outcome,
    _finish,
    _lock_registration,
    receipt,
    write_transaction,
)


@dataclass(frozen=True)
class Colleague:
    """Who takes the place over (checked by `validate.parse_colleague`)."""

    name: str
    email: str


async def hand_over(
    db: async_sessionmaker[AsyncSession], token: str, colleague: Colleague,
    *, after: After | None = None,
) -> Outcome:
    """Give the registration behind `token` to `colleague`; the receipt carries the new link."""
    async with write_transaction(db) as session:
        event, registration = await _lock_registration(session, token)
        taken = await session.scalar(select(Registration.id).where(
            Registration.event_id == event.id, Registration.email == colleague.email,
            Registration.status != Status.CANCELLED, Registration.id != registration.id))
        if taken is not None:
            raise rules.DuplicateRegistration()
        registration.name = colleague.name
        registration.email = colleague.email
        registration.token = new_manage_token()
        registration.answers = {}
        registration.diet = ""
        await session.flush()
        return await _finish(session, Outcome(await receipt(session, registration)), after)
