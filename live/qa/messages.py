"""The Q&A's words on `/ws/events/{slug}`: its client messages and the frames viewers get.

The envelope all features share (`Envelope`, `Ok`, `Error`, close codes, decoding) is
`live.realtime.envelope`. The Q&A's client messages derive from it; `live.qa.handlers`
registers a handler for each. The pushes `Snapshot` and `Update` carry the event's version
`v`. The fan-out (`live.realtime.fanout`) coalesces several updates into one frame through
`coalesce`, which the Q&A feature hands it, so the fan-out never decodes a Q&A struct.
docs/protocol.md describes the same thing for people.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import msgspec

from live.bounds import Count, Id
from live.qa.domain import QaStatus
from live.realtime.envelope import (
    CloseCode,
    Envelope,
    Error,
    IdempotencyKey,
    Ok,
    ProtocolError,
    encode,
)

# The envelope's names are re-exported for the Q&A modules that speak it.
__all__ = [
    "GONE_STATUSES", "PUBLIC_STATUSES", "QA_MESSAGES", "Approve", "Ask", "CloseCode",
    "Configure", "Dequeue", "Done", "Edit", "Enqueue", "Error", "LogEntry", "Merge", "Move",
    "Now",
    "PanelView", "ProtocolError", "QaOk", "QaStatus", "QuestionView", "Reject",
    "SettingsView", "Snapshot", "Unvote", "Update", "Vote", "VoteCount", "You", "decode_update",
    "encode",
    "merge_updates", "public_update",
]

# Ids and positions within the database's 64-bit range (`live.bounds`).
QuestionId = Id
Position = Count
Name = Annotated[str, msgspec.Meta(max_length=200)]


PUBLIC_STATUSES = frozenset({QaStatus.APPROVED, QaStatus.ON_AIR, QaStatus.ANSWERED})
GONE_STATUSES = frozenset({QaStatus.REJECTED, QaStatus.MERGED})


# --- client → server ---------------------------------------------------------------------


class Ask(Envelope, tag="qa.ask"):
    """Ask a question; moderators use it for questions from the floor."""

    text: str
    name: Name = ""
    organisation: Name = ""
    anonymous: bool = False
    item: Id | None = None
    key: IdempotencyKey | None = None


class Vote(Envelope, tag="qa.vote"):
    """Upvote a question once per participant."""

    question: QuestionId
    key: IdempotencyKey | None = None


class Unvote(Envelope, tag="qa.unvote"):
    """Take back one's upvote."""

    question: QuestionId
    key: IdempotencyKey | None = None


class Approve(Envelope, tag="qa.approve"):
    """Make a pending (or rejected) question public."""

    question: QuestionId


class Reject(Envelope, tag="qa.reject"):
    """Hide a question from viewers."""

    question: QuestionId


class Edit(Envelope, tag="qa.edit"):
    """Change a question's text; the first original is kept."""

    question: QuestionId
    text: str


class Merge(Envelope, tag="qa.merge"):
    """Fold `question` into `into`; votes carry over, each voter counted once."""

    question: QuestionId
    into: QuestionId


class Enqueue(Envelope, tag="panel.enqueue"):
    """Put a question on the panel queue at `position` (default: the end)."""

    question: QuestionId
    position: Position | None = None


class Dequeue(Envelope, tag="panel.dequeue"):
    """Take a question off the panel queue (it stays approved)."""

    question: QuestionId


class Move(Envelope, tag="panel.move"):
    """Move a queued question to `position` (0 = next)."""

    question: QuestionId
    position: Position


class Now(Envelope, tag="panel.now"):
    """Mark a question as the one the panel answers now."""

    question: QuestionId


class Done(Envelope, tag="panel.done"):
    """Mark a question (default: the one on air) as answered."""

    question: QuestionId | None = None


class Configure(Envelope, tag="qa.settings"):
    """Change the event's Q&A settings (or open/close one programme item)."""

    premoderation: bool | None = None
    anonymous: bool | None = None
    max_length: Annotated[int, msgspec.Meta(ge=10, le=5000)] | None = None
    open: bool | None = None
    item: Id | None = None


# The Q&A's client messages (`live.qa.handlers` registers one handler for each).
QA_MESSAGES: tuple[type[Envelope], ...] = (
    Ask, Vote, Unvote, Approve, Reject, Edit, Merge, Enqueue, Dequeue, Move, Now, Done, Configure,
)

# --- server → client ---------------------------------------------------------------------


class QuestionView(msgspec.Struct, omit_defaults=True, frozen=True):
    """One question as a client sees it; `v` is the version of its last change."""

    id: int
    v: int
    status: QaStatus
    text: str = ""
    name: str = ""
    organisation: str = ""
    votes: int = 0
    item: int | None = None
    floor: bool = False
    merged_into: int | None = None
    asked_at: str | None = None
    approved_at: str | None = None
    on_air_at: str | None = None
    answered_at: str | None = None
    # Moderators only:
    original_text: str | None = None
    by: str | None = None
    action: str | None = None

    def public(self) -> QuestionView:
        """What viewers may see: a tombstone for gone questions, nothing of pending ones."""
        if self.status in GONE_STATUSES:
            return QuestionView(
                id=self.id, v=self.v, status=self.status, merged_into=self.merged_into
            )
        return msgspec.structs.replace(self, original_text=None, by=None, action=None)


