"""The registration page tests' event, "fagdag": three dates in three towns, themes and a quota.

`fagdag_doc` places the dates relative to now (one with its deadline passed, one with a
single place); `add_event` stores it with a known county (`COUNTY`) in the app's database.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from live.db import create_engine, sessionmaker
from live.events.document import EventDoc, OccurrenceDoc, QuestionDoc, QuotaDoc, ThemeDoc
from live.events.service import save_event
from live.models import Organisation, OrganisationKind, normalise_name
from live.settings import Settings

SLUG = "fagdag"
OSLO = ZoneInfo("Europe/Oslo")
COUNTY = "Innlandet fylkeskommune"


def fagdag_doc(now: dt.datetime | None = None) -> EventDoc:
    """An event in local time relative to now: Hamar (1 place, online too), Lillehammer
    (deadline passed), Gjøvik (10 places); two themes, a county quota of 4, one question."""
    now = (now or dt.datetime.now(OSLO)).replace(tzinfo=None, second=0, microsecond=0)
    day = now.replace(hour=9, minute=0)

    def occurrence(
        slug: str, city: str, days: int, deadline: int, **extra: object
    ) -> OccurrenceDoc:
        start = day + dt.timedelta(days=days)
        return OccurrenceDoc(
            slug=slug,
            city=city,
            starts=start,
            ends=start + dt.timedelta(hours=6),
            registration_deadline=now + dt.timedelta(days=deadline),
            **extra,
        )  # type: ignore[arg-type]

    return EventDoc(
        slug=SLUG,
        title="Fagdag",
        occurrences=[
            occurrence(
                "hamar",
                "Hamar",
                30,
                20,
                capacity_in_person=1,
                online=True,
                serves_food=True,
                venue="Scandic",
            ),
            occurrence("lillehammer", "Lillehammer", 40, -1, capacity_in_person=50),
            occurrence("gjovik", "Gjøvik", 50, 40, capacity_in_person=10, serves_food=True),
        ],
        themes=[
            ThemeDoc(slug="tema-a", title="Tema A", brief="Om bærekraft"),
            ThemeDoc(slug="tema-b", title="Tema B"),
        ],
        quotas=[QuotaDoc(limit=4, organisation_kind=OrganisationKind.COUNTY)],
        questions=[QuestionDoc(key="allergy", label="Allergies")],
    )


async def add_event(settings: Settings) -> None:
    """Store the test event and a known county in the app's database (the demo's
    participants may have brought the organisation already: it is made a county)."""
    engine = create_engine(settings.database_url)
    try:
        async with sessionmaker(engine)() as session, session.begin():
            await save_event(session, fagdag_doc(), create=True)
            county = await session.scalar(
                select(Organisation).where(Organisation.key == normalise_name(COUNTY)))
            if county is None:
                county = Organisation(name=COUNTY, key=normalise_name(COUNTY))
                session.add(county)
            county.kind = OrganisationKind.COUNTY
    finally:
        await engine.dispose()
