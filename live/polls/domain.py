"""Poll rules as plain functions, free of sockets and SQL.

    draft ──launch──> open ──close (or time)──> closed ──launch──> open
                        reveal / hide at any time: results shown to viewers or not

A poll's kind says what an answer holds (`Answer`): choices (single, multiple), a rating,
words (word cloud), a text ("innspill") or a ranking of every option. `clean_answer` checks
an answer against the poll and returns the value stored; `tally` turns a stored value into
the counts it adds (`poll_counts`), so that changing an answer subtracts the old tally and
adds the new one. Word cloud entries are normalised (`live.polls.words`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from live.errors import Conflict, Invalid, NotFound
from live.polls.words import normalise_entry

MAX_OPTIONS = 10
MIN_OPTIONS = 2
MAX_OPTION_LENGTH = 200
MAX_QUESTION_LENGTH = 500
MAX_WORDS = 3
MAX_WORD_LENGTH = 40
MAX_TEXT_LENGTH = 1000
MAX_DURATION = 24 * 3600
SCALES = (5, 10)


class PollKind(enum.StrEnum):
    """What a poll asks for (stored as this text in `polls.kind`)."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    RATING = "rating"
    WORDS = "words"
    TEXT = "text"
    RANKING = "ranking"


WITH_OPTIONS = frozenset({PollKind.SINGLE, PollKind.MULTIPLE, PollKind.RANKING})
# Answers of these kinds wait for a moderator when the poll is moderated (text always is).
MODERATABLE = frozenset({PollKind.WORDS, PollKind.TEXT})


class PollStatus(enum.StrEnum):
    """Where a poll is in its life."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class EntryStatus(enum.StrEnum):
    """A text or word answer under moderation."""

    PENDING = "pending"
    APPROVED = "approved"
    HIDDEN = "hidden"


class PollLike(Protocol):
    """The attributes the rules read and write (the ORM row in production)."""

    id: int
    kind: str
    options: list[str]
    max_choices: int | None
    scale: int
    final: bool
    moderated: bool
    status: str
    revealed: bool
    duration: int | None
    opened_at: dt.datetime | None
    closes_at: dt.datetime | None
    closed_at: dt.datetime | None
    revealed_at: dt.datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class Spec:
    """A poll as a moderator or organiser describes it."""

    kind: PollKind
    question: str
    options: tuple[str, ...] = ()
    max_choices: int | None = None
    scale: int = 5
    anonymous: bool = True
    final: bool = False
    moderated: bool = False
    duration: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """What a participant sends; only the part the poll's kind reads counts."""

    choices: tuple[int, ...] = ()
    rating: int | None = None
    words: tuple[str, ...] = ()
    text: str = ""
    ranking: tuple[int, ...] = ()


def not_found(poll_id: int) -> NotFound:
    return NotFound(f"No poll {poll_id} here.", code="poll.not_found")


def invalid(message: str, code: str, field: str) -> Invalid:
    return Invalid(message, code=code, fields={field: code.removeprefix("poll.")})


# --- preparing -----------------------------------------------------------------------------


