"""How a question row is shown: in full to moderators, as their own to askers."""

from __future__ import annotations

import datetime as dt

from live.models.qa import Question
from live.qa.domain import QaStatus
from live.qa.messages import QuestionView
from live.qa.rows import QuestionRow

# A question as the ORM loads it (snapshots) or as an action's transaction holds it.
Shown = Question | QuestionRow


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def question_view(q: Shown) -> QuestionView:
    """The full (moderator) view of a question row."""
    return QuestionView(
        id=q.id,
        v=q.v,
        status=QaStatus(q.status),
        text=q.text,
        name=q.name,
        organisation=q.organisation,
        votes=q.votes,
        item=q.item_id,
        floor=q.floor,
        merged_into=q.merged_into,
        asked_at=_iso(q.asked_at),
        approved_at=_iso(q.approved_at),
        on_air_at=_iso(q.on_air_at),
        answered_at=_iso(q.answered_at),
        original_text=q.original_text,
        by=q.last_actor,
        action=q.last_action,
    )


def own_view(q: Shown) -> QuestionView:
    """The asker's view of their own question: its status, without moderator notes."""
    if q.status != QaStatus.PENDING:
        return question_view(q).public()
    return QuestionView(
        id=q.id,
        v=q.v,
        status=QaStatus.PENDING,
        text=q.text,
        name=q.name,
        organisation=q.organisation,
        item=q.item_id,
        asked_at=_iso(q.asked_at),
    )
