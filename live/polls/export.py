"""Poll results after the fact: CSV and .xlsx, per poll or all of an event's polls.

Rows are results (one per option, rating value, word or rank), and in the workbook a second
sheet holds every answer. Text that begins with = + - @ is prefixed with an apostrophe so
spreadsheets show it instead of evaluating it, and openpyxl is given every cell as a plain
value (never a formula).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session

from live.models.polls import Poll, PollAnswer
from live.polls.domain import PollKind
from live.polls.messages import PollView, Results
from live.polls.views import rating_values

RESULT_COLUMNS = ("poll", "question", "kind", "status", "answers", "answer", "count",
                  "percent", "average")
ANSWER_COLUMNS = ("poll", "question", "answer_id", "name", "answer", "status", "starred",
                  "answered_at")


def defuse(value: Any) -> Any:
    """Text a spreadsheet would take for a formula, made plain text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def result_rows(polls: Sequence[PollView]) -> list[tuple[Any, ...]]:
    """One row per option, rating value, word or ranked option of each poll."""
    return [row for p in polls if p.results is not None for row in _poll_rows(p, p.results)]


def _poll_rows(p: PollView, r: Results) -> list[tuple[Any, ...]]:
    head = (p.id, p.question, p.kind.value, p.status.value, p.answers)

    def pct(n: int) -> float:
        return round(100 * n / p.answers, 1) if p.answers else 0.0

    if p.kind in (PollKind.SINGLE, PollKind.MULTIPLE):
        return [(*head, o, n, pct(n), "") for o, n in zip(p.options, r.counts, strict=False)]
    if p.kind == PollKind.RATING:
        return [(*head, str(v), n, pct(n), r.average)
                for v, n in zip(rating_values(p.scale), r.counts, strict=False)]
    if p.kind == PollKind.RANKING:
        return [(*head, o, "", "", rank) for o, rank in zip(p.options, r.ranks, strict=False)]
    if p.kind == PollKind.WORDS:
        return [(*head, w.text, w.n, pct(w.n), "") for w in r.words]
    return [(*head, e.text, "", "", "") for e in r.entries if e.status != "hidden"]


def answer_rows(session: Session, poll_ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """Every stored answer of the polls (names only on named polls)."""
    rows: list[tuple[Any, ...]] = []
    found = session.execute(
        select(Poll, PollAnswer).join(PollAnswer, PollAnswer.poll_id == Poll.id)
        .where(Poll.id.in_(poll_ids)).order_by(Poll.position, Poll.id, PollAnswer.id))
    for poll, answer in found:
        rows.append((poll.id, poll.question, answer.id, "" if poll.anonymous else answer.name,
                     _answer_text(poll, answer.value), answer.status, answer.starred,
                     answer.answered_at.isoformat()))
    return rows


def _answer_text(poll: Poll, value: Any) -> str:
    kind = PollKind(poll.kind)
    if kind in (PollKind.SINGLE, PollKind.MULTIPLE):
        return "; ".join(poll.options[i] for i in value if 0 <= i < len(poll.options))
    if kind == PollKind.RANKING:
        return "; ".join(f"{n}. {poll.options[i]}" for n, i in enumerate(value, start=1))
    if kind == PollKind.WORDS:
        return "; ".join(value)
    return str(value)


def to_csv(rows: Sequence[tuple[Any, ...]], columns: Sequence[str] = RESULT_COLUMNS) -> str:
    """CSV with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([defuse(v) for v in row] for row in rows)
    return out.getvalue()


def to_xlsx(results: Sequence[tuple[Any, ...]], answers: Sequence[tuple[Any, ...]]) -> bytes:
    """A workbook with a "Results" and an "Answers" sheet."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Results"
    for title, columns, rows in (("Results", RESULT_COLUMNS, results),
                                 ("Answers", ANSWER_COLUMNS, answers)):
        if title != "Results":
            sheet = book.create_sheet(title)
        sheet.append(list(columns))
        for row in rows:
            sheet.append([defuse(v) for v in row])
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                if cell.data_type == "f":  # openpyxl reads a leading "=" as a formula
                    cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