class PanelView(msgspec.Struct, frozen=True):
    """The panel queue in order, and the question on air."""

    v: int
    queue: list[int]
    now: int | None = None


class SettingsView(msgspec.Struct, frozen=True):
    """The event's Q&A settings."""

    v: int
    premoderation: bool
    anonymous: bool
    max_length: int
    open: bool
    closed_items: list[int] = []


class LogEntry(msgspec.Struct, omit_defaults=True, frozen=True):
    """One line of the moderators' log: who did what to which question, and when (UTC)."""

    v: int
    at: str
    action: str
    by: str = ""  # the actor's name; empty for an unnamed participant or moderator
    question: int | None = None


class VoteCount(msgspec.Struct, frozen=True):
    """A question whose vote count is all that changed (at version `v`): a vote is the
    commonest change in a busy Q&A, and its question's text need not travel again."""

    id: int
    v: int
    votes: int


class Update(msgspec.Struct, tag_field="type", tag="update", omit_defaults=True):
    """A push: everything that changed up to version `v`; items carry their own `v`.
    `votes` holds questions whose count alone changed since the client's copy of them
    (only ever public ones); `log` (moderators only) holds the actions of these versions."""

    v: int
    questions: list[QuestionView] = []
    votes: list[VoteCount] = []
    panel: PanelView | None = None
    settings: SettingsView | None = None
    log: list[LogEntry] = []


class You(msgspec.Struct, omit_defaults=True):
    """Who the server thinks this connection is."""

    participant: str
    roles: list[str]
    name: str = ""


class Snapshot(msgspec.Struct, tag_field="type", tag="snapshot", omit_defaults=True):
    """The full state as of version `v`; sent on connect and on resync."""

    v: int
    questions: list[QuestionView]
    panel: PanelView
    settings: SettingsView
    you: You | None = None
    mine: list[QuestionView] = []
    voted: list[int] = []
    log: list[LogEntry] = []  # moderators only: the newest actions, oldest first


class QaOk(Ok, omit_defaults=True):
    """Reply to a Q&A message that succeeded: the question or panel it changed."""

    question: QuestionView | None = None
    panel: PanelView | None = None


_update_decoder = msgspec.json.Decoder(Update)


def decode_update(data: bytes) -> Update:
    """Decode an `Update` as it travels through the hub."""
    return _update_decoder.decode(data)


def merge_updates(updates: list[Update]) -> Update:
    """Coalesce several updates into one: per question, panel and settings the newest wins;
    a newer vote count folds into an older full view of its question."""
    questions: dict[int, QuestionView] = {}
    counts: dict[int, VoteCount] = {}
    panel: PanelView | None = None
    settings: SettingsView | None = None
    log: dict[tuple[int, str, int | None], LogEntry] = {}
    for update in updates:
        log.update(((e.v, e.action, e.question), e) for e in update.log)
        for q in update.questions:
            if q.id not in questions or questions[q.id].v < q.v:
                questions[q.id] = q
        for c in update.votes:
            if c.id not in counts or counts[c.id].v < c.v:
                counts[c.id] = c
        if update.panel is not None and (panel is None or panel.v < update.panel.v):
            panel = update.panel
        if update.settings is not None and (settings is None or settings.v < update.settings.v):
            settings = update.settings
    for c in list(counts.values()):
        whole = questions.get(c.id)
        if whole is not None:
            del counts[c.id]
            if whole.v < c.v:
                questions[c.id] = msgspec.structs.replace(whole, v=c.v, votes=c.votes)
    v = max(u.v for u in updates)
    entries = sorted(log.values(), key=lambda e: e.v)
    return Update(v=v, questions=list(questions.values()), votes=list(counts.values()),
                  panel=panel, settings=settings, log=entries)


def coalesce(notices: Sequence[bytes]) -> str:
    """Several hub notices of one channel as the text of one `update` frame."""
    if len(notices) == 1:
        return bytes(notices[0]).decode()
    return encode(merge_updates([decode_update(n) for n in notices])).decode()


def public_update(update: Update, seen: set[int] | None = None) -> Update | None:
    """The part of a moderator update that viewers may see, or None when there is none;
    with `seen`, only those of its questions (the ones whose public view changed)."""
    questions = [q.public() for q in update.questions
                 if q.status != QaStatus.PENDING and (seen is None or q.id in seen)]
    if not questions and not update.votes and update.panel is None and update.settings is None:
        return None
    return Update(v=update.v, questions=questions, votes=update.votes, panel=update.panel,
                  settings=update.settings)
