"""Poll benchmark: N viewers on one `salen serve`, V of them vote within S seconds, next to
a baseline of the same viewers upvoting one question (`qa.vote`) in the same run.

    python -m bench.polls                            # the issue's size: 10,000 viewers, 5,000 votes in 10 s
    python -m bench.polls --viewers 300 --votes 150  # a smoke run
    python -m bench.polls --processes 2              # two processes through Redis

The server (memory hub, SQLite) runs on core 0, the load generator on core 1: the voters
in this script (asyncio + `websockets`, one connection per voter, from many loopback
addresses so the per-address limits of `live.realtime.limits` see an audience, not one
flooding client), the viewers that only watch in the Node load generator
(bench/node/loadgen.js), whose frames cost it less to read.
Votes are open-loop: vote k is sent at t0 + k·S/V whatever came back. Reported per mode:

- acked: votes answered `ok` (every one should be), errors by code;
- counts: the moderator's final count against the votes sent (must be equal);
- display lag: a read-only display connection (`?key=`) watches the count; for the k-th
  acknowledged vote, the time from its `ok` until the display first shows a count ≥ k
  (p50, p99, max); the issue asks p99 ≤ 1 s;
- CPU per vote: the server's CPU-seconds (all threads) over the voting window / votes;
- generator: the load generator's own CPU share; above 85 % the run measures it, not Salen.

With `--processes 2` two `salen serve` processes share the SQLite file and a redis-server
(`SALEN_HUB_URL=redis://`), all three on core 0; the viewers alternate between them, the
moderator is on the first, and each has its own display: "final count" shows both
displays' counts, equal only when both show every vote sent, and the lags are both
displays' together; the CPU adds both processes and redis-server.

Nothing here changes what Salen does; the figures go to bench/results/ by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench.machine import process_cpu
from bench.procs import (
    LOADGEN_CORE,
    MOD_TOKEN,
    SERVER_CORE,
    SLUG,
    WORK,
    Loadgen,
    free_port,
    pinned,
    salen_cmd,
    salen_env,
)

GENERATOR_LIMIT = 0.85
# Viewers per loopback source address (127.0.x.y): well inside the per-address buckets.
PER_ADDRESS = 40
CONNECT_BATCH = 200


@dataclass
class Result:
    """One mode's figures."""

    mode: str
    viewers: int
    votes: int
    acked: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    final_counts: list[int] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    cpu_per_vote_ms: float = 0.0
    generator_share: float = 0.0
    window: float = 0.0

    def row(self) -> str:
        lags = sorted(self.lags) or [float("nan")]
        p = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))] * 1000
        counts = self.final_counts or [0]
        ok = "yes" if all(c == self.acked == self.votes for c in counts) else "NO"
        valid = "" if self.generator_share <= GENERATOR_LIMIT else " (generator-bound)"
        return (f"| {self.mode} | {self.viewers} | {self.votes} | {self.acked} | "
                f"{' / '.join(map(str, counts))} | {ok} | {p(0.5):.0f} | {p(0.99):.0f} | {lags[-1] * 1000:.0f} | "
                f"{self.cpu_per_vote_ms:.2f} | {self.generator_share:.0%}{valid} |")


def source(i: int) -> str:
    n = i // PER_ADDRESS
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


async def seed(url: str) -> tuple[str, int]:
    """Migrate, create the event and one question from the floor; its display key and id."""
    from live.db import create_engine, open_writer, sessionmaker
    from live.hub import open_hub
    from live.identity import Participant
    from live.migrate import upgrade_async
    from live.models import Event
    from live.qa.messages import Ask
    from live.qa.service import Actor, QaService

    await upgrade_async(url)
    engine = create_engine(url)
    db = sessionmaker(engine)
    async with db() as session, session.begin():
        event = Event(slug=SLUG, title="Benchmark", moderator_token=MOD_TOKEN)
        session.add(event)
    async with open_hub("memory://") as hub, open_writer(db) as writer:
        qa = QaService(db, hub, writer)
        await qa.ensure(event.id)
        mod = Actor(Participant("bench-moderator"), moderator=True, label="moderator")
        question = await qa.ask(event.id, mod, Ask(id=0, text="Should the region share a plan?"))
    await engine.dispose()
    return event.display_token, question.id


