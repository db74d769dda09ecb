"""How a poll row and its counts are shown: in full to moderators, as allowed to viewers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from live.models.polls import Poll, PollAnswer
from live.polls.domain import EntryStatus, PollKind, PollStatus, effective_status
from live.polls.messages import EntryView, Mine, PollView, Results, WordCount

# Word cloud entries shown (the most given); the rest only in the export.
TOP_WORDS = 60


def rating_values(scale: int) -> list[int]:
    """The values of a rating scale: 1–5 stars, or 0–10."""
    return list(range(1 if scale == 5 else 0, scale + 1))


def results(
    poll: Poll, counts: Mapping[str, int], entries: Iterable[PollAnswer] = ()
) -> Results:
    """A poll's results from its counts (and, for open text, its answers)."""
    kind = PollKind(poll.kind)
    if kind in (PollKind.SINGLE, PollKind.MULTIPLE):
        return Results(counts=[counts.get(str(i), 0) for i in range(len(poll.options))])
    if kind == PollKind.RATING:
        values = rating_values(poll.scale)
        dist = [counts.get(str(v), 0) for v in values]
        total = sum(dist)
        mean = sum(n * v for v, n in zip(values, dist, strict=True)) / total if total else None
        return Results(counts=dist, average=None if mean is None else round(mean, 2))
    if kind == PollKind.RANKING:
        ranks = [
            round(counts.get(str(i), 0) / poll.answers, 2) if poll.answers else 0.0
            for i in range(len(poll.options))
        ]
        return Results(ranks=ranks)
    if kind == PollKind.WORDS:
        words = sorted(
            ((k[2:], n) for k, n in counts.items() if k.startswith("w:") and n > 0),
            key=lambda kv: (-kv[1], kv[0]),
        )
        return Results(words=[WordCount(w, n) for w, n in words[:TOP_WORDS]])
    return Results(entries=[entry_view(poll, a) for a in entries])


def entry_view(poll: Poll, answer: PollAnswer) -> EntryView:
    return EntryView(
        id=answer.id,
        text=str(answer.value) if PollKind(poll.kind) == PollKind.TEXT else ", ".join(answer.value),
        name="" if poll.anonymous else answer.name,
        status=EntryStatus(answer.status),
        starred=answer.starred,
    )


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def poll_view(poll: Poll, result: Results | None, now: dt.datetime) -> PollView:
    """The full (moderator) view of a poll."""
    return PollView(
        id=poll.id,
        v=poll.v,
        kind=PollKind(poll.kind),
        question=poll.question,
        status=effective_status(poll, now),
        options=list(poll.options),
        max_choices=poll.max_choices,
        scale=poll.scale,
        anonymous=poll.anonymous,
        final=poll.final,
        moderated=poll.moderated,
        survey=poll.survey,
        revealed=poll.revealed,
        closes_at=_iso(poll.closes_at),
        opened_at=_iso(poll.opened_at),
        revealed_at=_iso(poll.revealed_at) if poll.revealed else None,
        item=poll.item_id,
        answers=poll.answers,
        results=result,
    )


def public_view(view: PollView) -> PollView | None:
    """What viewers may see: no drafts or surveys; results once revealed, approved entries."""
    if view.status == PollStatus.DRAFT or view.survey:
        return None
    if not view.revealed or view.results is None:
        return msgspec.structs.replace(view, results=None)
    entries = [
        EntryView(id=e.id, text=e.text, name=e.name)
        for e in view.results.entries if e.status == EntryStatus.APPROVED
    ]
    shown = msgspec.structs.replace(view.results, entries=entries)
    return msgspec.structs.replace(view, results=shown)


def mine(poll: Poll, value: Any) -> Mine:
    """A participant's stored answer as they see it."""
    match PollKind(poll.kind):
        case PollKind.SINGLE | PollKind.MULTIPLE:
            return Mine(poll=poll.id, choices=list(value))
        case PollKind.RATING:
            return Mine(poll=poll.id, rating=int(value))
        case PollKind.WORDS:
            return Mine(poll=poll.id, words=list(value))
        case PollKind.TEXT:
            return Mine(poll=poll.id, text=str(value))
        case PollKind.RANKING:
            return Mine(poll=poll.id, ranking=list(value))
