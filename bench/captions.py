"""Live captions benchmark: captioner keystroke to viewer, p99 with N viewers, tick included.

    python -m bench.captions                                  # N = 1,000 and 10,000
    python -m bench.captions --viewers 20 --seconds 3         # a smoke run

Salen (`salen serve`, memory hub, SQLite) runs pinned to core 0; the client runs on core 1:
one captioner (the event's captioner link exchanged for its session cookie, as a browser
does), `--probes` viewers that decode every frame, and the rest as silent viewers held by
the Node load generator (bench/node/loadgen.js, `connect`: a few hundred handshakes at a
time, frames read and dropped), so the client does not limit the server.
Open loop, as in bench/fanout.py: keystroke k is *scheduled* at t0 + k/R and sends the
whole line typed so far (`captions.type`); every `--line` keystrokes the line is
committed (`captions.line`). A keystroke counts as arrived at a probe with the first
`captions` frame whose partial line (or committed line) holds its marker or a later one:
ticks coalesce keystrokes, so a later one carries the earlier. Latency runs from the
scheduled moment to that frame; a keystroke a probe never saw is lost. The goal (issue 26):
p99 ≤ 500 ms at 10,000 viewers, nothing lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import connect

from bench.machine import process_cpu
from bench.procs import (
    LOADGEN_CORE,
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

GOAL_MS = 500.0
MARK = re.compile(r"k(\d+)")


@dataclass
class Probe:
    """One decoding viewer: when it first saw each keystroke's marker."""

    seen: dict[int, float] = field(default_factory=dict)
    frames: int = 0

    def frame(self, data: str | bytes, now: float) -> None:
        push = json.loads(data)
        if push.get("type") != "captions":
            return
        self.frames += 1
        texts = [line["text"] for line in push.get("lines", [])]
        if push.get("partial"):
            texts.append(push["partial"]["text"])
        marks = [int(m) for text in texts for m in MARK.findall(text)]
        if marks:
            top = max(marks)
            for k in range(top, -1, -1):
                if k in self.seen:
                    break
                self.seen[k] = now


async def captioner_cookie(base: str) -> str:
    """The bench event's captioner key exchanged for a session cookie."""
    from sqlalchemy import select

    from live.db import create_engine, sessionmaker
    from live.models import Event

    engine = create_engine(os.environ["BENCH_DATABASE_URL"])
    async with sessionmaker(engine)() as session:
        key = await session.scalar(select(Event.captions_token).where(Event.slug == SLUG))
    await engine.dispose()
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.get(f"/e/{SLUG}/captions", params={"key": key})
        assert response.status_code == 303, response.status_code
        return f"salen_session={http.cookies['salen_session']}"


async def probe_viewer(url: str, probe: Probe, ready: asyncio.Future[None],
                       stop: asyncio.Event) -> None:
    try:
        ws = await connect(url, max_size=None, open_timeout=60)
        await ws.recv()  # the snapshot
    except BaseException as exc:
        ready.set_exception(exc)  # the run stops with the reason instead of waiting forever
        raise
    ready.set_result(None)
    async with ws:
        while not stop.is_set():
            try:
                data = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            probe.frame(data, time.monotonic())


async def run_once(port: int, viewers: int, probes: int, rate: float, seconds: float,
                   line: int) -> dict[str, Any]:
    """One measured run against a running server."""
    base, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws/events/{SLUG}"
    cookie = await captioner_cookie(base)
    crowd = Loadgen(WORK / f"captions-loadgen-{viewers}.log")
    try:
        if viewers > probes:
            got = await asyncio.to_thread(
                crowd.command, {"cmd": "connect", "url": ws_url, "n": viewers - probes})
            if got["failed"]:
                raise RuntimeError(f"{got['failed']} silent viewers could not connect")
        return await measure(ws_url, cookie, viewers, probes, rate, seconds, line)
    finally:
        crowd.close()


async def measure(ws_url: str, cookie: str, viewers: int, probes: int, rate: float,
                  seconds: float, line: int) -> dict[str, Any]:
    """Probes connect, the captioner types open loop, the probes' arrivals are summed up."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    found = [Probe() for _ in range(probes)]
    ready = [loop.create_future() for _ in range(probes)]
    tasks = [asyncio.create_task(probe_viewer(ws_url, p, r, stop))
             for p, r in zip(found, ready, strict=True)]
    await asyncio.gather(*ready)
    await asyncio.sleep(1.0)
    count = int(rate * seconds)
    scheduled: list[float] = []
    async with connect(ws_url, additional_headers={"Cookie": cookie}) as captioner:
        await captioner.recv()
        t0, words = time.monotonic() + 0.2, []
        for k in range(count):
            at = t0 + k / rate
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            scheduled.append(at)
            words.append(f"k{k}")
            if len(words) >= line:
                message = {"type": "captions.line", "id": k, "text": " ".join(words), "key": f"l{k}"}
                words = []
            else:
                message = {"type": "captions.type", "id": k, "text": " ".join(words)}
            await captioner.send(json.dumps(message))
        await asyncio.sleep(2.0)  # drain
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies = [(p.seen[k] - scheduled[k]) * 1000 for p in found for k in range(count)
                 if k in p.seen]
    lost = sum(1 for p in found for k in range(count) if k not in p.seen)
    ordered = sorted(latencies) or [float("nan")]
    return {
        "viewers": viewers, "keystrokes": count, "rate": rate,
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max_ms": ordered[-1], "lost": lost,
        "frames_per_probe": statistics.mean(p.frames for p in found) if found else 0,
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.captions", description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--rate", type=float, default=10.0, help="keystrokes a second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--line", type=int, default=12, help="keystrokes per committed line")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    rows = []
    for viewers in args.viewers:
        url, _ = fresh_database("captions", 0)
        os.environ["BENCH_DATABASE_URL"] = url
        port = free_port()
        env = salen_env(url) | {"SALEN_BASE_URL": f"http://127.0.0.1:{port}"}
        with pinned(salen_cmd(port), SERVER_CORE, WORK / "captions-server.log", env, port) as proc:
            os.sched_setaffinity(0, {int(LOADGEN_CORE)})
            began = process_cpu(proc.pid)
            row = asyncio.run(run_once(port, viewers, min(args.probes, viewers), args.rate,
                                       args.seconds, args.line))
            row["server_cpu_s"] = round(process_cpu(proc.pid) - began, 2)
        rows.append(row)
        verdict = "ok" if row["p99_ms"] <= GOAL_MS and row["lost"] == 0 else "MISSED"
        print(f"N={viewers:>6}  p50 {row['p50_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms  "
              f"max {row['max_ms']:7.1f} ms  lost {row['lost']}  "
              f"frames/probe {row['frames_per_probe']:.0f}  server CPU {row['server_cpu_s']} s  "
              f"[{verdict}]", flush=True)
    print(json.dumps(rows), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
