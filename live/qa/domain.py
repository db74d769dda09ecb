"""The question lifecycle and the panel queue as plain rules, free of sockets and SQL.

    pending ──approve──> approved ──now──> on_air ──done──> answered
       │  \\                │  ^
       │   reject          reject approve
       v        \\          v  │
    merged       ────>   rejected

`approve`, `reject`, `edit`, `merge`, `now`, `done` work on anything shaped like
`QuestionLike` (an action's `QuestionRow` in production, a dataclass in tests); the queue
order is a list of question ids. `QaStatus` names the states, on the wire and in the table.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from typing import ClassVar, Protocol, TypeVar, assert_never

from live.errors import Conflict, Forbidden, Invalid, NotFound


class QaStatus(enum.StrEnum):
    """Where a question is in its life (stored as this text in `qa_questions.status`)."""

    PENDING = "pending"
    APPROVED = "approved"
    ON_AIR = "on_air"
    ANSWERED = "answered"
    REJECTED = "rejected"
    MERGED = "merged"


VOTABLE = frozenset({QaStatus.APPROVED, QaStatus.ON_AIR})
MERGEABLE = frozenset({QaStatus.PENDING, QaStatus.APPROVED, QaStatus.REJECTED})
MERGE_TARGETS = frozenset({QaStatus.PENDING, QaStatus.APPROVED, QaStatus.ON_AIR, QaStatus.ANSWERED})


class QuestionLike(Protocol):
    """The attributes the rules read and write."""

    id: int
    status: str
    text: str
    original_text: str | None
    queue_pos: int | None
    merged_into: int | None
    approved_at: dt.datetime | None
    on_air_at: dt.datetime | None
    answered_at: dt.datetime | None
    rejected_at: dt.datetime | None


Q = TypeVar("Q", bound=QuestionLike)


@dataclasses.dataclass(frozen=True)
class Rules:
    """An event's Q&A settings as the rules need them."""

    premoderation: bool = True
    allow_anonymous: bool = True
    max_length: int = 500
    open: bool = True
    closed_items: frozenset[int] = frozenset()


def not_found(question_id: int) -> NotFound:
    return NotFound(f"No question {question_id} here.", code="qa.not_found")


def conflict(question: QuestionLike, action: str) -> Conflict:
    return Conflict(f"Cannot {action} a question that is {question.status}.", code="qa.conflict")


def clean_text(text: str, rules: Rules) -> str:
    """Trimmed question text, checked against the event's maximum length."""
    cleaned = text.strip()
    if not cleaned:
        raise Invalid("The question is empty.", code="qa.empty", fields={"text": "empty"})
    if len(cleaned) > rules.max_length:
        raise Invalid(
            f"The question is longer than {rules.max_length} characters.",
            code="qa.too_long",
            fields={"text": f"max {rules.max_length}"},
        )
    return cleaned


def check_ask(
    rules: Rules, *, anonymous: bool, name: str, item: int | None, moderator: bool
) -> None:
    """Refuse a question when Q&A is closed or anonymity is not allowed."""
    if moderator:
        return  # questions from the floor are typed in by moderators whatever the settings
    if not rules.open or (item is not None and item in rules.closed_items):
        raise Conflict("Questions are closed right now.", code="qa.closed")
    if (anonymous or not name.strip()) and not rules.allow_anonymous:
        raise Invalid(
            "Give your name to ask a question.",
            code="qa.name_required",
            fields={"name": "required"},
        )


def initial_status(rules: Rules, *, moderator: bool) -> QaStatus:
    """Moderators' questions and questions without pre-moderation go straight out."""
    return QaStatus.APPROVED if moderator or not rules.premoderation else QaStatus.PENDING


def approve(question: QuestionLike, now: dt.datetime) -> None:
    """Make the question public."""
    if question.status not in (QaStatus.PENDING, QaStatus.REJECTED):
        raise conflict(question, "approve")
    question.status = QaStatus.APPROVED
    question.rejected_at = None
    question.approved_at = question.approved_at or now


def reject(question: QuestionLike, now: dt.datetime) -> None:
    """Hide the question from viewers and take it off the queue."""
    if question.status not in (QaStatus.PENDING, QaStatus.APPROVED):
        raise conflict(question, "reject")
    question.status = QaStatus.REJECTED
    question.queue_pos = None
    question.rejected_at = now


def edit(question: QuestionLike, text: str) -> None:
    """Replace the text; the very first text is kept as the original."""
    if question.status == QaStatus.MERGED:
        raise conflict(question, "edit")
    if text == question.text:
        return
    if question.original_text is None:
        question.original_text = question.text
    question.text = text


