"""Starting the processes a benchmark needs: servers pinned to core 0, the Node load generator
pinned to core 1, and a seeded Salen database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
NODE = ROOT / "bench" / "node"
SERVER_CORE = "0"
LOADGEN_CORE = "1"
MOD_TOKEN = "bench-mod"
SLUG = "bench"


class BenchError(RuntimeError):
    """A benchmark process misbehaved; the message says which and why."""


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    """Block until something accepts on `port`, or fail with the process's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"server on port {port} did not start:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def pinned(cmd: list[str], core: str, log: Path, env: dict[str, str] | None = None,
           port: int | None = None, cwd: Path = ROOT) -> Iterator[subprocess.Popen[bytes]]:
    """Run `cmd` under `taskset -c core` (taskset execs, so the pid is the command's)."""
    WORK.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(["taskset", "-c", core, *cmd], cwd=cwd, env=env or dict(os.environ),
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        if port is not None:
            wait_listening(port, proc, log)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def salen_env(database_url: str, hub_url: str = "memory://") -> dict[str, str]:
    """Environment of a `salen serve` process for the benchmark."""
    return dict(os.environ) | {
        "SALEN_DATABASE_URL": database_url,
        "SALEN_HUB_URL": hub_url,
        "SALEN_SECRET_KEY": "bench-secret",
        "SALEN_OUTBOX_DIR": str(WORK / "outbox"),
        "SALEN_RECORDINGS_DIR": str(WORK / "recordings"),
    }


def salen_cmd(port: int) -> list[str]:
    """The real `salen serve` command line."""
    return [sys.executable, "-m", "live.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]


class Loadgen:
    """The Node load generator (bench/node/loadgen.js) on core 1, spoken to in JSON lines."""

    def __init__(self, log: Path) -> None:
        self._err = log.open("wb")
        self.proc = subprocess.Popen(
            ["taskset", "-c", LOADGEN_CORE, "node", "--max-old-space-size=8192", "loadgen.js"],
            cwd=NODE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err,
        )

    def command(self, cmd: dict[str, Any], on_event: Callable[[str], None] | None = None,
                timeout: float = 300) -> dict[str, Any]:
        """Send one command; call `on_event` for event lines; return the answer."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(cmd).encode() + b"\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, left))
            if not ready:
                raise BenchError(f"load generator gave no answer to {cmd['cmd']} in {timeout} s")
            line = self.proc.stdout.readline()
            if not line:
                raise BenchError("load generator exited")
            answer: dict[str, Any] = json.loads(line)
            if "event" in answer:
                if on_event:
                    on_event(answer["event"])
                continue
            if not answer.pop("ok"):
                raise BenchError(f"load generator failed: {answer.get('error')}")
            return answer

    def close(self) -> None:
        """Stop the generator."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._err.close()


async def seed_salen(database_url: str, pending: int) -> list[int]:
    """Migrate, create the event, queue three questions, and ask `pending` ones to approve."""
    from live.db import create_engine, open_writer, sessionmaker
    from live.hub import open_hub
    from live.identity import Participant
    from live.migrate import upgrade_async
    from live.models import Event
    from live.qa.messages import Ask, Enqueue
    from live.qa.service import Actor, QaService

    await upgrade_async(database_url)
    engine = create_engine(database_url)
    db = sessionmaker(engine)
    async with db() as session, session.begin():
        event = Event(slug=SLUG, title="Benchmark", moderator_token=MOD_TOKEN)
        session.add(event)
    async with open_hub("memory://") as hub, open_writer(db) as writer:
        qa = QaService(db, hub, writer)
        await qa.ensure(event.id)
        mod = Actor(Participant("bench-moderator"), moderator=True, label="moderator")
        for i in range(3):
            q = await qa.ask(event.id, mod, Ask(id=0, text=f"Queued question {i} " + "q" * 80))
            await qa.panel(event.id, mod, Enqueue(id=1, question=q.id))
        ids = []
        for i in range(pending):
            viewer = Actor(Participant(f"bench-viewer-{i}"))
            text = f"Question {i} from the audience, about the budget and the timetable? " * 2
            ids.append((await qa.ask(event.id, viewer, Ask(id=0, text=text, anonymous=True))).id)
    await engine.dispose()
    return ids


def fresh_database(name: str, pending: int) -> tuple[str, list[int]]:
    """A new SQLite database under bench/.work with the event seeded."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    return url, asyncio.run(seed_salen(url, pending))


@dataclass
class Fleet:
    """nginx in front of two workers and redis-server: pids by group, and the ports."""

    groups: dict[str, list[int]]
    listen: int
    ports: list[int]


@contextlib.contextmanager
def nginx_fleet(database_url: str, name: str, env: Mapping[str, str] | None = None,
                site: Callable[[str], str] | None = None) -> Iterator[Fleet]:
    """Two `salen serve` workers sharing `database_url` with a redis-server hub, and Debian's
    nginx with deploy/nginx/salen.conf (templated as tests/support/deploy.py does) in front;
    every process on SERVER_CORE. `env` goes over the workers' environment; `site`, when
    given, rewrites the templated site configuration (a benchmark's own location)."""
    from tests.support.deploy import MAIN_CONF, NGINX, site_config, socket_dir, socket_path
    from tests.support.servers import start_redis

    with start_redis() as redis, contextlib.ExitStack() as stack:
        redis_pid = pid_of(b"redis-server", str(redis.port).encode())
        subprocess.run(["taskset", "-a", "-p", "-c", SERVER_CORE, str(redis_pid)],
                       check=False, capture_output=True)
        worker_env = salen_env(database_url, redis.url) | dict(env or {})
        ports = [free_port(), free_port()]
        sockets = socket_dir()  # nginx reaches the workers on Unix sockets, as shipped
        stack.callback(shutil.rmtree, sockets, True)
        workers = [stack.enter_context(pinned(
            [*salen_cmd(p), "--uds", str(socket_path(sockets, p))], SERVER_CORE,
            WORK / f"{name}-worker-{i}.log", worker_env, p)) for i, p in enumerate(ports)]
        prefix, listen = WORK / "nginx", free_port()
        prefix.mkdir(parents=True, exist_ok=True)
        text = site_config(ports, listen, WORK / "recordings", prefix / "access.log", sockets)
        (prefix / "salen.conf").write_text(site(text) if site else text)
        (prefix / "nginx.conf").write_text(
            "worker_rlimit_nofile 65536;\n"
            + MAIN_CONF.format(prefix=prefix, user="user root;" if os.geteuid() == 0 else ""))
        cmd = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e",
               str(prefix / "error.log"), "-g", "daemon off;"]
        master = stack.enter_context(pinned(cmd, SERVER_CORE, WORK / f"{name}-nginx.log",
                                            port=listen))
        groups = {"workers": [w.pid for w in workers], "redis": [redis_pid],
                  "nginx": [master.pid, *children(master.pid)]}
        yield Fleet(groups, listen, ports)


def pid_of(name: bytes, arg: bytes) -> int:
    """The pid of a process whose command line holds `name` and `arg` (0 if none)."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                cmdline = (proc / "cmdline").read_bytes()
                if name in cmdline and arg in cmdline:
                    return int(proc.name)
    return 0


def children(pid: int) -> list[int]:
    """The pids of `pid`'s child processes (nginx's workers)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(proc.name))
    return found
