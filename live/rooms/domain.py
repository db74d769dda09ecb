"""Group-work rules without I/O: splitting themes into rooms, placing people, joins, notes, timer.

    closed --rooms.open--> open --rooms.return--> returned --rooms.open--> open ...

Placement modes:
- `free`: rooms are planned from the registrations' theme choices, nobody is placed; each
  participant joins any open room that has space.
- `theme`: everyone goes to a room of their registration's theme (or the least-filled theme).
- `organisation` / `region`: as `theme`, but people of one organisation (region) are kept
  together in the same room as far as room sizes allow.
- `balanced`: themes get equal numbers; choices are honoured until a theme is full, and
  organisations are spread across the rooms of a theme.
In every mode but `free` the placement is fixed: a participant may only move to another room
of their own theme. Online and in-person people never share a room.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from live.errors import Conflict, Forbidden, Invalid

NOTE_MAX_CHARS = 2000
NOTES_PER_ROOM = 300
BROADCAST_MAX_CHARS = 500
TIMER_MAX_MINUTES = 600
ROOM_SIZE_MAX = 50
DEFAULT_SECTIONS = ({"key": "challenges", "title": "Challenges"},
                    {"key": "proposals", "title": "Proposals"})


class State(enum.StrEnum):
    """Where the group work of an event stands."""

    CLOSED = "closed"
    OPEN = "open"
    RETURNED = "returned"


class Placement(enum.StrEnum):
    """How participants are placed in rooms."""

    FREE = "free"
    THEME = "theme"
    ORGANISATION = "organisation"
    REGION = "region"
    BALANCED = "balanced"


_TRANSITIONS = {(State.CLOSED, State.OPEN), (State.RETURNED, State.OPEN),
                (State.OPEN, State.RETURNED)}


def transition(current: str, target: State) -> State:
    """The new state, or Conflict `rooms.bad_state` when the move is not allowed."""
    if (State(current), target) not in _TRANSITIONS:
        raise Conflict(f"Group work cannot go from {current} to {target}.",
                       code="rooms.bad_state")
    return target


@dataclasses.dataclass(frozen=True)
class Person:
    """Someone to place: a key (the participant id) and what placement may look at."""

    key: str
    name: str = ""
    theme: int | None = None
    organisation: int | None = None
    region: str = ""
    online: bool = True


@dataclasses.dataclass
class PlannedRoom:
    """A room the plan creates: theme, online or in the venue, and who goes there."""

    theme: int | None
    online: bool
    name: str
    location: str = ""
    capacity: int = 8
    members: list[str] = dataclasses.field(default_factory=list)


def check_room_size(size: int) -> int:
    """A room size between 2 and `ROOM_SIZE_MAX`, or Invalid."""
    if not 2 <= size <= ROOM_SIZE_MAX:
        raise Invalid(f"A room holds between 2 and {ROOM_SIZE_MAX} people.",
                      code="rooms.bad_size", fields={"room_size": "Out of range."})
    return size


def assign_themes(people: Sequence[Person], themes: Sequence[int],
                  mode: Placement) -> dict[str, int | None]:
    """Each person's theme: their choice, or (balanced, or no valid choice) the emptiest one."""
    if not themes:
        return {p.key: None for p in people}
    counts = {t: 0 for t in themes}
    target = math.ceil(len(people) / len(themes))
    result: dict[str, int | None] = {}
    undecided: list[Person] = []
    for person in people:
        chosen = person.theme if person.theme in counts else None
        if chosen is None or (mode == Placement.BALANCED and counts[chosen] >= target):
            undecided.append(person)
            continue
        result[person.key] = chosen
        counts[chosen] += 1
    for person in undecided:
        emptiest = min(themes, key=lambda t: (counts[t], themes.index(t)))
        result[person.key] = emptiest
        counts[emptiest] += 1
    return result


