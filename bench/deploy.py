"""The shipped deployment against one worker direct: N viewers, R changes a second, one run.

    python -m bench.deploy                        # 5,000 viewers, R = 10, 20 s windows
    python -m bench.deploy --viewers 200 --seconds 10 --no-write   # a smoke run

Direct: one `salen serve` (SQLite, memory hub) with all N viewers. Deployed: Debian's nginx
with deploy/nginx/salen.conf (templated as tests/support/deploy.py does) in front of two
`salen serve` workers sharing the SQLite file and a redis-server; the N viewers connect to
nginx, which spreads them over the workers (N/2 each). Every server process (workers,
redis-server, nginx) runs on core 0, the Node load generator (bench/node/loadgen.js) on
core 1, as in bench/fanout.py, whose windows, warm-up and moderators this reuses: latency
runs from a change's scheduled moment to the frame that brings it to a viewer; "lost" are
changes a viewer never saw. CPU is read per process group over the measured window, so the
table gives CPU-seconds per million frames for the workers, for redis-server and for nginx,
and the ratio of nginx's to a direct worker's: what nginx adds per frame. The figures go to
bench/results/deploy.md and deploy.json (not with --no-write) and feed the capacity table
in docs/deploy.md.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bench.fanout import (
    GENERATOR_LIMIT,
    STORM_QUESTIONS,
    WARM_UP_CHANGES,
    Plan,
    add_moderators,
    log_file,
    start,
    warm_up,
)
from bench.machine import CoreTimes, process_cpu
from bench.procs import (
    MOD_TOKEN,
    ROOT,
    SLUG,
    Loadgen,
    fresh_database,
    nginx_fleet,
)

RESULTS = ROOT / "bench" / "results"


@dataclass
class Setup:
    """Running processes by group, and where the generator connects."""

    kind: str
    groups: dict[str, list[int]]
    viewer_url: str
    pub_url: str
    pending: list[int]
    # Each worker's /metrics (loopback): how nginx spread the viewers.
    metrics: list[str] = dataclasses.field(default_factory=list)


@contextlib.contextmanager
def direct(pending: int) -> Iterator[Setup]:
    """One worker, as bench/fanout.py starts it."""
    with start("salen", pending) as target:
        yield Setup("direct", {"workers": target.pids}, target.viewer_urls[0], target.pub_url,
                    target.pending)


@contextlib.contextmanager
def behind_nginx(pending: int) -> Iterator[Setup]:
    """Two workers with redis-server, and nginx with the shipped configuration in front."""
    url, ids = fresh_database("deploy", pending)
    with nginx_fleet(url, "deploy") as fleet:
        base = f"ws://127.0.0.1:{fleet.listen}/ws/events/{SLUG}"
        yield Setup("nginx", fleet.groups, base, f"{base}?token={MOD_TOKEN}", ids,
                    [f"http://127.0.0.1:{p}/metrics" for p in fleet.ports])


def window(gen: Loadgen, setup: Setup, n: int, rate: int, plan: Plan) -> dict[str, Any]:
    """One measured window: latency, losses and CPU per group over the window."""
    marks: dict[str, tuple[dict[str, float], CoreTimes, float]] = {}

    def on_event(name: str) -> None:
        cpu = {g: sum(process_cpu(p) for p in pids if p) for g, pids in setup.groups.items()}
        marks[name] = (cpu, CoreTimes.now(), time.monotonic())

    seconds = plan.window(rate)
    answer = gen.command({"cmd": "run", "rate": rate, "seconds": seconds, "drain": plan.drain,
                          "pending": setup.pending}, on_event, timeout=seconds + plan.drain + 240)
    (cpu0, cores0, t0), (cpu1, cores1, t1) = marks["window_start"], marks["window_end"]
    del setup.pending[: answer["used"]]
    busy = cores1.busy_since(cores0)
    frames = answer["frames"]
    per_million = {g: (cpu1[g] - cpu0[g]) / frames * 1e6 if frames else None for g in cpu0}
    return {
        "setup": setup.kind, "viewers": n, "rate": rate,
        "valid": (busy[1] if len(busy) > 1 else 0.0) <= GENERATOR_LIMIT and not answer["errors"],
        "gen_core": busy[1] if len(busy) > 1 else 0.0, "server_core": busy[0],
        "latency": answer["latency"], "frames_s": frames / answer["window"],
        "changes": answer["changes"], "lost": answer["lost"], "closed": answer["closed"],
        "errors": answer["errors"], "cpu_per_million": per_million,
        "server_share": sum(cpu1[g] - cpu0[g] for g in cpu0) / max(1e-9, t1 - t0),
    }


def measure(kind: str, n: int, rate: int, plan: Plan, log: Any) -> dict[str, Any]:
    """Start `kind`, connect `n` viewers, warm up, measure one window."""
    pending = int(rate * plan.window(rate)) // 4 + 2 + WARM_UP_CHANGES // 4 + 1 + STORM_QUESTIONS
    with (direct if kind == "direct" else behind_nginx)(pending) as setup:
        gen = Loadgen(log_file(f"loadgen-deploy-{kind}-{n}"))
        try:
            time.sleep(1.0)
            got = gen.command({"cmd": "connect", "url": setup.viewer_url, "n": n}, timeout=600)
            spread = [_viewers(url) for url in setup.metrics]
            log(f"{kind}: {got['connected']} of {n} viewers connected {spread or ''}")
            time.sleep(1.0)
            add_moderators(gen, _as_target(setup))
            warm_up(gen, _as_target(setup), setup.pending)
            row = window(gen, setup, n, rate, plan) | {"connected": got["connected"],
                                                        "per_worker": spread}
            gen.command({"cmd": "close"})
        finally:
            gen.close()
    log(brief(row))
    return row


def _viewers(url: str) -> int:
    """Viewers of the benchmark's event on one worker, from its /metrics."""
    import httpx

    text = httpx.get(url, timeout=10).text
    line = f'salen_connections{{event="{SLUG}",role="viewer"}} '
    return sum(int(float(x.removeprefix(line))) for x in text.splitlines() if x.startswith(line))