def merge(source: QuestionLike, target: QuestionLike) -> None:
    """Fold `source` into `target` (the caller moves the votes)."""
    if source.id == target.id:
        raise Conflict("A question cannot be merged into itself.", code="qa.conflict")
    if source.status not in MERGEABLE:
        raise conflict(source, "merge")
    if target.status not in MERGE_TARGETS:
        raise conflict(target, "merge into")
    source.status = QaStatus.MERGED
    source.merged_into = target.id
    source.queue_pos = None


def put_on_air(question: QuestionLike, previous: QuestionLike | None, now: dt.datetime) -> None:
    """Make `question` the one answered now; the one before it counts as answered."""
    if question.status != QaStatus.APPROVED:
        raise conflict(question, "put on air")
    if previous is not None and previous.id != question.id:
        finish(previous, now)
    question.status = QaStatus.ON_AIR
    question.queue_pos = None
    question.on_air_at = now


def finish(question: QuestionLike, now: dt.datetime) -> None:
    """Mark the question answered."""
    if question.status not in (QaStatus.ON_AIR, QaStatus.APPROVED):
        raise conflict(question, "mark answered")
    question.status = QaStatus.ANSWERED
    question.queue_pos = None
    question.answered_at = now


def check_votable(question: Q | None, question_id: int) -> Q:
    """Viewers may vote on public, not yet answered questions; others look unknown."""
    if question is None or question.status not in VOTABLE:
        if question is not None and question.status == QaStatus.ANSWERED:
            raise Conflict("This question has been answered.", code="qa.answered")
        raise not_found(question_id)
    return question


def check_visible(question: Q | None, question_id: int) -> Q:
    """The question, or `qa.not_found` when it does not exist on this event."""
    if question is None:
        raise not_found(question_id)
    return question


def require_moderator(moderator: bool) -> None:
    if not moderator:
        raise Forbidden("Only moderators may do this.")


# --- the panel queue -----------------------------------------------------------------------


def enqueue(order: list[int], question_id: int, position: int | None) -> list[int]:
    """The queue with `question_id` inserted at `position` (the end when None)."""
    rest = [q for q in order if q != question_id]
    at = len(rest) if position is None else min(position, len(rest))
    return rest[:at] + [question_id] + rest[at:]


def move(order: list[int], question_id: int, position: int) -> list[int]:
    """The queue with a queued question moved to `position`."""
    if question_id not in order:
        raise Conflict(f"Question {question_id} is not on the queue.", code="qa.not_queued")
    return enqueue(order, question_id, position)


def dequeue(order: list[int], question_id: int) -> list[int]:
    """The queue without `question_id`."""
    if question_id not in order:
        raise Conflict(f"Question {question_id} is not on the queue.", code="qa.not_queued")
    return [q for q in order if q != question_id]


def apply_order(questions: Mapping[int, QuestionLike], order: list[int]) -> None:
    """Write the queue order into the questions' `queue_pos`."""
    for position, question_id in enumerate(order):
        questions[question_id].queue_pos = position


# The panel steps, one type each: the socket messages of the same names become these (the
# service's `panel`). `action` is the step's name in the moderators' log.


@dataclasses.dataclass(frozen=True, slots=True)
class Enqueue:
    """Put the question on the queue at `position` (the end when None); approve it if pending."""

    position: int | None = None
    action: ClassVar[str] = "enqueue"


@dataclasses.dataclass(frozen=True, slots=True)
class Dequeue:
    """Take the question off the queue; it stays approved."""

    action: ClassVar[str] = "dequeue"


@dataclasses.dataclass(frozen=True, slots=True)
class Move:
    """Move a queued question to `position` (0 = next)."""

    position: int
    action: ClassVar[str] = "move"


@dataclasses.dataclass(frozen=True, slots=True)
class Now:
    """Put the question on air; the one on air before it counts as answered."""

    action: ClassVar[str] = "now"


@dataclasses.dataclass(frozen=True, slots=True)
class Done:
    """Mark the question answered."""

    action: ClassVar[str] = "done"


PanelStep = Enqueue | Dequeue | Move | Now | Done


def panel_step(
    step: PanelStep,
    question: QuestionLike,
    on_air: QuestionLike | None,
    order: list[int],
    now: dt.datetime,
) -> list[int]:
    """Apply one panel step to `question`; the new queue order."""
    match step:
        case Enqueue(position=position):
            if question.status == QaStatus.PENDING:
                approve(question, now)
            if question.status != QaStatus.APPROVED:
                raise conflict(question, "queue")
            return enqueue(order, question.id, position)
        case Dequeue():
            question.queue_pos = None
            return dequeue(order, question.id)
        case Move(position=position):
            return move(order, question.id, position)
        case Now():
            put_on_air(question, on_air, now)
        case Done():
            finish(question, now)
        case _:
            assert_never(step)
    return [q for q in order if q != question.id]