def clean_spec(spec: Spec) -> Spec:
    """The spec trimmed and checked: `poll.invalid` names what is wrong."""
    question = spec.question.strip()
    if not question or len(question) > MAX_QUESTION_LENGTH:
        raise invalid(f"Give a question of at most {MAX_QUESTION_LENGTH} characters.",
                      "poll.invalid", "question")
    options = tuple(o.strip() for o in spec.options if o.strip())
    if spec.kind in WITH_OPTIONS:
        if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
            raise invalid(f"Give {MIN_OPTIONS} to {MAX_OPTIONS} options.", "poll.invalid",
                          "options")
        if any(len(o) > MAX_OPTION_LENGTH for o in options) or len(set(options)) < len(options):
            raise invalid("Options must differ and be short.", "poll.invalid", "options")
    else:
        options = ()
    if spec.kind == PollKind.RATING and spec.scale not in SCALES:
        raise invalid("A rating goes to 5 or to 10.", "poll.invalid", "scale")
    max_choices = spec.max_choices if spec.kind == PollKind.MULTIPLE else None
    if max_choices is not None and not 1 <= max_choices <= len(options):
        raise invalid("The limit of choices is more than the options.", "poll.invalid",
                      "max_choices")
    if spec.duration is not None and not 10 <= spec.duration <= MAX_DURATION:
        raise invalid("A poll stays open from 10 seconds to a day.", "poll.invalid", "duration")
    moderated = spec.kind == PollKind.TEXT or (spec.kind == PollKind.WORDS and spec.moderated)
    return dataclasses.replace(spec, question=question, options=options,
                               max_choices=max_choices, moderated=moderated)


# --- the lifecycle -------------------------------------------------------------------------


def effective_status(poll: PollLike, now: dt.datetime) -> PollStatus:
    """The poll's status, counting a passed closing time as closed."""
    if poll.status == PollStatus.OPEN and poll.closes_at is not None and now >= poll.closes_at:
        return PollStatus.CLOSED
    return PollStatus(poll.status)


def launch(poll: PollLike, now: dt.datetime) -> None:
    """Open the poll for answers (again, if it was closed)."""
    if effective_status(poll, now) == PollStatus.OPEN:
        raise Conflict("The poll is already open.", code="poll.conflict")
    poll.status = PollStatus.OPEN
    poll.opened_at = now
    poll.closed_at = None
    poll.closes_at = None if poll.duration is None else now + dt.timedelta(seconds=poll.duration)


def close(poll: PollLike, now: dt.datetime) -> None:
    """Stop taking answers."""
    if poll.status != PollStatus.OPEN:
        raise Conflict("The poll is not open.", code="poll.conflict")
    poll.status = PollStatus.CLOSED
    poll.closed_at = min(now, poll.closes_at) if poll.closes_at is not None else now
    poll.closes_at = None


def reveal(poll: PollLike, now: dt.datetime, shown: bool) -> bool:
    """Show (or hide) the results to viewers; False when nothing changed."""
    if poll.revealed == shown:
        return False
    poll.revealed = shown
    if shown:
        poll.revealed_at = now
    return True


# --- answering -----------------------------------------------------------------------------


def check_answerable(poll: PollLike | None, poll_id: int, now: dt.datetime) -> PollLike:
    """The poll, if it takes answers now: unknown and draft polls look the same to viewers."""
    if poll is None or poll.status == PollStatus.DRAFT:
        raise not_found(poll_id)
    if effective_status(poll, now) != PollStatus.OPEN:
        raise Conflict("The poll is closed.", code="poll.closed")
    return poll


def check_change(poll: PollLike, had_answer: bool) -> None:
    """A second answer replaces the first, unless answers are final."""
    if had_answer and poll.final:
        raise Conflict("You have answered this poll.", code="poll.answered")


def clean_answer(
    poll: PollLike, answer: Answer, stop: frozenset[str], blocked: frozenset[str]
) -> Any:
    """The value stored for `answer` to `poll` (a JSON value), or `poll.invalid_answer`."""
    kind = PollKind(poll.kind)
    count = len(poll.options)
    if kind == PollKind.SINGLE:
        return [_one_choice(answer.choices, count)]
    if kind == PollKind.MULTIPLE:
        return _choices(answer.choices, count, poll.max_choices or count)
    if kind == PollKind.RATING:
        low = 1 if poll.scale == 5 else 0
        if answer.rating is None or not low <= answer.rating <= poll.scale:
            raise invalid(f"Give a rating from {low} to {poll.scale}.", "poll.out_of_range",
                          "rating")
        return answer.rating
    if kind == PollKind.WORDS:
        return _words(answer.words, stop, blocked)
    if kind == PollKind.TEXT:
        text = answer.text.strip()
        if not text or len(text) > MAX_TEXT_LENGTH:
            raise invalid(f"Write at most {MAX_TEXT_LENGTH} characters.", "poll.too_long", "text")
        return text
    return _ranking(answer.ranking, count)