def _as_target(setup: Setup) -> Any:
    from bench.fanout import Target

    pids = [p for pids in setup.groups.values() for p in pids]
    return Target("salen", pids, [setup.viewer_url], setup.pub_url, setup.pending)


def brief(row: dict[str, Any]) -> str:
    lat, cpu = row["latency"], row["cpu_per_million"]
    parts = ", ".join(f"{g} {v:.1f}" for g, v in cpu.items() if v is not None)
    return (f"{row['setup']} N={row['viewers']} R={row['rate']}: p50 {lat['p50']} p99 "
            f"{lat['p99']} max {lat['max']} ms, lost {row['lost']}, closed {row['closed']}, "
            f"errors {row['errors']}, CPU-s per M frames: {parts}, valid {row['valid']}")


def table(rows: list[dict[str, Any]]) -> str:
    """The markdown table: one line per setup, and nginx's cost as a ratio."""
    by = {r["setup"]: r for r in rows}
    lines = [("| setup | viewers | R | p50 ms | p99 ms | lost | closed | workers CPU-s/M frames "
              "| redis | nginx | valid |"), "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cpu = r["cpu_per_million"]
        lines.append(
            f"| {r['setup']} | {r['connected']}{_spread(r)} | {r['rate']} | {r['latency']['p50']} | "
            f"{r['latency']['p99']} | {r['lost']} | {r['closed']} | {_f(cpu.get('workers'))} | "
            f"{_f(cpu.get('redis'))} | {_f(cpu.get('nginx'))} | {r['valid']} |")
    if "direct" in by and "nginx" in by:
        base = by["direct"]["cpu_per_million"]["workers"]
        nginx = by["nginx"]["cpu_per_million"]["nginx"]
        total = sum(v for v in by["nginx"]["cpu_per_million"].values() if v)
        if base and nginx is not None:
            lines += ["", (f"nginx adds {nginx / base:.2f} × a direct worker's CPU per frame; "
                           f"the whole deployment costs {total / base:.2f} × per frame.")]
    return "\n".join(lines) + "\n"


def _spread(row: dict[str, Any]) -> str:
    return f" ({' + '.join(map(str, row['per_worker']))})" if row.get("per_worker") else ""


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=5000, help="N in total (half per worker)")
    parser.add_argument("--rate", type=int, default=10, help="changes a second")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--no-write", action="store_true", help="print only (a smoke run)")
    args = parser.parse_args(argv)
    plan = Plan(viewers=[args.viewers], rates=[args.rate], seconds=args.seconds, asks=0,
                storm=False)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    rows = [measure(kind, args.viewers, args.rate, plan, log) for kind in ("direct", "nginx")]
    text = table(rows)
    print(text)
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "deploy.json").write_text(json.dumps(rows, indent=1))
        (RESULTS / "deploy.md").write_text(
            "# The deployment against one worker direct (bench/deploy.py)\n\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
