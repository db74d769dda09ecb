"""Fan-out benchmark: N viewers on one event, R moderator changes per second, side by side.

Servers: Salen (`salen serve`, memory hub, SQLite), a bare `websockets.broadcast()` server
and a bare Node `ws` server, each pinned to core 0; Salen through Redis as two processes.
The Node load generator (bench/node/loadgen.js) runs on core 1, open-loop: change k is
*scheduled* at t0 + k/R and its latency runs from that moment to the frame that brings
its version to a viewer. A run is invalid when core 1 was over 85 % busy (the generator,
not the server, would then be the limit).

Two workloads (`Plan.workload`). "cycle": four moderator sockets cycling approve → enqueue →
move to the front → now answering, which gives small frames. "realistic" (issue 24): in
every ten changes four votes from viewers' sockets (`VOTERS` of them), two edits of
questions in a rotating set of `SET_SIZE` approved ones (to texts of about 330 characters)
and the panel's flow (approve a new question, enqueue, move to the front, now answering),
so a frame coalesced over a tick carries several question states (a question edited to such
a text is ~430 bytes of JSON; how many a frame carries depends on how often Salen ticks);
the peers then send frames of the mean size Salen's viewers got at the same N and R in the
same run (`Plan.peer_bytes`), or `PEER_FRAME_BYTES` without one. Votes count in the rate, but their replies carry no
version, so latency and losses are measured on the moderators' changes only. Rows report
the mean size of the frames viewers received and the server's CPU per change.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.machine import CoreTimes, process_cpu, rss_kib
from bench.procs import (
    MOD_TOKEN,
    NODE,
    ROOT,
    SERVER_CORE,
    SLUG,
    WORK,
    Loadgen,
    free_port,
    fresh_database,
    pinned,
    salen_cmd,
    salen_env,
)

GENERATOR_LIMIT = 0.85
# Changes made, unmeasured, before a server's first window (ten cycles of four actions, 10 s).
WARM_UP_CHANGES = 40
# The Python peer's keepalive: `websockets` pings each connection every 20 s, and the
# generator opens them all within a second or so, so the peer pings in one burst every
# 20 s (1,000 pings and pongs: about 55 ms of its CPU). Salen spreads its pings over the
# interval (live/realtime/keepalive.py). See `Plan.window`.
PEER_PING_PERIOD = 20.0
STORM_QUESTIONS = 20
# The realistic workload: its rotating set of approved questions, its voters' sockets, and
# the size of the peers' frames (Salen's frames in it carry 2-4 question states, ~1 KB).
SET_SIZE = 64
VOTERS = 64
PEER_FRAME_BYTES = 1024
WORKLOADS = ("cycle", "realistic")


@dataclass
class Target:
    """Running server process(es) and where the generator connects."""

    kind: str  # "salen", "python", "node", "salen+redis"
    pids: list[int]
    viewer_urls: list[str]
    pub_url: str
    pending: list[int] = field(default_factory=list)


@dataclass
class Plan:
    """What to measure."""

    viewers: list[int]
    rates: list[int]
    seconds: float = 8.0
    drain: float = 3.0
    asks: int = 30
    storm: bool = True
    # A window holds at least this many changes: at R = 1 an 8 s window held 8, and the CPU
    # per frame of the same server moved by a third between runs (at 1,000 viewers the
    # Python peer 10.8 and 12.5, Node `ws` 16.4 and 17.7 CPU-s per M frames).
    min_changes: int = 30
    # "cycle" or "realistic" (the module's doc).
    workload: str = "cycle"
    # Realistic workload: the peers' frame size by rate (Salen's mean in the same run),
    # `PEER_FRAME_BYTES` where none is given.
    peer_bytes: dict[int, int] = field(default_factory=dict)

    def window(self, rate: int) -> float:
        """Seconds measured at `rate` changes a second.

        A window lengthened to hold `min_changes` (R = 1) is a whole number of the peer's
        ping periods, so it holds the peer's keepalive at its average rate whatever the
        bursts' phase. In 15 s windows the peer's CPU per frame at 1,000 viewers moved from
        9.2 to 15.7 CPU-s per M, in 20 s windows it stayed at 11.8-12.5 (2026-12-05). The
        goal itself is judged in alternating windows (`bench/cost.py`).
        """
        seconds = max(self.seconds, self.min_changes / rate)
        if seconds > self.seconds:
            seconds = math.ceil(seconds / PEER_PING_PERIOD) * PEER_PING_PERIOD
        return seconds


def log_file(name: str) -> Path:
    """Where a benchmark process of this name logs (bench/.work/)."""
    WORK.mkdir(parents=True, exist_ok=True)
    return WORK / f"{name}.log"


@contextlib.contextmanager
def start(kind: str, pending: int) -> Iterator[Target]:
    """Start one server of `kind` pinned to core 0."""
    port = free_port()
    if kind == "salen" or kind.startswith("salen@"):
        # "salen@TREE": the Salen of another checkout (its `live` first on the path).
        tree = Path(kind.partition("@")[2] or ROOT).resolve()
        url, ids = fresh_database("fanout" if tree == ROOT else "fanout-other", pending)
        env = salen_env(url) | ({"PYTHONPATH": str(tree)} if tree != ROOT else {})
        log = log_file("salen" if tree == ROOT else "salen-other")
        with pinned(salen_cmd(port), SERVER_CORE, log, env, port, cwd=tree) as proc:
            base = f"ws://127.0.0.1:{port}/ws/events/{SLUG}"
            yield Target("salen", [proc.pid], [base], f"{base}?token={MOD_TOKEN}", ids)
    elif kind == "python":
        cmd = [sys.executable, str(ROOT / "bench" / "peer_ws.py"), str(port)]
        with pinned(cmd, SERVER_CORE, log_file("peer-python"), port=port) as proc:
            yield Target(kind, [proc.pid], [f"ws://127.0.0.1:{port}/"], f"ws://127.0.0.1:{port}/?pub=1")
    elif kind == "node":
        cmd = ["node", str(NODE / "peer.js"), str(port)]
        with pinned(cmd, SERVER_CORE, log_file("peer-node"), port=port) as proc:
            yield Target(kind, [proc.pid], [f"ws://127.0.0.1:{port}/"], f"ws://127.0.0.1:{port}/?pub=1")
    else:
        raise ValueError(kind)


@contextlib.contextmanager
def start_redis_pair(pending: int) -> Iterator[Target]:
    """Two `salen serve` processes sharing SQLite and a redis-server, all on core 0."""
    from tests.support.servers import start_redis

    url, ids = fresh_database("fanout-redis", pending)
    with start_redis() as redis, contextlib.ExitStack() as stack:
        import subprocess

        subprocess.run(["taskset", "-a", "-p", "-c", SERVER_CORE, str(_redis_pid(redis.port))],
                       check=False, capture_output=True)
        env = salen_env(url, f"redis://127.0.0.1:{redis.port}/0")
        ports = [free_port(), free_port()]
        procs = [
            stack.enter_context(pinned(salen_cmd(p), SERVER_CORE, log_file(f"salen-redis-{i}"), env, p))
            for i, p in enumerate(ports)
        ]
        bases = [f"ws://127.0.0.1:{p}/ws/events/{SLUG}" for p in ports]
        pids = [p.pid for p in procs] + [_redis_pid(redis.port)]
        yield Target("salen+redis", pids, bases, f"{bases[0]}?token={MOD_TOKEN}", ids)


def _redis_pid(port: int) -> int:
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                cmdline = (proc / "cmdline").read_bytes()
                if b"redis-server" in cmdline and str(port).encode() in cmdline:
                    return int(proc.name)
    return 0


def _cpu(pids: list[int]) -> float:
    return sum(process_cpu(p) for p in pids if p)


def _rss(pids: list[int]) -> int:
    return sum(rss_kib(p) for p in pids[:2] if p)


def run_once(gen: Loadgen, target: Target, n: int, rate: int, plan: Plan, asks: int,
             pending: list[int]) -> dict[str, Any]:
    """One measured window at rate R; returns a result row."""
    marks: dict[str, tuple[float, CoreTimes, float]] = {}

    def on_event(name: str) -> None:
        marks[name] = (_cpu(target.pids), CoreTimes.now(), time.monotonic())

    salen = target.kind.startswith("salen")
    seconds = plan.window(rate)
    cmd: dict[str, Any] = {"cmd": "run", "rate": rate, "seconds": seconds, "drain": plan.drain,
                           "pending": pending if salen else None, "workload": plan.workload}
    if plan.workload == "realistic" and not salen:
        cmd["frameBytes"] = plan.peer_bytes.get(rate, PEER_FRAME_BYTES)
    if asks:
        cmd |= {"asks": asks, "askEvery": 200, "askUrl": target.viewer_urls[-1], "tag": f"{n}-{rate}"}
    answer = gen.command(cmd, on_event, timeout=seconds + plan.drain + 240)
    (cpu0, cores0, t0), (cpu1, cores1, t1) = marks["window_start"], marks["window_end"]
    busy = cores1.busy_since(cores0)
    server_cpu = cpu1 - cpu0
    window = answer["window"]
    frames = answer["frames"]
    gen_busy = busy[1] if len(busy) > 1 else 0.0
    return {
        "server": target.kind, "viewers": n, "rate": rate,
        "valid": gen_busy <= GENERATOR_LIMIT and not answer["errors"],
        "gen_core": gen_busy, "server_core": busy[0], "server_share": server_cpu / max(1e-9, t1 - t0),
        "latency": answer["latency"], "frames_s": frames / window, "changes_s": answer["pairs"] / window,
        "changes": answer["changes"], "lost": answer["lost"], "closed": answer["closed"],
        "errors": answer["errors"], "late": answer["late"],
        "cpu_per_million": server_cpu / frames * 1e6 if frames else None, "asked": answer.get("asked"),
        "used": answer["used"], "workload": plan.workload,
        "frame_bytes": answer["bytes"] / frames if frames else None,
        "votes_s": answer.get("votes", 0) / window, "vote_errors": answer.get("vote_errors", 0),
        # Every change the server made (the peers: every frame it was asked to send).
        "cpu_per_change_ms": (server_cpu / (answer["changes"] + answer.get("votes", 0)) * 1e3
                              if answer["changes"] else None),
    }


def measure(kind: str, plan: Plan, log: Any) -> list[dict[str, Any]]:
    """Every (N, R) of the plan for one kind of server; a fresh server per N."""
    rows: list[dict[str, Any]] = []
    per_n = (sum(int(r * plan.window(r)) // 4 + 2 for r in plan.rates) + STORM_QUESTIONS
             + WARM_UP_CHANGES // 4 + 1 + (SET_SIZE if plan.workload == "realistic" else 0))
    for n in plan.viewers:
        ctx = start_redis_pair(per_n) if kind == "salen+redis" else start(kind, per_n)
        with ctx as target:
            rows.extend(_measure_n(target, n, plan, log))
    return rows


def _measure_n(target: Target, n: int, plan: Plan, log: Any) -> list[dict[str, Any]]:
    gen = Loadgen(log_file(f"loadgen-{target.kind}-{n}"))
    try:
        time.sleep(1.0)
        rss0 = _rss(target.pids)
        connected = 0
        t0 = time.monotonic()
        for url in target.viewer_urls:
            got = gen.command({"cmd": "connect", "url": url, "n": n // len(target.viewer_urls)})
            connected += got["connected"]
        connect_s = time.monotonic() - t0
        time.sleep(1.0)
        rss_per = (_rss(target.pids) - rss0) / max(1, connected)
        log(f"{target.kind} N={n}: {connected} connected in {connect_s:.1f} s, "
            f"{rss_per:.1f} KiB per connection")
        add_moderators(gen, target)
        pending = list(target.pending[:-STORM_QUESTIONS])
        if plan.workload == "realistic" and target.kind.startswith("salen"):
            got = gen.command({"cmd": "prepare", "url": target.viewer_urls[0], "voters": VOTERS,
                               "pending": pending}, timeout=120)
            del pending[: got["used"]]
        warm_up(gen, target, pending, plan.workload)
        rows = []
        for rate in plan.rates:
            asks = plan.asks if target.kind == "salen" and rate == 10 else 0
            row = run_once(gen, target, n, rate, plan, asks, pending)
            del pending[: row.pop("used")]
            row |= {"connected": connected, "connect_s": connect_s, "rss_per_conn": rss_per}
            log(_brief(row))
            rows.append(row)
        if plan.storm and target.kind == "salen":
            storm = gen.command({"cmd": "storm", "url": target.viewer_urls[0], "rate": 10,
                                 "pending": target.pending[-STORM_QUESTIONS:], "drain": 3,
                                 "concurrency": 256}, timeout=300)
            storm |= {"server": "storm", "viewers": n}
            log(f"storm N={n}: {storm}")
            rows.append(storm)
        gen.command({"cmd": "close"})
        return rows
    finally:
        gen.close()


def add_moderators(gen: Loadgen, target: Target) -> None:
    """The sockets that make the changes: four Salen moderators, or the peer's publisher."""
    salen = target.kind.startswith("salen")
    gen.command({"cmd": "mods", "url": target.pub_url, "count": 4 if salen else 1,
                 "kind": "salen" if salen else "peer"})


