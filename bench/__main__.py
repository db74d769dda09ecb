"""`python -m bench` (or `bench/run`): run every benchmark and write bench/results/README.md.

    bench/run                      # everything (about 35 minutes on 2 cores)
    bench/run --quick              # a smoke subset (1,000 viewers, R = 10, short windows)
    bench/run --only fanout pages  # some sections; the others are left out of the file
    bench/run --only realistic     # moderation like a real seminar's, Salen and the peer
    bench/run --others run         # also re-run the stream and remux benchmarks

Servers run on core 0 and load generators on core 1 (taskset); loopback only. Raw
numbers go to bench/results/raw.json next to the markdown.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from typing import Any

from bench import cost, fanout, machine, pages, registration, report
from bench.procs import ROOT

RESULTS = ROOT / "bench" / "results"
OTHERS = [
    ("python bench/stream_forwarding.py", RESULTS / "stream.md", ["bench/stream_forwarding.py"]),
    ("python bench/remux.py", RESULTS / "remux.md", ["bench/remux.py"]),
]
SECTIONS = ("fanout", "realistic", "cost", "redis", "pages", "registration", "others")
# The realistic workload's servers by default: Salen and the `websockets.broadcast()` peer.
REALISTIC_SERVERS = ("salen", "python")


def log(message: str) -> None:
    """Progress on stderr with a timestamp."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke subset")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--others", choices=["list", "run"], default="list",
                        help="list the stream/remux results (default) or run them again")
    parser.add_argument("--viewers", type=int, nargs="+", help="override N")
    parser.add_argument("--rates", type=int, nargs="+", help="override R")
    parser.add_argument("--servers", nargs="+", help="override the servers (fanout: salen python "
                        "node; realistic: salen python)")
    parser.add_argument("--seconds", type=float, help="measured window per run")
    return parser.parse_args(argv)


