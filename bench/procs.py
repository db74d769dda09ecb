"""Starting the processes a benchmark needs: servers pinned to core 0, the Node load generator
pinned to core 1, and a seeded Salen database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
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