def warm_up(gen: Loadgen, target: Target, pending: list[int], workload: str = "cycle") -> None:
    """Changes before the first window, not measured, on every server alike.

    The first window (R = 1) otherwise also paid for each server's first changes: in Salen
    the first execution of each statement (compiled then cached), the writer's connection
    reading its first pages, and the young garbage collections that move the crowd's
    objects to the oldest generation (`live.realtime.connection.tune_gc` lets young collections wait for
    20,000 allocations: at 5,000 viewers two of about 125 ms each came with the first
    changes; at 1,000 they came while the viewers connected, 2026-12-05). Eight changes
    were too few.
    """
    salen = target.kind.startswith("salen")
    answer = gen.command({"cmd": "run", "rate": 4, "seconds": WARM_UP_CHANGES / 4, "drain": 1.0,
                          "pending": pending if salen else None, "workload": workload}, timeout=120)
    del pending[: answer["used"]]


def _brief(row: dict[str, Any]) -> str:
    lat = row["latency"]
    return (f"{row['server']} {row['workload']} N={row['viewers']} R={row['rate']}: "
            f"{row['frame_bytes'] or 0:.0f} B/frame, p50 {lat['p50']} p99 {lat['p99']} "
            f"max {lat['max']} ms, {row['frames_s']:.0f} frames/s, lost {row['lost']}, "
            f"closed {row['closed']}, errors {row['errors']}, gen core {row['gen_core']:.0%}, "
            f"server {row['server_share']:.0%} (core0 {row['server_core']:.0%}), "
            f"{row['cpu_per_million'] or 0:.1f} CPU-s/M frames, asked {row['asked']}")
