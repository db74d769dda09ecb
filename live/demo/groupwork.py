"""The demo's group work: the upcoming workshop's set-up, and a finished one with its report.

The upcoming workshop (`verksted-regional-utvikling`) gets its group work set up and closed,
so a visitor can register, be placed and try the rooms. Its first gathering
(`regional-utvikling-samling-1`, in the past) is played through as a real one is, by
`RoomsService` and the registration service: twenty people register (with their theme, in the
room or online), the rooms are planned, opened, every group writes its challenges, proposals
and a summary, everyone returns to the plenary, and the report is published on the event
page. Nothing is pushed to anyone: the hub is a private in-memory one.

The report is published last, so a finished group work is one whose report is published;
one that is not (a run killed half-way) is removed with its people and played again.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.errors import NotFound
from live.events.service import find_event
from live.hub import open_hub
from live.models import GroupSession, ItemKind, ProgrammeItem
from live.models.registration import Attendance, Registration
from live.registration.service import register
from live.registration.validate import Submission
from live.rooms.domain import Placement
from live.rooms.service import RoomsService, Who

WORKSHOP = "verksted-regional-utvikling"
FIRST_GATHERING = "regional-utvikling-samling-1"
# Group work set up for the upcoming workshop (two themes, groups from 10:30), not opened.
WORKSHOP_GROUP_WORK: dict[str, Any] = {
    "placement": "theme",
    "room_size": 6,
    "sections": [{"key": "utfordringer", "title": "Utfordringer"},
                 {"key": "forslag", "title": "Forslag til tiltak"}],
    "venue_rooms": ["Sal A", "Sal B", "Grupperom 1", "Grupperom 2"],
}
SECTIONS = [{"key": "utfordringer", "title": "Utfordringer"},
            {"key": "forslag", "title": "Forslag til tiltak"},
            {"key": "oppsummering", "title": "Oppsummering fra gruppa"}]
VENUE_ROOMS = ["Sal A", "Sal B", "Grupperom 1"]
ROOM_SIZE = 5


@dataclasses.dataclass(frozen=True)
class Person:
    name: str
    county: str
    job_title: str
    theme: str
    online: bool = False

    @property
    def email(self) -> str:
        plain = self.name.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
        domain = self.county.lower().replace(" og ", "og").replace(" ", "")
        return f"{'.'.join(plain.split())}@{domain}.no"


PEOPLE = [
    Person("Kjersti Løvås", "Innlandet", "rådgiver", "baerekraft"),
    Person("Håkon Bjørnstad", "Vestland", "seniorrådgiver", "baerekraft"),
    Person("Ingrid Sæther", "Trøndelag", "spesialrådgiver", "baerekraft"),
    Person("Øystein Fjærli", "Nordland", "avdelingsleder", "baerekraft"),
    Person("Åse Mørk", "Agder", "arealplanlegger", "baerekraft"),
    Person("Bjørn Ødegård", "Rogaland", "rådgiver", "baerekraft"),
    Person("Marit Hølaas", "Møre og Romsdal", "seniorrådgiver", "baerekraft"),
    Person("Siri Åsheim", "Troms", "rådgiver", "baerekraft", online=True),
    Person("Jørgen Næss", "Finnmark", "seksjonsleder", "baerekraft", online=True),
    Person("Solveig Brænd", "Telemark", "rådgiver", "baerekraft", online=True),
    Person("Per Kåre Sønstebø", "Vestfold", "plansjef", "baerekraft", online=True),
    Person("Ragnhild Østby", "Innlandet", "kompetanserådgiver", "kompetanse"),
    Person("Tor Søreide", "Vestland", "seniorrådgiver", "kompetanse"),
    Person("Line Haugsjø", "Akershus", "rådgiver", "kompetanse"),
    Person("Eirik Grønås", "Buskerud", "utviklingssjef", "kompetanse"),
    Person("Hanne Skjærvø", "Østfold", "rådgiver", "kompetanse"),
    Person("Nils Åge Bråten", "Nordland", "rådgiver", "kompetanse", online=True),
    Person("Guro Tveråen", "Trøndelag", "seniorrådgiver", "kompetanse", online=True),
    Person("Sunniva Kråkenes", "Troms", "næringsrådgiver", "kompetanse", online=True),
    Person("Stian Møllerud", "Agder", "rådgiver", "kompetanse", online=True),
]
# Each room's input in the planned order (per theme: the online room, then those in the
# venue): (challenges, proposals, summary).
NOTES: list[tuple[list[str], list[str], str]] = [
    (["Bærekraftsmålene blir ofte pynt i planene, uten konkrete mål for fylket.",
      "Små kommuner har ikke kapasitet til å følge opp 17 mål og 169 delmål.",
      "Sosial bærekraft er vanskelig å måle med tallene vi har i dag."],
     ["Velge ut fem–seks delmål som passer fylket, og bruke dem i alle regionale planer.",
      "Et felles sett med indikatorer for fylkeskommunene, gjerne sammen med SSB og KS."],
     ("Bærekraftsmålene må brytes ned til noen få, målbare mål for fylket, og kommunene "
     "trenger hjelp til å følge dem opp.")),
    (["Målene kolliderer: nye hyttefelt gir arbeidsplasser, men bygger ned natur.",
      "Næringslivet ser ikke alltid nytten av bærekraftsarbeidet."],
     ["Arealregnskap i alle kommuneplaner, med fylkeskommunen som veileder.",
      "Regionale partnerskap der næringslivet er med fra starten.",
      "Bruke offentlige innkjøp til å få fram grønne løsninger."],
     ("Arealbruken er der målene oftest kolliderer. Gruppa foreslår arealregnskap og tettere "
     "partnerskap med næringslivet.")),
    (["Ungdom flytter ut og er sjelden med i planarbeidet.",
      "Klimatilpasning koster, og pengene finnes ikke i kommunebudsjettene."],
     ["Et ungdomspanel i fylkeskommunen som uttaler seg om regionale planer.",
      "Søke EU-midler sammen med nabofylkene, for eksempel gjennom Interreg."],
     ("Skal bærekraftsmålene bety noe, må de unge få medvirke, og fylkene bør samarbeide om "
     "finansieringen.")),
    (["Bedrifter i distriktene finner ikke fagarbeidere, særlig innen helse og bygg.",
      "Lang reisevei til høyere utdanning gjør at mange lar være å ta videreutdanning."],
     ["Desentraliserte studietilbud sammen med høgskolene og studiesentrene.",
      "Et kompetanseforum i hver region der kommuner, næringsliv og skoler møtes."],
     ("Utdanningen må komme til folk der de bor, og aktørene bør samles i regionale "
     "kompetanseforum.")),
    (["Fagskoletilbudet passer ikke alltid med det næringslivet etterspør.",
      "Kommunene konkurrerer om de samme ingeniørene og planleggerne."],
     ["Et lærlingløfte: fylkeskommunen og store bedrifter tar inn flere lærlinger sammen.",
      "Delte stillinger mellom kommuner for spisskompetanse, for eksempel innen plan og jus.",
      "Kartlegge kompetansebehovet hvert år."],
     ("Kommuner og fylke bør samarbeide mer enn de konkurrerer: dele fagfolk, ta inn "
     "lærlinger og kartlegge behovene jevnlig.")),
]


async def _group_work_item(session: AsyncSession, event_id: int) -> int | None:
    item: int | None = await session.scalar(
        select(ProgrammeItem.id).where(ProgrammeItem.kind == ItemKind.GROUP_WORK,
                                       ProgrammeItem.block.has(event_id=event_id))
        .order_by(ProgrammeItem.starts_at))
    return item


async def set_up_workshop(db: async_sessionmaker[AsyncSession]) -> str | None:
    """The upcoming workshop's group work, closed and without rooms, unless it has one."""
    async with db() as session, session.begin():
        try:
            event = await find_event(session, WORKSHOP)
        except NotFound:
            return None
        if await session.scalar(select(GroupSession.id).where(GroupSession.event_id == event.id)):
            return None
        item = await _group_work_item(session, event.id)
        session.add(GroupSession(event_id=event.id, item_id=item, state="closed", v=0,
                                 **WORKSHOP_GROUP_WORK))
    return f"/admin/group-work/{WORKSHOP}"


