"""Prebuilt Core statements, run on SQLite straight through the driver.

A Q&A action is five statements on the writer's thread (`live/qa/transaction.py`). At one
action a second every one of them meets cold caches, and SQLAlchemy's execution around
each (an execution context, events, a `CursorResult` and its row processing) cost about as
much as SQLite's own work: 1.1-1.4 ms of the writer's CPU per action, where the bare
`sqlite3` module needs 0.66-0.69 ms for the same statements. Run here, the whole action
takes 0.78-0.84 ms (a harness running the benchmark's moderator cycle, 0.2 s between
actions, alternating with the Core path; README "Performance").

`Prepared` compiles a statement once with SQLAlchemy's dialect and keeps its SQL and the
bind and result processors of its types, so values are written and read exactly as
through Core (datetimes as SQLite text in UTC, booleans as integers). `statements` hands
out, per connection, either `Direct` (SQLite's `sqlite3` connection: the prepared SQL on
its cursor) or `Core` (every other database: `Connection.execute`). Both sit in the same
transaction, which SQLAlchemy still begins and commits.

What `Direct` leaves out: the execution context, and with it every event but
`before_cursor_execute` (fired, with no context, only when someone listens: tests count
statements with it), and Python-side column defaults (a statement's caller passes every
column). It refuses what it cannot run (expanding or post-compiled parameters). Errors are
raised as SQLAlchemy's `DBAPIError` subclasses, as through Core.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, cast

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import ClauseElement, Executable

Params = Mapping[str, Any]
# A parameter the caller must give (a `bindparam` without a value).
_MISSING = object()

# Where a connection keeps its prepared statements (`Connection.info` lives as long as
# the DB-API connection).
INFO_KEY = "salen.prepared"


class Statements(Protocol):
    """Runs prebuilt statements on one connection, in its transaction."""

    def rows(self, statement: Executable, params: Params) -> list[tuple[Any, ...]]:
        """The rows `statement` (a SELECT, or DML with RETURNING) gives, as tuples."""
        ...

    def run(self, statement: Executable, params: Params | Sequence[Params]) -> None:
        """Execute `statement` once, or once per parameter set (executemany)."""
        ...


def statements(connection: Connection) -> Statements:
    """`Direct` on a `sqlite3` connection, `Core` on any other."""
    if connection.dialect.driver != "pysqlite":
        return Core(connection)
    cache = connection.info.setdefault(INFO_KEY, {})
    return Direct(connection, cache)


class Core:
    """Statements through `Connection.execute`."""

    __slots__ = ("_connection",)

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def rows(self, statement: Executable, params: Params) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._connection.execute(statement, params)]

    def run(self, statement: Executable, params: Params | Sequence[Params]) -> None:
        self._connection.execute(statement, params)


class Direct:
    """Statements on a `sqlite3` connection, each compiled once (`Prepared`)."""

    __slots__ = ("_cache", "_connection", "_dialect", "_driver")

    def __init__(self, connection: Connection, cache: dict[Any, Prepared]) -> None:
        self._connection = connection
        self._driver: Any = connection.connection.driver_connection
        self._dialect = connection.dialect
        self._cache = cache

    def prepared(self, statement: Executable, keys: tuple[str, ...]) -> Prepared:
        """`statement` compiled for these parameter names (once: cached on the connection).

        Keyed like SQLAlchemy's own cache, by the statement and the names: an INSERT
        without `values` sets the columns its parameters name. The cache holds each
        statement for the connection's life: pass statements built once, not per call.
        """
        key = (statement, keys)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = Prepared(statement, self._dialect, keys)
        return found

    def rows(self, statement: Executable, params: Params) -> list[tuple[Any, ...]]:
        prepared = self.prepared(statement, tuple(params))
        return prepared.read(self._execute(prepared.sql, prepared.bind(params), many=False))

    def run(self, statement: Executable, params: Params | Sequence[Params]) -> None:
        if not isinstance(params, Mapping) and len(params) == 1:
            params = params[0]  # one set runs as one execute, as through Core
        if isinstance(params, Mapping):
            prepared = self.prepared(statement, tuple(params))
            self._execute(prepared.sql, prepared.bind(params), many=False)
        elif params:
            prepared = self.prepared(statement, tuple(params[0]))
            self._execute(prepared.sql, [prepared.bind(p) for p in params], many=True)

    def _execute(self, sql: str, values: Any, *, many: bool) -> list[tuple[Any, ...]]:
        cursor = self._driver.cursor()
        try:
            events = self._connection.dispatch.before_cursor_execute
            if events:  # someone listens (a test, a tracer): tell them, with no context
                events(self._connection, cursor, sql, values, None, many)
            if many:
                cursor.executemany(sql, values)
                return []
            return cast(list[tuple[Any, ...]], cursor.execute(sql, values).fetchall())
        except self._dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, values, exc, self._dialect.loaded_dbapi.Error) from exc
        finally:
            cursor.close()


class Prepared:
    """A statement compiled once: its SQL, how its parameters are bound, how rows are read."""

    __slots__ = ("_binds", "_results", "sql")

    def __init__(self, statement: Executable, dialect: Dialect, keys: Sequence[str] | None) -> None:
        if dialect.paramstyle != "qmark":
            raise ValueError(f"Prepared takes qmark parameters, not {dialect.paramstyle}")
        # `keys`: the columns an INSERT or UPDATE without explicit `values` sets.
        compiled: Any = cast(ClauseElement, statement).compile(
            dialect=dialect, column_keys=list(keys or ())
        )
        binds = compiled.binds
        names = compiled.positiontup or []
        if "__[POSTCOMPILE" in compiled.string or any(binds[n].expanding for n in names):
            raise ValueError("Prepared cannot run expanding or post-compiled parameters")
        self.sql: str = compiled.string
        # Each positional parameter: its name, its value when the statement holds it (a
        # literal), and its type's bind processor.
        self._binds: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...] = tuple(
            (
                name,
                _MISSING if binds[name].required else binds[name].effective_value,
                binds[name].type._cached_bind_processor(dialect),
            )
            for name in names
        )
        columns = getattr(statement, "exported_columns", ())
        processors = tuple(c.type._cached_result_processor(dialect, None) for c in columns)
        self._results = processors if any(processors) else ()

    def bind(self, params: Params) -> tuple[Any, ...]:
        """The positional parameters, processed as SQLAlchemy would."""
        values = []
        for name, fixed, process in self._binds:
            value = params[name] if fixed is _MISSING else fixed
            values.append(value if process is None else process(value))
        return tuple(values)

    def read(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Rows as SQLAlchemy would return them (its types' result processors applied)."""
        processors = self._results
        if not processors:
            return rows
        return [
            tuple(v if p is None else p(v) for p, v in zip(processors, row, strict=True))
            for row in rows
        ]
