"""Group-work rules without I/O: splitting, placement modes, joins, note edits, timer, states."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

import pytest

from live.errors import Conflict, Forbidden, Invalid
from live.rooms import domain
from live.rooms.domain import EditOutcome, Person, Placement, RoomInfo, State

THEMES = [(1, "Sustainability"), (2, "Skills")]


def people(spec: Sequence[tuple[int | None, bool]], orgs: int = 3) -> list[Person]:
    return [Person(key=f"p{i}", theme=theme, online=online, organisation=i % orgs,
                   region=f"r{i % 2}") for i, (theme, online) in enumerate(spec)]


def test_twelve_people_two_themes_size_four_split_by_theme() -> None:
    """7 + 5 choices with room size 4 give rooms of 4+3 and 3+2, everyone placed once."""
    crowd = people([(1, True)] * 7 + [(2, True)] * 5)
    rooms = domain.plan(crowd, THEMES, Placement.THEME, 4)
    assert [(r.theme, len(r.members)) for r in rooms] == [(1, 4), (1, 3), (2, 3), (2, 2)]
    placed = [m for r in rooms for m in r.members]
    assert sorted(placed) == sorted(p.key for p in crowd)
    assert [r.name for r in rooms] == ["Sustainability 1", "Sustainability 2", "Skills 1",
                                       "Skills 2"]


def test_balanced_evens_out_themes_and_spreads_organisations() -> None:
    """Balanced placement moves overflow to the emptier theme and mixes organisations."""
    crowd = people([(1, True)] * 10 + [(2, True)] * 2)
    rooms = domain.plan(crowd, THEMES, Placement.BALANCED, 4)
    per_theme = Counter(r.theme for r in rooms for _ in r.members)
    assert per_theme == {1: 6, 2: 6}
    by_key = {p.key: p for p in crowd}
    for room in rooms:
        orgs = [by_key[m].organisation for m in room.members]
        assert len(set(orgs)) == len(orgs)  # 3 people from 3 organisations


def test_online_and_in_person_never_share_a_room_and_venue_names_are_used() -> None:
    """In-person groups get the venue's rooms in order; online groups have no location."""
    crowd = people([(1, True)] * 3 + [(1, False)] * 5)
    rooms = domain.plan(crowd, THEMES, Placement.THEME, 4, ["Room A", "Table 3"])
    in_person = [r for r in rooms if not r.online]
    assert [r.location for r in in_person] == ["Room A", "Table 3"]
    assert all(r.location == "" for r in rooms if r.online)
    by_key = {p.key: p for p in crowd}
    for room in rooms:
        assert {by_key[m].online for m in room.members} == {room.online}


def test_region_placement_keeps_a_region_together() -> None:
    """By region, people of one region fill rooms together."""
    crowd = [Person(key=f"p{i}", theme=1, region="north" if i < 4 else "south")
             for i in range(8)]
    rooms = domain.plan(crowd, THEMES, Placement.REGION, 4)
    region = {p.key: p.region for p in crowd}
    regions = [{region[m] for m in r.members} for r in rooms]
    assert regions == [{"north"}, {"south"}]


def test_free_choice_plans_rooms_but_places_nobody() -> None:
    """Free choice creates rooms sized from the choices and leaves places to the participants."""
    rooms = domain.plan(people([(1, True)] * 5), THEMES, Placement.FREE, 4)
    assert len(rooms) == 2 and all(r.members == [] for r in rooms)


def test_people_without_a_theme_go_to_the_emptiest() -> None:
    """No (or an unknown) theme choice counts as no choice."""
    assigned = domain.assign_themes(people([(1, True), (1, True), (None, True), (9, True)]),
                                    [1, 2], Placement.THEME)
    assert assigned == {"p0": 1, "p1": 1, "p2": 2, "p3": 2}


def test_room_size_is_bounded() -> None:
    """A room size of 1 is refused with a code."""
    with pytest.raises(Invalid) as caught:
        domain.plan([], THEMES, Placement.THEME, 1)
    assert caught.value.code == "rooms.bad_size"


def test_join_refuses_full_closed_and_other_theme_rooms() -> None:
    """Full rooms, closed rooms and (with fixed placement) other themes' rooms are refused."""
    full = RoomInfo(1, theme=1, capacity=4, members=4)
    with pytest.raises(Conflict) as caught:
        domain.check_join(Placement.FREE, full, own_theme=None, already_member=False)
    assert caught.value.code == "rooms.full"
    other = RoomInfo(2, theme=2, capacity=4, members=1)
    with pytest.raises(Forbidden) as wrong:
        domain.check_join(Placement.THEME, other, own_theme=1, already_member=False)
    assert wrong.value.code == "rooms.wrong_theme"
    domain.check_join(Placement.FREE, other, own_theme=1, already_member=False)
    with pytest.raises(Conflict) as closed:
        domain.check_join(Placement.FREE, RoomInfo(3, 1, 4, 0, closed=True), own_theme=None,
                          already_member=False)
    assert closed.value.code == "rooms.closed"


def test_stale_edit_is_kept_or_refused_never_lost() -> None:
    """An edit on an old version is kept beside the item, or refused with the current text."""
    assert domain.resolve_edit("a", 1, 1, "b", True) == EditOutcome.APPLY
    assert domain.resolve_edit("b", 2, 1, "c", True) == EditOutcome.KEEP_BOTH
    assert domain.resolve_edit("b", 2, 1, "b", False) == EditOutcome.UNCHANGED
    with pytest.raises(domain.NoteConflict) as caught:
        domain.resolve_edit("b", 2, 1, "c", False)
    assert caught.value.fields == {"text": "b", "version": "2"}
    assert caught.value.code == "rooms.note_conflict"


def test_note_text_limits() -> None:
    """Empty and over-long items are refused with their codes."""
    with pytest.raises(Invalid) as empty:
        domain.clean_text("   ")
    assert empty.value.code == "rooms.note_empty"
    with pytest.raises(Invalid) as long:
        domain.clean_text("x" * (domain.NOTE_MAX_CHARS + 1))
    assert long.value.code == "rooms.note_too_long"
    assert domain.clean_text(" ok\r\n") == "ok"


def test_state_machine_and_timer() -> None:
    """closed→open→returned→open is allowed, returning twice is not; the timer extends."""
    assert domain.transition("closed", State.OPEN) == State.OPEN
    assert domain.transition("open", State.RETURNED) == State.RETURNED
    assert domain.transition("returned", State.OPEN) == State.OPEN
    with pytest.raises(Conflict):
        domain.transition("returned", State.RETURNED)
    now = dt.datetime(2027, 3, 10, 10, 30, tzinfo=dt.UTC)
    end = domain.timer_end(now, None, minutes=30)
    assert end == now + dt.timedelta(minutes=30)
    assert domain.timer_end(now, end, add=10) == now + dt.timedelta(minutes=40)
    assert domain.remaining_seconds(end, now) == 1800
    assert domain.remaining_seconds(now, end) == 0


def test_rooms_of_a_theme_have_different_names_online_and_in_person() -> None:
    """A theme's online and in-person rooms are numbered through, so no two share a name."""
    crowd = people([(1, True)] * 3 + [(1, False)] * 5 + [(2, True)] * 2 + [(2, False)] * 2)
    rooms = domain.plan(crowd, THEMES, Placement.THEME, 4, ["Room A", "Table 3", "Room B"])
    assert [(r.name, r.online) for r in rooms] == [
        ("Sustainability 1", True), ("Sustainability 2", False), ("Sustainability 3", False),
        ("Skills 1", True), ("Skills 2", False)]