async def finish_first_gathering(db: async_sessionmaker[AsyncSession]) -> str | None:
    """The first gathering's group work played through and its report published; returns the
    report's address, or None when it was there already (or the event is gone)."""
    async with db() as session, session.begin():
        try:
            event = await find_event(session, FIRST_GATHERING)
        except NotFound:
            return None
        group = await session.scalar(select(GroupSession).where(GroupSession.event_id == event.id))
        if group is not None and group.report_published:
            return None
        # Left half-made by an interrupted run: start again from nothing.
        await session.execute(delete(GroupSession).where(GroupSession.event_id == event.id))
        await session.execute(delete(Registration).where(
            Registration.event_id == event.id, Registration.email.in_([p.email for p in PEOPLE])))
        event_id, item = event.id, await _group_work_item(session, event.id)
    async with open_hub("memory://") as hub:
        service = RoomsService(db, hub)
        await service.configure(event_id, placement=Placement.THEME, room_size=ROOM_SIZE,
                                sections=SECTIONS, venue_rooms=VENUE_ROOMS, item_id=item)
        for person in PEOPLE:
            await register(db, FIRST_GATHERING, Submission(
                occurrence="oslo", name=person.name, email=person.email,
                attendance=Attendance.ONLINE if person.online else Attendance.IN_PERSON,
                organisation=f"{person.county} fylkeskommune", job_title=person.job_title,
                theme=person.theme), by_organiser=True)
        await service.plan_rooms(event_id)
        await service.open(event_id)
        await _write_notes(service, event_id)
        await service.return_to_plenary(event_id)
        await service.set_published(event_id, True)
    return f"/e/{FIRST_GATHERING}/group-work/report"


async def _write_notes(service: RoomsService, event_id: int) -> None:
    """Each room's members write its input, taking turns."""
    for room, (challenges, proposals, summary) in zip(
            await service.rooms(event_id), NOTES, strict=False):
        writers = [Who(m.participant, m.name) for m in room.members] or [Who("demo")]
        entries = [("utfordringer", t) for t in challenges] + [
            ("forslag", t) for t in proposals] + [("oppsummering", summary)]
        for n, (section, text) in enumerate(entries):
            await service.add_note(event_id, writers[n % len(writers)], room.id, section, text)