def split_sizes(count: int, room_size: int) -> list[int]:
    """How many people go in each room: as few rooms as the size allows, sizes within one."""
    if count == 0:
        return []
    rooms = math.ceil(count / room_size)
    base, extra = divmod(count, rooms)
    return [base + (1 if i < extra else 0) for i in range(rooms)]


def _ordered(people: list[Person], mode: Placement) -> list[Person]:
    """People in the order rooms are filled: groups together, or organisations spread."""
    if mode == Placement.ORGANISATION:
        return sorted(people, key=lambda p: (p.organisation is None, p.organisation or 0, p.key))
    if mode == Placement.REGION:
        return sorted(people, key=lambda p: (not p.region, p.region, p.key))
    return people


def _fill(people: list[Person], sizes: list[int], mode: Placement) -> list[list[str]]:
    ordered = _ordered(people, mode)
    if mode in (Placement.ORGANISATION, Placement.REGION):
        chunks, start = [], 0
        for size in sizes:
            chunks.append([p.key for p in ordered[start:start + size]])
            start += size
        return chunks
    # Deal people out like cards, organisation by organisation, so each room mixes them.
    by_org = sorted(ordered, key=lambda p: (p.organisation is None, p.organisation or 0))
    rooms: list[list[str]] = [[] for _ in sizes]
    slot = 0
    for person in by_org:
        while len(rooms[slot % len(sizes)]) >= sizes[slot % len(sizes)]:
            slot += 1
        rooms[slot % len(sizes)].append(person.key)
        slot += 1
    return rooms


def plan(people: Sequence[Person], themes: Sequence[tuple[int, str]], mode: Placement,
         room_size: int, venue_rooms: Sequence[str] = ()) -> list[PlannedRoom]:
    """Rooms for these people: per theme, online and in-person apart, split by room size."""
    check_room_size(room_size)
    titles = dict(themes)
    assigned = assign_themes(people, [t for t, _ in themes], mode)
    groups: dict[tuple[int | None, bool], list[Person]] = defaultdict(list)
    for person in people:
        groups[(assigned[person.key], person.online)].append(person)
    order: list[int | None] = [t for t, _ in themes] or [None]
    venues = iter(venue_rooms)
    rooms: list[PlannedRoom] = []
    for theme in order:
        # Numbered through the theme, online and in-person alike: no two rooms share a name.
        chunks = [(online, chunk) for online in (True, False)
                  for chunk in _fill(groups.get((theme, online), []),
                                     split_sizes(len(groups.get((theme, online), [])),
                                                 room_size), mode)]
        title = titles.get(theme, "") if theme is not None else ""
        for number, (online, chunk) in enumerate(chunks, start=1):
            name = f"{title} {number}".strip() if len(chunks) > 1 else title
            location = "" if online else next(venues, "")
            rooms.append(PlannedRoom(
                theme=theme, online=online, name=name or f"{number}", location=location,
                capacity=room_size, members=[] if mode == Placement.FREE else chunk))
    return rooms


@dataclasses.dataclass(frozen=True)
class RoomInfo:
    """What a join check needs to know about a room."""

    id: int
    theme: int | None
    capacity: int
    members: int
    closed: bool = False


def check_join(mode: Placement, room: RoomInfo, *, own_theme: int | None,
               already_member: bool) -> None:
    """Raise when this participant may not join `room` (full, closed, another theme)."""
    if already_member:
        return
    if room.closed:
        raise Conflict("This room is closed.", code="rooms.closed")
    if mode != Placement.FREE and own_theme is not None and room.theme != own_theme:
        raise Forbidden("You are placed in a room of another theme.", code="rooms.wrong_theme")
    if room.members >= room.capacity:
        raise Conflict("This room is full.", code="rooms.full")


# --- notes -------------------------------------------------------------------------------


class NoteConflict(Conflict):
    """A stale edit: someone changed the item first. `fields` carries the current text."""

    code = "rooms.note_conflict"

    def __init__(self, text: str, version: int) -> None:
        super().__init__("Someone else changed this item first.",
                         fields={"text": text, "version": str(version)})
        self.text, self.version = text, version


