"""Questions inside an action's transaction: plain rows, read and written through Core.

The domain rules (live/qa/domain.py) change a question's attributes. Inside an action those
are `QuestionRow`s, not ORM objects: `Rows` reads them with Core statements built once,
keeps one row per question for the whole transaction (a second read of a question gives
the same row, as the ORM's identity map did), remembers what each row held when read, and
`write` sends every row that changed back in one statement: the part of the ORM's identity
map and unit of work an action needs, without its per-object bookkeeping, on the path every
moderator action takes. Only rows read or added through `Rows` are written back.

Snapshots, exports and the archive still read questions through the ORM (`Question`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from live.models.qa import Question

QUESTIONS = cast(Table, Question.__table__)


@dataclasses.dataclass(slots=True, eq=False)
class QuestionRow:
    """One row of `qa_questions`, its columns in the table's order (a test checks that)."""

    id: int
    event_id: int
    item_id: int | None
    participant: str
    name: str
    organisation: str
    text: str
    original_text: str | None
    status: str
    floor: bool
    votes: int
    queue_pos: int | None
    merged_into: int | None
    v: int
    asked_at: dt.datetime
    approved_at: dt.datetime | None
    on_air_at: dt.datetime | None
    answered_at: dt.datetime | None
    rejected_at: dt.datetime | None
    last_actor: str | None
    last_action: str | None


COLUMNS = tuple(field.name for field in dataclasses.fields(QuestionRow))
# Every column but the key may change; a changed row is written back whole.
WRITABLE = COLUMNS[1:]
values_of = cast(Any, operator.attrgetter(*COLUMNS))

SELECT = select(*(QUESTIONS.c[name] for name in COLUMNS))
BY_ID = SELECT.where(QUESTIONS.c.id == bindparam("id"))
INSERT = insert(QUESTIONS).returning(QUESTIONS.c.id)
WRITE = (
    update(QUESTIONS)
    .where(QUESTIONS.c.id == bindparam("b_id"))
    .values({name: bindparam(f"b_{name}", type_=QUESTIONS.c[name].type) for name in WRITABLE})
)
_WRITE_KEYS = tuple(f"b_{name}" for name in COLUMNS)


class Rows:
    """The questions one transaction has read or added, and what each held when read."""

    __slots__ = ("_added", "_before", "_connection", "_rows")

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._rows: dict[int, QuestionRow] = {}
        self._before: dict[int, tuple[object, ...]] = {}
        self._added: set[int] = set()

    def get(self, question_id: int) -> QuestionRow | None:
        """Question `question_id`, from this transaction's rows or the database."""
        row = self._rows.get(question_id)
        if row is not None:
            return row
        found = self.read(BY_ID, {"id": question_id})
        return found[0] if found else None

    def read(self, statement: Any, params: Mapping[str, object]) -> list[QuestionRow]:
        """The rows `statement` (built on `SELECT`) selects; known ones as they are now."""
        rows = []
        for values in self._connection.execute(statement, params):
            row = self._rows.get(values[0])
            if row is None:
                row = self._adopt(QuestionRow(*values))
            rows.append(row)
        return rows

    def add(self, row: QuestionRow) -> QuestionRow:
        """Insert a new question (its `id` is set from the database) and keep it."""
        values = {name: getattr(row, name) for name in WRITABLE}
        row.id = self._connection.execute(INSERT, values).scalar_one()
        self._added.add(row.id)
        return self._adopt(row)

    def changed(self, row: QuestionRow, columns: tuple[int, ...]) -> bool:
        """Was `row` added, or did any of `columns` (indices into `COLUMNS`) change, since it
        was read or last written?"""
        if row.id in self._added:
            return True
        now, before = values_of(row), self._before[row.id]
        return any(now[i] != before[i] for i in columns)

    def write(self) -> None:
        """Write back every row that changed since it was read or added."""
        changed = [
            dict(zip(_WRITE_KEYS, values, strict=True))
            for values in map(values_of, self._rows.values())
            if values != self._before[values[0]]
        ]
        if changed:
            self._connection.execute(WRITE, changed)
        for row in self._rows.values():
            self._before[row.id] = values_of(row)
        self._added.clear()

    def _adopt(self, row: QuestionRow) -> QuestionRow:
        self._rows[row.id] = row
        self._before[row.id] = values_of(row)
        return row
