"""The Q&A of an event after the fact, as CSV or JSON, with the time of each step.

The recording archive places questions on its timeline with `asked_at`, `approved_at`,
`on_air_at` and `answered_at`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.models.qa import Question

COLUMNS = (
    "id", "status", "text", "original_text", "name", "organisation", "votes", "item_id",
    "floor", "merged_into", "asked_at", "approved_at", "on_air_at", "answered_at",
    "rejected_at",
)  # fmt: skip


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


async def export_rows(db: async_sessionmaker[AsyncSession], event_id: int) -> list[dict[str, Any]]:
    """Every question of the event in the order asked, one dict per question."""
    async with db() as session:
        questions = await session.scalars(
            select(Question)
            .where(Question.event_id == event_id)
            .order_by(Question.asked_at, Question.id)
        )
        return [{c: _value(getattr(q, c)) for c in COLUMNS} for q in questions]


def to_csv(rows: list[dict[str, Any]]) -> str:
    """CSV with a header row; empty cells for missing values."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        # A leading = + - @ would make spreadsheets evaluate the text as a formula.
        writer.writerow({k: _defuse(v) for k, v in row.items()})
    return out.getvalue()


def to_json(rows: list[dict[str, Any]]) -> bytes:
    """A JSON array of the rows."""
    return msgspec.json.encode(rows)


def _defuse(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