class Viewer:
    """One viewer's socket: reads everything, parses only replies to its own vote."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.acked: asyncio.Future[tuple[float, str]] = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(self.read())

    async def read(self) -> None:
        try:
            async for frame in self.ws:
                text = frame if isinstance(frame, str) else frame.decode()
                if text.startswith(('{"type":"ok"', '{"type":"error"')):
                    reply = json.loads(text)
                    if reply.get("id") == 1 and not self.acked.done():
                        self.acked.set_result((time.monotonic(), reply.get("code", "ok")))
        except Exception:  # noqa: BLE001  (a dropped viewer shows as an unacked vote)
            return


class Display:
    """The big screen: the count it shows, and when it first showed each count."""

    def __init__(self, ws: ClientConnection, count: Callable[[dict[str, Any]], int | None]) -> None:
        self.ws, self.count = ws, count
        self.seen: list[tuple[int, float]] = []
        self.task = asyncio.create_task(self.read())

    async def read(self) -> None:
        async for frame in self.ws:
            n = self.count(json.loads(frame))
            if n is not None and (not self.seen or n > self.seen[-1][0]):
                self.seen.append((n, time.monotonic()))

    def first_at_least(self, n: int) -> float | None:
        return next((t for count, t in self.seen if count >= n), None)


async def call(ws: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    await ws.send(json.dumps(message))
    while True:
        reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if reply.get("id") == message["id"] and reply["type"] in ("ok", "error"):
            return reply  # type: ignore[no-any-return]


async def connect_viewers(bases: list[str], n: int) -> list[Viewer]:
    """`n` viewers, taking the servers in turn."""
    viewers: list[Viewer] = []
    for start in range(0, n, CONNECT_BATCH):
        sockets = await asyncio.gather(*(
            connect(bases[i % len(bases)], local_addr=(source(i), 0), max_size=None,
                    ping_interval=None, compression=None)
            for i in range(start, min(n, start + CONNECT_BATCH))))
        viewers += [Viewer(ws) for ws in sockets]
    return viewers


async def run_mode(mode: str, ports: list[int], pids: list[int], key: str, question: int,
                   viewers_n: int, votes: int, seconds: float) -> Result:
    bases = [f"ws://127.0.0.1:{port}/ws/events/{SLUG}" for port in ports]
    result = Result(mode, viewers_n, votes)
    async with connect(f"{bases[0]}?token={MOD_TOKEN}", max_size=None) as mod:
        if mode == "poll":
            made = await call(mod, {"type": "poll.create", "id": 1, "kind": "single",
                                    "question": "Bench?", "options": ["Yes", "No", "Maybe"],
                                    "launch": True})
            target = made["poll"]["id"]
            await call(mod, {"type": "poll.reveal", "id": 2, "poll": target})
            message = lambda k: {"type": "poll.answer", "id": 1, "poll": target,
                                 "choices": [k % 3], "key": f"k{k}"}
            count = lambda m: next((p.get("answers", 0) for p in m.get("polls", [])
                                    if p["id"] == target), None)
        else:
            target = question
            message = lambda k: {"type": "qa.vote", "id": 1, "question": target}
            # A vote travels as the question's count (`votes`), a moderator's change whole.
            count = lambda m: next((q.get("votes", 0) for q in (*m.get("questions", []),
                                                                 *m.get("votes", []))
                                    if q["id"] == target), None)
        async with contextlib.AsyncExitStack() as screens:
            displays = [Display(await screens.enter_async_context(
                connect(f"{base}?key={key}", max_size=None)), count) for base in bases]
            # The voters here; the viewers that only watch in the Node load generator (on
            # the same core), so that decoding their frames does not hold up the votes. They
            # come first: the generator's pipes need low descriptors (`select`).
            watchers = await asyncio.to_thread(watch, bases, viewers_n - votes)
            screens.callback(watchers.close)
            crowd = await connect_viewers(bases, votes)
            await asyncio.sleep(2)  # every first frame out
            result.window, result.generator_share, result.cpu_per_vote_ms = await vote(
                crowd, message, votes, seconds, pids, watchers.proc.pid)
            acks = [v.acked.result() for v in crowd[:votes] if v.acked.done()]
            for _, code in acks:
                if code != "ok":
                    result.errors[code] = result.errors.get(code, 0) + 1
            oks = sorted(t for t, code in acks if code == "ok")
            result.acked = len(oks)
            await asyncio.sleep(3)
            result.lags = [max(0.0, (display.first_at_least(k) or float("inf")) - t)
                           for display in displays for k, t in enumerate(oks, start=1)]
            result.final_counts = [d.seen[-1][0] if d.seen else 0 for d in displays]
            for v in crowd:
                await v.ws.close()
                v.task.cancel()
            for display in displays:
                display.task.cancel()
    return result


def watch(bases: list[str], n: int) -> Loadgen:
    """`n` viewers that only watch, spread over the servers, held by the Node load generator."""
    watchers = Loadgen(WORK / "polls-loadgen.log")
    for i, base in enumerate(bases):
        share = n // len(bases) + (1 if i < n % len(bases) else 0)
        if share:
            got = watchers.command({"cmd": "connect", "url": base, "n": share})
            if got["failed"]:
                watchers.close()
                raise RuntimeError(f"{got['failed']} watching viewers could not connect")
    return watchers


async def vote(crowd: list[Viewer], message: Callable[[int], dict[str, Any]], votes: int,
               seconds: float, pids: list[int], node: int) -> tuple[float, float, float]:
    """Send the votes open-loop; the window, the generator's CPU share (this script and the
    Node watchers: core 1), server CPU per vote."""
    voters = random.Random(1).sample(crowd, votes)
    loop = asyncio.get_running_loop()

    def cpu() -> float:
        return sum(process_cpu(pid) for pid in pids)

    server_before, mine_before = cpu(), time.process_time() + process_cpu(node)
    t0 = loop.time() + 0.2

    async def one(k: int, viewer: Viewer) -> None:
        await asyncio.sleep(max(0.0, t0 + k * seconds / votes - loop.time()))
        await viewer.ws.send(json.dumps(message(k)))

    began = time.monotonic()
    await asyncio.gather(*(one(k, v) for k, v in enumerate(voters)))
    waits: list[Awaitable[Any]] = [v.acked for v in voters]
    await asyncio.wait(waits, timeout=30)
    window = time.monotonic() - began
    chosen = set(voters)
    crowd[:] = voters + [v for v in crowd if v not in chosen]
    server = cpu() - server_before
    mine = time.process_time() + process_cpu(node) - mine_before
    return window, mine / window, 1000 * server / votes


@contextlib.contextmanager
def servers(url: str, processes: int) -> Iterator[tuple[list[int], list[int]]]:
    """`salen serve` on core 0 (two through a redis-server there); ports and pids to measure."""
    if processes == 1:
        port = free_port()
        with pinned(salen_cmd(port), SERVER_CORE, WORK / "polls-salen.log", salen_env(url),
                    port) as proc:
            yield [port], [proc.pid]
        return
    from tests.support.servers import start_redis

    with start_redis() as redis, contextlib.ExitStack() as stack:
        subprocess.run(["taskset", "-a", "-p", "-c", SERVER_CORE, str(redis.pid)],
                       check=False, capture_output=True)
        env = salen_env(url, f"redis://127.0.0.1:{redis.port}/0")
        ports = [free_port(), free_port()]
        procs = [stack.enter_context(pinned(
            salen_cmd(port), SERVER_CORE, WORK / f"polls-salen-{i}.log", env, port))
            for i, port in enumerate(ports)]
        yield ports, [p.pid for p in procs] + [redis.pid]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=10_000)
    parser.add_argument("--votes", type=int, default=5_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1,
                        help="2: two `salen serve` processes through a redis-server")
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {int(LOADGEN_CORE)})
    rows = []
    for mode in ("qa.vote (baseline)", "poll"):
        WORK.mkdir(parents=True, exist_ok=True)
        path = WORK / "polls.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{path}"
        key, question = asyncio.run(seed(url))
        with servers(url, args.processes) as (ports, pids):
            rows.append(asyncio.run(run_mode(
                "poll" if mode == "poll" else "qa", ports, pids, key, question,
                args.viewers, args.votes, args.seconds)))
        rows[-1].mode = mode if args.processes == 1 else f"{mode}, 2 processes + Redis"
    print("| mode | viewers | votes | acked | final count | equal | lag p50 ms | lag p99 ms "
          "| lag max ms | server CPU ms/vote | generator CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row.row())
        if row.errors:
            print(f"<!-- {row.mode} errors: {row.errors} -->")
    print(f"\nwindow: {', '.join(f'{r.mode} {r.window:.1f} s' for r in rows)}; "
          f"display lag p99 goal 1000 ms; median of the lags {statistics.median([x for r in rows for x in r.lags] or [0]) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
