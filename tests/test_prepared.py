"""Prepared statements on SQLite run what Core would run, and read what Core would read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, bindparam, create_engine, event, select
from sqlalchemy.exc import IntegrityError

from live.models.base import Base
from live.prepared import Core, Direct, Prepared, statements
from live.qa.rows import INSERT, QUESTIONS, SELECT, WRITABLE, WRITE, QuestionRow, values_of
from live.qa.transaction import LOG, NEXT_VERSION, PANEL_ROWS, SETTINGS, WRITE_BACK

ASKED = dt.datetime(2026, 12, 5, 9, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite+pysqlite:///{tmp_path / 'p.db'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def question(**changes: Any) -> dict[str, Any]:
    row = QuestionRow(
        id=0,
        event_id=1,
        item_id=None,
        participant="p1",
        name="Kari",
        organisation="",
        text="Hvorfor?",
        original_text=None,
        status="approved",
        floor=True,
        votes=2,
        queue_pos=None,
        merged_into=None,
        v=3,
        asked_at=ASKED,
        approved_at=None,
        on_air_at=None,
        answered_at=None,
        rejected_at=None,
        last_actor=None,
        last_action=None,
    )
    values = {name: getattr(row, name) for name in WRITABLE}
    return values | changes


def emitted(connection: Connection) -> list[tuple[str, Any]]:
    """What reaches the cursor from here on: (SQL, parameters)."""
    seen: list[tuple[str, Any]] = []

    def record(_c: object, _cursor: object, sql: str, params: Any, *_rest: object) -> None:
        seen.append((sql, params))

    event.listen(connection, "before_cursor_execute", record)
    return seen


def test_sqlite_gets_direct_and_caches_each_statement(engine: Engine) -> None:
    with engine.begin() as connection:
        direct = statements(connection)
        assert isinstance(direct, Direct)
        first = direct.prepared(SELECT, ())
        assert direct.prepared(SELECT, ()) is first
        # A later transaction on the same DB-API connection finds it compiled.
        assert statements(connection).prepared(SELECT, ()) is first  # type: ignore[attr-defined]


def test_each_statement_sends_the_sql_and_parameters_core_sends(engine: Engine) -> None:
    """Every statement of an action, run both ways: the same SQL with the same (processed)
    parameters reaches the cursor, so the database holds the same values."""
    log = {
        "event_id": 1,
        "v": 3,
        "at": ASKED,
        "actor": "Mod",
        "action": "approve",
        "question_id": 1,
    }
    settings = {
        "event": 1,
        "new_premoderation": True,
        "new_allow_anonymous": False,
        "new_max_length": 300,
        "new_open": True,
        "new_public_version": 3,
        "new_settings_v": 0,
        "new_panel_v": 3,
    }
    write = {f"b_{name}": value for name, value in question(queue_pos=1).items()} | {"b_id": 1}
    cases: list[tuple[Any, Any, bool]] = [  # statement, parameters, returns rows
        (INSERT, question(), True),
        (NEXT_VERSION, {"event": 1}, True),
        (PANEL_ROWS, {"event": 1, "question": 1}, True),
        (WRITE, [write], False),
        (LOG, [log, log | {"action": "now"}], False),
        (WRITE_BACK, settings, False),
    ]
    for statement, params, returns_rows in cases:
        sent: list[list[tuple[str, Any]]] = []
        for connection in (engine.connect(), engine.connect()):
            with connection:
                runner: Core | Direct = Core(connection) if not sent else Direct(connection, {})
                seen = emitted(connection)
                if returns_rows:
                    runner.rows(statement, params)
                else:
                    runner.run(statement, params)
                connection.rollback()
            sent.append([(sql, list(p) if isinstance(p, list) else p) for sql, p in seen])
        assert sent[0] == sent[1], statement
        assert sent[0], statement


def test_direct_reads_and_writes_what_core_does(engine: Engine) -> None:
    """A question written directly reads back the same through Core, and the other way."""
    with engine.begin() as connection:
        connection.execute(SETTINGS.insert().values(event_id=1))
        direct, core = statements(connection), Core(connection)
        (by_direct,) = direct.rows(INSERT, question())[0]
        (by_core,) = core.rows(INSERT, question())[0]
        rows = {
            kind: [r for r in runner.rows(SELECT.order_by(QUESTIONS.c.id), {})]
            for kind, runner in (("direct", direct), ("core", core))
        }
        assert rows["direct"] == rows["core"]
        first, second = (QuestionRow(*values) for values in rows["direct"])
        assert (first.id, second.id) == (by_direct, by_core)
        assert values_of(first)[1:] == values_of(second)[1:]
        assert first.asked_at == ASKED and first.asked_at.tzinfo == dt.UTC
        assert first.floor is True and first.approved_at is None
        raw = connection.exec_driver_sql("SELECT asked_at, floor FROM qa_questions").all()
        assert raw[0] == raw[1]  # stored alike: UTC text, an integer
        version = direct.rows(NEXT_VERSION, {"event": 1})
        assert version == core.rows(select(*SETTINGS.c), {})
        assert version[0][1] is True  # premoderation, as a bool


def test_errors_are_sqlalchemys_and_listeners_see_direct_statements(engine: Engine) -> None:
    with engine.connect() as connection:
        seen = emitted(connection)
        direct = statements(connection)
        with pytest.raises(IntegrityError, match="NOT NULL"):
            direct.run(
                LOG,
                {
                    "event_id": None,
                    "v": 1,
                    "at": ASKED,
                    "actor": "x",
                    "action": "approve",
                    "question_id": None,
                },
            )
        assert [sql.split()[0:3] for sql, _ in seen] == [["INSERT", "INTO", "qa_actions"]]


def test_statements_it_cannot_run_are_refused(engine: Engine) -> None:
    expanding = SELECT.where(QUESTIONS.c.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="expanding"):
        Prepared(expanding, engine.dialect, [])


def test_an_insert_is_compiled_for_the_columns_it_is_given(engine: Engine) -> None:
    """As through Core: the same INSERT with other parameter names sets those columns."""
    entry = {"event_id": 1, "v": 1, "at": ASKED, "actor": "Mod", "action": "approve"}
    with engine.begin() as connection:
        direct = statements(connection)
        direct.run(LOG, entry)
        direct.run(LOG, entry | {"question_id": 7})
        found = connection.exec_driver_sql("SELECT question_id FROM qa_actions ORDER BY id")
        assert [row[0] for row in found] == [None, 7]
