"""Throwaway redis-server and PostgreSQL instances for tests and benchmarks.

Both run from Debian's binaries in a temporary directory on a free loopback port and are
stopped when the context manager exits. Loaded as a pytest plugin for the fixtures.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

STARTUP_TIMEOUT = 30.0
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class ServerStartError(RuntimeError):
    """A helper server did not come up; the message carries its log."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _read_log(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-4000:]
    except OSError:
        return "(no log)"


# --- redis -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedisServer:
    """A running redis-server: its port and the URL of database 0."""

    port: int
    directory: Path
    pid: int = 0

    @property
    def url(self) -> str:
        """redis:// URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def pause(self) -> None:
        """SIGSTOP the server: connections stay open and nothing answers."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT a paused server."""
        os.kill(self.pid, signal.SIGCONT)


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def start_redis(port: int | None = None) -> Iterator[RedisServer]:
    """Run a redis-server without persistence on loopback until exit (on `port`, or a
    free one); exiting kills it even when paused."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    with tempfile.TemporaryDirectory(prefix="salen-redis-") as tmp:
        directory = Path(tmp)
        port = port or free_port()
        log = directory / "redis.log"
        args = [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            tmp,
            "--logfile",
            str(log),
            "--daemonize",
            "no",
            "--databases",
            "16",
        ]
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not _redis_ping(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise ServerStartError(f"redis-server did not start:\n{_read_log(log)}")
                time.sleep(0.02)
            yield RedisServer(port=port, directory=directory, pid=proc.pid)
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- PostgreSQL ----------------------------------------------------------------------------


def postgres_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin that holds initdb."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        raise ServerStartError("PostgreSQL binaries not found; apt-get install postgresql")
    newest = max(found, key=lambda p: int(Path(p).parent.parent.name.split(".")[0]))
    return Path(newest).parent


def _unprivileged_user() -> pwd.struct_passwd | None:
    """The account PostgreSQL runs as when we are root (it refuses to run as root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ServerStartError("running as root and neither 'postgres' nor 'nobody' exists")


@dataclass
class PostgresServer:
    """A running throwaway PostgreSQL with trust auth for the 'postgres' superuser."""

    port: int
    directory: Path
    bin_dir: Path
    user: pwd.struct_passwd | None = field(default=None, repr=False)

    def url(self, name: str = "postgres", *, driver: str = "postgresql+asyncpg") -> str:
        """URL of database `name` (SQLAlchemy asyncpg form by default)."""
        return f"{driver}://postgres@127.0.0.1:{self.port}/{name}"

    def dsn(self, name: str = "postgres") -> str:
        """libpq/asyncpg DSN of database `name`."""
        return self.url(name, driver="postgresql")

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run one SQL command through psql and return its unaligned output."""
        result = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ],
            check=False,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed for {sql!r}: {result.stderr.strip()}")
        return result.stdout.strip()

    def create_database(self, name: str) -> str:
        """Create a fresh empty database and return its postgresql+asyncpg:// URL."""
        _check_identifier(name)
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.psql(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        return self.url(name)

    def stop(self) -> None:
        """Stop the server now (immediate shutdown), as when it goes down mid-request."""
        _run_as(self.user, [str(self.bin_dir / "pg_ctl"), "-D", str(self.directory / "data"),
                            "-m", "immediate", "-w", "stop"])

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting any sessions still open on it."""
        _check_identifier(name)
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _check_identifier(name: str) -> None:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"database name must match {_IDENTIFIER.pattern}, got {name!r}")


def _run_as(user: pwd.struct_passwd | None, args: list[str]) -> None:
    """Run a PostgreSQL tool, dropping root privileges to `user` when given."""
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    uid = gid = None
    groups: list[int] | None = None
    if user is not None:
        uid, gid, groups = user.pw_uid, user.pw_gid, []
        env["HOME"] = tempfile.gettempdir()
        env["USER"] = user.pw_name
    result = subprocess.run(
        args,
        check=False,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=tempfile.gettempdir(),  # the postgres user may not enter our working directory
        user=uid,
        group=gid,
        extra_groups=groups,
    )
    if result.returncode != 0:
        raise ServerStartError(f"{args[0]} failed:\n{result.stdout}\n{result.stderr}")


def _write_config(data: Path, port: int, sockets: Path) -> None:
    # Durability is irrelevant for a throwaway test cluster; speed is not.
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": f"'{sockets}'",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
        "shared_buffers": "32MB",
        "timezone": "'UTC'",
        "log_min_messages": "warning",
    }
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("\n# salen test cluster\n")
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())


@contextlib.contextmanager
def start_postgres() -> Iterator[PostgresServer]:
    """Run a throwaway PostgreSQL cluster on a free loopback port until exit."""
    bin_dir = postgres_bin_dir()
    user = _unprivileged_user()
    with tempfile.TemporaryDirectory(prefix="salen-pg-") as tmp:
        root = Path(tmp)
        data, sockets, log = root / "data", root / "sock", root / "postgres.log"
        sockets.mkdir()
        if user is not None:
            for path in (root, sockets):
                os.chown(path, user.pw_uid, user.pw_gid)
        _run_as(
            user,
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
        )
        port = free_port()
        _write_config(data, port, sockets)
        pg_ctl = str(bin_dir / "pg_ctl")
        try:
            _run_as(
                user,
                [
                    pg_ctl,
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    str(int(STARTUP_TIMEOUT)),
                    "start",
                ],
            )
        except ServerStartError as exc:
            raise ServerStartError(f"{exc}\n{_read_log(log)}") from None
        try:
            yield PostgresServer(port=port, directory=root, bin_dir=bin_dir, user=user)
        finally:
            if (data / "postmaster.pid").exists():  # not stopped by the test already
                _run_as(user, [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])


# --- pytest fixtures -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the whole test session."""
    with start_redis() as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    """redis:// URL of database 0 on the session's redis-server (shared between tests)."""
    return redis_server.url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster for the whole test session."""
    with start_postgres() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """postgresql+asyncpg:// URL of a fresh database, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)
