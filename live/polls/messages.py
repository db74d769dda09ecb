"""The polls' words on `/ws/events/{slug}`: client messages, replies and pushes.

Client messages derive from the shared envelope (`live.realtime.envelope`) and get one
`PollOk` or `error` reply. Pushes: `polls` (every poll of the event as this connection may
see it, and the participant's own answers; on connect) and `polls.update` (the polls that
changed). Both carry `pv`, the event's poll version (not `v`, which is the Q&A's). Viewers
get `polls.update` in the fan-out's ticks, several merged by `coalesce` (newest per poll);
moderators get each at once. docs/protocol.md describes the same thing for people.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import msgspec

from live.bounds import Id
from live.polls.domain import MAX_DURATION, EntryStatus, PollKind, PollStatus
from live.realtime.envelope import Envelope, Ok, encode

PollId = Id
Short = Annotated[str, msgspec.Meta(max_length=200)]
# Idempotency key chosen by the client: a retried answer with the same key counts once.
Key = Annotated[str, msgspec.Meta(max_length=64)]
Index = Annotated[int, msgspec.Meta(ge=0, le=1000)]
Small = Annotated[int, msgspec.Meta(ge=0, le=1000)]


# --- client → server ---------------------------------------------------------------------


class AnswerPoll(Envelope, tag="poll.answer"):
    """Answer (or change one's answer to) an open poll; only the kind's field is read."""

    poll: PollId
    choices: Annotated[list[Index], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    rating: Small | None = None
    words: Annotated[list[Short], msgspec.Meta(max_length=10)] = msgspec.field(default_factory=list)
    text: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    ranking: Annotated[list[Index], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    name: Short = ""
    key: Key = ""


class CreatePoll(Envelope, tag="poll.create"):
    """Moderators: make a poll on the fly (and launch it at once with `launch`)."""

    kind: PollKind
    question: Annotated[str, msgspec.Meta(max_length=2000)]
    options: Annotated[list[Short], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    max_choices: Small | None = None
    scale: Small = 5
    anonymous: bool = True
    final: bool = False
    moderated: bool = False
    duration: Annotated[int, msgspec.Meta(ge=0, le=MAX_DURATION)] | None = None
    item: Id | None = None
    launch: bool = False


class Launch(Envelope, tag="poll.launch"):
    """Open a poll for answers."""

    poll: PollId


class Close(Envelope, tag="poll.close"):
    """Stop taking answers."""

    poll: PollId


class Reveal(Envelope, tag="poll.reveal"):
    """Show the results to viewers and on the display."""

    poll: PollId


class Hide(Envelope, tag="poll.hide"):
    """Hide the results from viewers again."""

    poll: PollId


class Moderate(Envelope, tag="poll.moderate"):
    """Approve, hide, star or unstar one text or word answer."""

    poll: PollId
    answer: Id
    action: Literal["approve", "hide", "star", "unstar"]


class Forward(Envelope, tag="poll.forward"):
    """Send one text answer ("innspill") on to the panel queue as a question."""

    poll: PollId
    answer: Id


class Block(Envelope, tag="poll.block"):
    """Add words to the event's blocked words (word clouds drop entries holding one)."""

    words: Annotated[list[Short], msgspec.Meta(max_length=50)]


POLL_MESSAGES: tuple[type[Envelope], ...] = (
    AnswerPoll, CreatePoll, Launch, Close, Reveal, Hide, Moderate, Forward, Block,
)

# --- server → client ---------------------------------------------------------------------


class WordCount(msgspec.Struct, array_like=True, frozen=True):
    """One word cloud entry and how many gave it: `["grønn omstilling", 12]`."""

    text: str
    n: int


class EntryView(msgspec.Struct, omit_defaults=True, frozen=True):
    """One text answer; names only on named polls, status and star for moderators."""

    id: int
    text: str
    name: str = ""
    status: EntryStatus = EntryStatus.APPROVED
    starred: bool = False


class Results(msgspec.Struct, omit_defaults=True, frozen=True):
    """A poll's results: per option (or rating value) a count, the average, ranks, words."""

    counts: list[int] = []
    average: float | None = None
    ranks: list[float] = []
    words: list[WordCount] = []
    entries: list[EntryView] = []


class PollView(msgspec.Struct, omit_defaults=True, frozen=True):
    """One poll as a client sees it; `results` only to moderators or once revealed."""

    id: int
    v: int
    kind: PollKind
    question: str
    status: PollStatus
    options: list[str] = []
    max_choices: int | None = None
    scale: int = 5
    anonymous: bool = True
    final: bool = False
    moderated: bool = False
    survey: bool = False
    revealed: bool = False
    closes_at: str | None = None
    opened_at: str | None = None
    revealed_at: str | None = None
    item: int | None = None
    answers: int = 0
    results: Results | None = None


class Mine(msgspec.Struct, omit_defaults=True, frozen=True):
    """What this participant answered to one poll (the stored, normalised value)."""

    poll: int
    choices: list[int] = []
    rating: int | None = None
    words: list[str] = []
    text: str = ""
    ranking: list[int] = []


class PollsSnapshot(msgspec.Struct, tag_field="type", tag="polls", omit_defaults=True):
    """Every poll the connection may see, as of poll version `pv`, and its own answers."""

    pv: int
    polls: list[PollView]
    mine: list[Mine] = []
    blocked: list[str] = []


class PollsUpdate(msgspec.Struct, tag_field="type", tag="polls.update", omit_defaults=True):
    """The polls that changed up to version `pv`; each carries its own `v`."""

    pv: int
    polls: list[PollView] = []
    blocked: list[str] | None = None


class PollOk(Ok, omit_defaults=True):
    """Reply to a poll message that succeeded: the poll it changed, the answer stored."""

    poll: PollView | None = None
    mine: Mine | None = None


_update_decoder = msgspec.json.Decoder(PollsUpdate)


def merge(updates: Sequence[PollsUpdate]) -> PollsUpdate:
    """Several updates as one: per poll the newest wins."""
    polls: dict[int, PollView] = {}
    blocked: list[str] | None = None
    for update in updates:
        for p in update.polls:
            if p.id not in polls or polls[p.id].v < p.v:
                polls[p.id] = p
        if update.blocked is not None:
            blocked = update.blocked
    return PollsUpdate(pv=max(u.pv for u in updates), polls=list(polls.values()),
                       blocked=blocked)


def coalesce(notices: Sequence[bytes]) -> str:
    """Several hub notices of one channel as the text of one `polls.update` frame."""
    if len(notices) == 1:
        return bytes(notices[0]).decode()
    return encode(merge([_update_decoder.decode(n) for n in notices])).decode()
