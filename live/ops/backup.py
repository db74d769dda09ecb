"""`salen backup FILE` and `salen restore FILE`: the database, copied while Salen runs.

SQLite: SQLite's online backup API (`sqlite3.Connection.backup`) copies a consistent
snapshot page by page while workers keep writing; the file is itself a SQLite database.
PostgreSQL: `pg_dump --format=custom` (a consistent snapshot too) and `pg_restore --clean
--if-exists --no-owner`. The tools come from PATH, else the newest
/usr/lib/postgresql/*/bin; pg_dump must be at least the server's version. The password, if
the URL has one, goes to them in PGPASSWORD, never on a command line.

Restore replaces the database's content: stop the workers first (docs/deploy.md). A
backup of one kind is refused by the other backend with a message, not half restored. The
recordings folder is files: back it up with the file system's tools (docs/deploy.md).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from live.db import is_sqlite
from live.errors import SalenError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
PAGES_PER_STEP = 1024


class BackupError(SalenError):
    """A backup or restore could not be made; the message says why."""

    status = 500
    code = "backup.failed"


def backup(database_url: str, target: Path) -> str:
    """Write a backup of the database at `database_url` to `target`; a line saying what."""
    if is_sqlite(database_url):
        return _sqlite_backup(_sqlite_path(database_url), target)
    return _pg_backup(make_url(database_url), target)


def restore(database_url: str, source: Path) -> str:
    """Replace the database's content with the backup in `source`; a line saying what."""
    try:
        head = _head(source)
    except OSError as exc:
        raise BackupError(f"cannot read {source}: {exc.strerror or exc}") from None
    if is_sqlite(database_url):
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{source} is not a SQLite backup (this database is SQLite)")
        return _sqlite_restore(source, _sqlite_path(database_url))
    if not head.startswith(PG_MAGIC):
        raise BackupError(f"{source} is not a pg_dump backup (this database is PostgreSQL)")
    return _pg_restore(make_url(database_url), source)


def _head(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(16)


def _sqlite_path(database_url: str) -> Path:
    name = make_url(database_url).database
    if not name or name == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(name)


def _sqlite_copy(source: Path, target: Path) -> None:
    with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.execute("PRAGMA busy_timeout=30000")
        dst.execute("PRAGMA busy_timeout=30000")
        src.backup(dst, pages=PAGES_PER_STEP)


def _sqlite_backup(database: Path, target: Path) -> str:
    if not database.is_file():
        raise BackupError(f"no SQLite database at {database}")
    partial = target.with_name(target.name + ".partial")
    try:
        partial.unlink(missing_ok=True)
        _sqlite_copy(database, partial)
        partial.replace(target)  # a half-written backup never has the backup's name
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup of {database} to {target} failed: {exc}") from None
    return f"backed up {database} to {target} ({target.stat().st_size} bytes)"


def _sqlite_restore(source: Path, database: Path) -> str:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as check:
            verdict = check.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(f"{source} is damaged: {verdict}")
        database.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source, database)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"restore of {source} into {database} failed: {exc}") from None
    return f"restored {database} from {source}"


def pg_tool(name: str) -> str:
    """The path of pg_dump or pg_restore: PATH first, else the newest Debian install."""
    found = shutil.which(name)
    if found:
        return found
    installed = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                       key=lambda p: int(Path(p).parts[-3].split(".")[0]))
    if not installed:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return installed[-1]


def _pg_env(url: URL) -> dict[str, str]:
    env = dict(os.environ)
    values = {"PGHOST": url.host or url.query.get("host"), "PGPORT": url.port,
              "PGUSER": url.username, "PGPASSWORD": url.password, "PGDATABASE": url.database}
    env.update({key: str(value) for key, value in values.items() if value})
    return env


def _run(args: list[str], url: URL, what: str) -> None:
    try:
        result = subprocess.run(args, env=_pg_env(url), capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, check=False)
    except OSError as exc:
        raise BackupError(f"{what} failed: {exc}") from None
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip() or result.returncode}")


def _pg_backup(url: URL, target: Path) -> str:
    partial = target.with_name(target.name + ".partial")
    try:
        _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}"],
             url, f"pg_dump of {url.database}")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return f"backed up {url.database} to {target} ({target.stat().st_size} bytes)"


def _pg_restore(url: URL, source: Path) -> str:
    _run([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          f"--dbname={url.database}", str(source)], url, f"pg_restore into {url.database}")
    return f"restored {url.database} from {source}"