def run_fanout(args: argparse.Namespace, raw: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Fan-out matrix, question latency and reconnect storms."""
    plan = fanout.Plan(
        viewers=args.viewers or ([1000] if args.quick else [1000, 5000, 10000]),
        rates=args.rates or ([10] if args.quick else [1, 10, 50]),
        seconds=args.seconds or (4.0 if args.quick else 8.0),
    )
    rows = _matrix(plan, args.servers or ["salen", "python", "node"])
    raw["fanout"] = rows
    return [
        ("Fan-out: one process, N viewers, R moderator changes per second", [
            _fanout_intro(plan), "", *report.fanout_table(rows)]),
        ("A question reaches the moderators (during the R = 10 Salen runs)", report.asks_table(rows)),
        ("Reconnect storm (Salen)", [_storm_intro(), "", *report.storm_table(rows)]),
    ]


def _matrix(plan: fanout.Plan, servers: list[str]) -> list[dict[str, Any]]:
    """Each N for every server before the next N: rows compared with each other are measured
    a minute or two apart, not most of the run (the machine is shared and drifts)."""
    rows: list[dict[str, Any]] = []
    for n in plan.viewers:
        # The realistic workload's peers send frames of the size Salen's had (measured first).
        sizes: dict[int, int] = {}
        for kind in servers:
            try:
                got = fanout.measure(kind, dataclasses.replace(plan, viewers=[n], peer_bytes=sizes), log)
            except Exception as exc:  # noqa: BLE001  (keep the other servers' rows)
                log(f"fan-out with {kind}, N={n} failed: {exc!r}")
                continue
            rows += got
            if kind == "salen":
                sizes = {r["rate"]: round(r["frame_bytes"]) for r in got if r.get("frame_bytes")}
    return rows


def run_realistic(args: argparse.Namespace, raw: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The realistic moderation workload against the `websockets.broadcast()` peer (issue 24)."""
    plan = fanout.Plan(
        viewers=args.viewers or ([1000] if args.quick else [5000, 10000]),
        rates=args.rates or ([10] if args.quick else [10, 50]),
        seconds=args.seconds or (4.0 if args.quick else 8.0),
        asks=0, storm=False, workload="realistic",
    )
    rows = _matrix(plan, args.servers or list(REALISTIC_SERVERS))
    raw["realistic"] = rows
    return [("Fan-out with realistic moderation", [
        _realistic_intro(plan), "", *report.realistic_table(rows)])]


def _realistic_intro(plan: fanout.Plan) -> str:
    return (
        f"As the fan-out section ({plan.seconds:.0f} s windows, {plan.drain:.0f} s drain, the same "
        "latency, *lost* and CPU columns), with the moderation of a real seminar (`bench/fanout.py`): "
        f"in every ten changes four votes from {fanout.VOTERS} viewers' sockets, two edits of questions "
        f"in a rotating set of {fanout.SET_SIZE} approved ones and approve → enqueue → move to front → "
        "now answering, so Salen's frames, coalesced over a tick, carry several question states. "
        "Latency and losses are of the moderators' changes (a vote's reply carries no version). "
        "The `websockets.broadcast()` peer sends one frame per change, padded to the mean size of "
        "Salen's frames at the same N and R. "
        "*bytes/frame*: the mean size of the frames the viewers received; *CPU ms per change*: the "
        "server's CPU over the window per change made (votes included). Salen paces its ticks by "
        "`SALEN_LIVE_LATENCY_TARGET_MS` (200 ms by default: `live/realtime/tick.py`)."
    )


def _fanout_intro(plan: fanout.Plan) -> str:
    return (
        f"Each run: {plan.seconds:.0f} s measured window (longer where that holds fewer than "
        f"{plan.min_changes} changes: {plan.window(1):.0f} s at R = 1, a whole number of the Python peer's "
        f"{fanout.PEER_PING_PERIOD:.0f} s ping periods, so that its keepalive bursts count at their "
        f"average rate), then {plan.drain:.0f} s to drain. "
        "Salen: `salen serve` (SQLite, memory hub, ticks paced by a 200 ms latency target: "
        "`live/realtime/tick.py`), 4 moderator sockets cycling approve → enqueue → move to front → now "
        "answering. Peers (`python` = `websockets.broadcast()`, "
        "`node` = `ws`) send one ~200-byte frame per change to every viewer. Latency: from the "
        "change's scheduled time to the frame that carries its version, over every (viewer, change) "
        "pair. *lost*: (viewer, change) pairs not delivered by the end of the drain (the peers never "
        "drop: for them these are frames still queued because the server fell behind). *closed*: "
        "viewers the server closed. *valid* = the generator's core (1) was at most 85 % busy and "
        "no moderator action failed. *server CPU*: the server process's CPU time over the window "
        "as a share of one core; *core 0 busy* above it means other work shared the server's core."
    )


def _storm_intro() -> str:
    return (
        "After the fan-out runs every viewer socket is killed at once and reconnects at once "
        "(256 handshakes in flight) with `?since=<its v>&p=<its token>` while a moderator approves "
        f"{fanout.STORM_QUESTIONS} questions at 10 per second. *All resynced*: until the last viewer "
        "had its first frame back. *Missing*: approved questions a viewer never saw (in its replay, "
        "snapshot or a later update) by 3 s after the last approval."
    )


def run_cost(args: argparse.Namespace, raw: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """CPU per frame at R = 1, Salen and the Python peer in alternating windows."""
    viewers = args.viewers or ([1000] if args.quick else [1000, 5000, 10000])
    rounds = 2 if args.quick else cost.ROUNDS
    rows = cost.measure(viewers, log, rounds=rounds)
    raw["cost"] = rows
    intro = (f"Salen and the `websockets.broadcast()` peer run at once, each pinned to core 0 with N "
             f"viewers; windows of {cost.WINDOW:.0f} s at one change a second alternate between "
             f"them, {rounds} each (after {fanout.WARM_UP_CHANGES} unmeasured changes on each). "
             "*Pooled*: a server's CPU over all its windows per million frames; the goal's ratio is "
             "of those (`bench/cost.py` says why: single windows a minute apart moved with the "
             "machine).")
    return [("CPU per frame at R = 1, alternating windows", [intro, "", *report.cost_table(rows)])]


def run_redis(args: argparse.Namespace, raw: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Two Salen processes through redis-server."""
    total = 2000 if args.quick else 10000
    plan = fanout.Plan(viewers=[total], rates=[10], seconds=args.seconds or (4.0 if args.quick else 8.0),
                       storm=False, asks=0)
    rows = fanout.measure("salen+redis", plan, log)
    raw["redis"] = rows
    intro = (f"Two `salen serve` processes with `SALEN_HUB_URL=redis://`, sharing one SQLite file, "
             f"{total // 2:,} viewers on each; the moderators are on the first. Both processes and "
             "redis-server are pinned to core 0 (RSS and CPU columns add both Salen processes; "
             "CPU includes redis-server).")
    return [("Through Redis: two processes", [intro, "", *report.fanout_table(rows)])]


def run_pages(args: argparse.Namespace, raw: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Event and archive page throughput."""
    rows = pages.measure(3 if args.quick else 8, log)
    raw["pages"] = rows
    intro = (f"`wrk -t1 -c{pages.CONNECTIONS}` on core 1 against `salen serve` on core 0 (SQLite, demo "
             "events and a published recording per event), then against a bare Starlette handler "
             "returning the same bytes under the same uvicorn settings. Queries: SQLAlchemy "
             "`before_cursor_execute` events during one GET (after a warm-up GET). On SQLite a "
             "repeated view also reads `PRAGMA data_version` on a side connection (microseconds, "
             "not through SQLAlchemy, so not in the count) to learn whether anything was "
             "committed since; PostgreSQL has no such counter and runs 1 query per view.")
    return [("Event and archive pages", [intro, "", *report.pages_table(rows)])]


def run_registration(args: argparse.Namespace, raw: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Registration burst."""
    row = registration.measure(log)
    raw["registration"] = row
    return [("Registration burst", [registration.__doc__.split("\n\n", 1)[1].strip(), "",
                                    *report.registration_lines(row)])]


def run_others(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """The stream and remux benchmarks: re-run on request, else their last results."""
    status = []
    for command, path, cmd in OTHERS:
        if args.others == "run":
            log(f"running {command}")
            done = subprocess.run([sys.executable, *cmd], cwd=ROOT, check=False)
            status.append((command, path, f"re-run now (exit {done.returncode})"))
        else:
            status.append((command, path, "not re-run (`--others run` does)"))
    return [("Other benchmarks", report.others_lines(status))]


def main(argv: list[str] | None = None) -> int:
    """Run and write the results."""
    args = parse(argv)
    machine.raise_fd_limit()
    lines = machine.describe()
    raw: dict[str, Any] = {"machine": lines}
    sections: list[tuple[str, list[str]]] = []
    runners = {"fanout": run_fanout, "realistic": run_realistic, "cost": run_cost, "redis": run_redis, "pages": run_pages,
               "registration": run_registration}
    started = time.monotonic()
    for name in args.only:
        if name == "others":
            sections += run_others(args)
            continue
        log(f"== {name}")
        try:
            sections += runners[name](args, raw)
        except Exception as exc:  # noqa: BLE001  (one failed section must not lose the others)
            log(f"{name} failed: {exc!r}")
            sections.append((name, [f"**Failed**: `{exc!r}`"]))
    sections.insert(0, ("Goals against this run", report.goals_table(raw)))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "raw.json").write_text(json.dumps(raw, indent=1, default=str))
    command = "bench/run " + " ".join(argv if argv is not None else sys.argv[1:])
    lines.append(f"- Whole run: {(time.monotonic() - started) / 60:.1f} minutes")
    report.write(RESULTS / "README.md", lines, sections, command.strip())
    log(f"wrote {RESULTS / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
