"""Reports of the group work: per theme, every room's input, as Markdown, CSV or a page."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.errors import NotFound
from live.models import Theme
from live.models.rooms import BreakoutRoom, GroupSession, RoomMember, RoomNote

Gettext = Callable[[str], str]


def _same(text: str) -> str:
    return text


@dataclasses.dataclass(frozen=True)
class SectionReport:
    """One section of one room: its title and items in order."""

    key: str
    title: str
    items: list[str]


@dataclasses.dataclass(frozen=True)
class RoomReport:
    """One room's input."""

    id: int
    name: str
    location: str
    online: bool
    members: int
    sections: list[SectionReport]


@dataclasses.dataclass(frozen=True)
class ThemeReport:
    """Every room of one theme (theme None: rooms without a theme)."""

    theme_id: int | None
    slug: str
    title: str
    brief: str
    rooms: list[RoomReport]

    @property
    def items(self) -> int:
        """How many items the theme's rooms produced."""
        return sum(len(s.items) for r in self.rooms for s in r.sections)


async def build(db: async_sessionmaker[AsyncSession], event_id: int) -> list[ThemeReport]:
    """The reports of an event's group work, one per theme in programme order."""
    async with db() as session:
        group = await session.scalar(select(GroupSession).where(GroupSession.event_id == event_id))
        if group is None:
            raise NotFound("This event has no group work.", code="rooms.no_session")
        themes = list(await session.scalars(
            select(Theme).where(Theme.event_id == event_id).order_by(Theme.position)))
        rooms = list(await session.scalars(select(BreakoutRoom).where(
            BreakoutRoom.session_id == group.id).order_by(BreakoutRoom.position)))
        notes = list(await session.scalars(
            select(RoomNote).join(BreakoutRoom, BreakoutRoom.id == RoomNote.room_id)
            .where(BreakoutRoom.session_id == group.id, RoomNote.deleted.is_(False))
            .order_by(RoomNote.position, RoomNote.id)))
        members = list(await session.scalars(select(RoomMember.room_id).where(
            RoomMember.session_id == group.id)))
    room_reports = {room.id: _room_report(room, group.sections, notes, members) for room in rooms}
    reports = []
    for theme_id, slug, title, brief in [(t.id, t.slug, t.title, t.brief) for t in themes] + [
            (None, "other", "", "")]:
        own = [room_reports[r.id] for r in rooms if r.theme_id == theme_id]
        if own or theme_id is not None:
            reports.append(ThemeReport(theme_id, slug, title, brief, own))
    return reports


def _room_report(room: BreakoutRoom, sections: list[dict[str, str]], notes: list[RoomNote],
                 members: list[int]) -> RoomReport:
    mine = [n for n in notes if n.room_id == room.id]
    known = {s["key"] for s in sections}
    # input under a section the organiser has since removed is still the room's input
    gone = list(dict.fromkeys(n.section for n in mine if n.section not in known))
    return RoomReport(
        id=room.id, name=room.name, location=room.location, online=room.online,
        members=members.count(room.id),
        sections=[SectionReport(s["key"], s["title"],
                                [n.text for n in mine if n.section == s["key"]])
                  for s in [*sections, *({"key": k, "title": k} for k in gone)]])


def _place(room: RoomReport, _: Gettext) -> str:
    return _("Online") if room.online else (room.location or _("In the venue"))


def markdown(report: ThemeReport, _: Gettext = _same) -> str:
    """The theme's input as Markdown: a heading per room and per section, items as a list.

    Every text people typed is escaped (`md_text`): what they wrote shows as written, and a
    renderer of the file meets no HTML, links or emphasis of theirs.
    """
    lines = [f"# {md_text(report.title or _('Group work'))}", ""]
    if report.brief:
        lines += [f"> {md_text(report.brief)}", ""]
    for room in report.rooms:
        lines += [f"## {md_text(room.name)} ({md_text(_place(room, _))})", ""]
        for section in room.sections:
            lines += [f"### {md_text(_(section.title))}", ""]
            lines += [f"- {md_text(item)}" for item in section.items] or [f"_{_('No input.')}_"]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# CommonMark's backslash escapes make each of these a literal character, and `<` and `>`
# become entities: no tag, entity, link, image, emphasis, code span, table cell or heading
# can start from the user's text, and the file holds no raw HTML of theirs.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]!|&#~])")
_MD_ANGLES = str.maketrans({"<": "&lt;", ">": "&gt;"})


def md_text(text: str) -> str:
    """`text` for Markdown: specials escaped, continuation lines indented under the item."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text).translate(_MD_ANGLES)
    return escaped.replace("\r\n", "\n").replace("\n", "\n  ")


def csv_text(report: ThemeReport, _: Gettext = _same) -> str:
    """The theme's input as CSV: one row per item (theme, room, place, section, text)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Theme"), _("Room"), _("Place"), _("Section"), _("Input")])
    for room in report.rooms:
        for section in room.sections:
            for item in section.items:
                writer.writerow([report.title, room.name, _place(room, _), _(section.title),
                                 _csv_safe(item)])
    return out.getvalue()


def _csv_safe(text: str) -> str:
    # Spreadsheets run cells starting with these as formulas.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