def clean_text(text: str, *, allow_empty: bool = False) -> str:
    """The note text trimmed, or Invalid when empty or longer than `NOTE_MAX_CHARS`."""
    text = text.replace("\r\n", "\n").strip()
    if len(text) > NOTE_MAX_CHARS:
        raise Invalid(f"An item holds at most {NOTE_MAX_CHARS} characters.",
                      code="rooms.note_too_long")
    if not text and not allow_empty:
        raise Invalid("Write something first.", code="rooms.note_empty")
    return text


def keep_section_keys(old: Sequence[dict[str, str]],
                      new: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """The `new` sections with the keys they were first given: renaming changes only a title.

    Notes are filed under a section's key, so a key once given never moves to another
    section. A title that is still there keeps its key; a changed title in the place of an
    old section is that section renamed and keeps its key; any other title gets a key no
    section had before (its own `key` from the title, made unique).
    """
    keys: list[str | None] = [None] * len(new)
    by_title = {s["title"]: s["key"] for s in old}
    used: set[str] = set()
    for i, section in enumerate(new):
        key = by_title.get(section["title"])
        if key is not None and key not in used:
            keys[i] = key
            used.add(key)
    for i in range(min(len(new), len(old))):
        if keys[i] is None and old[i]["key"] not in used:
            keys[i] = old[i]["key"]
            used.add(old[i]["key"])
    taken = used | {s["key"] for s in old}
    for i, section in enumerate(new):
        if keys[i] is None:
            keys[i] = _fresh_key(section["key"], taken)
            taken.add(keys[i] or "")
    return [{"key": key or "", "title": s["title"]} for key, s in zip(keys, new, strict=True)]


def _fresh_key(base: str, taken: set[str]) -> str:
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base[:36]}-{n}"
    return key


def check_section(sections: Iterable[dict[str, str]], key: str) -> str:
    """`key` if it names one of the organiser's sections, else Invalid."""
    if key not in {s["key"] for s in sections}:
        raise Invalid(f"No section {key!r} here.", code="rooms.unknown_section")
    return key


class EditOutcome(enum.Enum):
    """What an edit with a base version does to an item."""

    APPLY = "apply"
    UNCHANGED = "unchanged"
    KEEP_BOTH = "keep_both"


def resolve_edit(current_text: str, current_version: int, base: int, text: str,
                 keep_both: bool) -> EditOutcome:
    """Apply an edit made on version `base`; a stale one is kept apart or refused, never lost."""
    if base == current_version:
        return EditOutcome.APPLY
    if text == current_text:
        return EditOutcome.UNCHANGED
    if keep_both and text:
        return EditOutcome.KEEP_BOTH
    raise NoteConflict(current_text, current_version)


# --- timer -------------------------------------------------------------------------------


def check_minutes(minutes: int) -> int:
    """Minutes between 1 and `TIMER_MAX_MINUTES`, or Invalid."""
    if not 1 <= minutes <= TIMER_MAX_MINUTES:
        raise Invalid(f"Give between 1 and {TIMER_MAX_MINUTES} minutes.",
                      code="rooms.bad_minutes")
    return minutes


def timer_end(now: dt.datetime, current: dt.datetime | None, *, minutes: int | None = None,
              add: int | None = None) -> dt.datetime | None:
    """The new end: `minutes` from now, or the current end (at least now) plus `add`."""
    if minutes is not None:
        return now + dt.timedelta(minutes=check_minutes(minutes))
    if add is not None:
        return max(current or now, now) + dt.timedelta(minutes=check_minutes(add))
    return None


def remaining_seconds(ends_at: dt.datetime | None, now: dt.datetime) -> int | None:
    """Whole seconds left on the timer (0 when up), None when no timer runs."""
    if ends_at is None:
        return None
    return max(0, math.ceil((ends_at - now).total_seconds()))