def _one_choice(choices: tuple[int, ...], count: int) -> int:
    if len(choices) != 1:
        raise invalid("Choose one option.", "poll.too_many_choices", "choices")
    return _choices(choices, count, 1)[0]


def _choices(choices: tuple[int, ...], count: int, limit: int) -> list[int]:
    if any(not 0 <= c < count for c in choices):
        raise invalid("That option is not on the poll.", "poll.out_of_range", "choices")
    chosen = sorted(set(choices))
    if not chosen:
        raise invalid("Choose at least one option.", "poll.empty", "choices")
    if len(chosen) > limit:
        raise invalid(f"Choose at most {limit} options.", "poll.too_many_choices", "choices")
    return chosen


def _ranking(ranking: tuple[int, ...], count: int) -> list[int]:
    if sorted(ranking) != list(range(count)):
        raise invalid("Put every option in order, each once.", "poll.out_of_range", "ranking")
    return list(ranking)


def _words(
    words: tuple[str, ...], stop: frozenset[str], blocked: frozenset[str]
) -> list[str]:
    """Up to `MAX_WORDS` entries of at most `MAX_WORD_LENGTH` characters, normalised.

    Entries that are only stop words or that hold a blocked word are dropped: they are not
    counted, and the sender is not told (a troll learns nothing).
    """
    entries = [w.strip() for w in words if w.strip()]
    if not entries:
        raise invalid("Write a word.", "poll.empty", "words")
    if len(entries) > MAX_WORDS:
        raise invalid(f"Write at most {MAX_WORDS} words.", "poll.too_many_choices", "words")
    if any(len(e) > MAX_WORD_LENGTH for e in entries):
        raise invalid(f"Keep each word under {MAX_WORD_LENGTH} characters.", "poll.too_long",
                      "words")
    kept: list[str] = []
    for entry in entries:
        normal = normalise_entry(entry, stop)
        if normal and normal not in kept and not (set(normal.split()) & blocked):
            kept.append(normal)
    return kept


# --- counting ------------------------------------------------------------------------------


def tally(kind: str, value: Any) -> dict[str, int]:
    """What one stored answer adds to the poll's counts, by key.

    Choices and ratings count one per option or value; a ranking adds each option's rank
    (1 = first), so rank sum / answers is the average rank; words count one per entry.
    """
    match PollKind(kind):
        case PollKind.SINGLE | PollKind.MULTIPLE:
            return {str(c): 1 for c in value}
        case PollKind.RATING:
            return {str(value): 1}
        case PollKind.WORDS:
            return {f"w:{w}": 1 for w in value}
        case PollKind.RANKING:
            return {str(option): rank for rank, option in enumerate(value, start=1)}
        case PollKind.TEXT:
            return {}


def difference(old: Mapping[str, int], new: Mapping[str, int]) -> dict[str, int]:
    """The change from tally `old` to tally `new` (keys that do not change are left out)."""
    keys = set(old) | set(new)
    return {k: new.get(k, 0) - old.get(k, 0) for k in keys if new.get(k, 0) != old.get(k, 0)}


def recount(kind: str, values: Iterable[Any]) -> dict[str, int]:
    """The counts of a poll from scratch: the sum of its counted answers' tallies."""
    total: dict[str, int] = {}
    for value in values:
        for key, n in tally(kind, value).items():
            total[key] = total.get(key, 0) + n
    return {k: n for k, n in total.items() if n}


def counted(poll: PollLike, status: str) -> bool:
    """Does an answer with this moderation status count in the results?"""
    return status == EntryStatus.APPROVED or not poll.moderated
