"""CPU per frame at R = 1: Salen against the `websockets.broadcast()` peer, in alternating windows.

    bench/run --only cost

Both servers run at once, each pinned to core 0 with N viewers from a load generator of its
own on core 1. Windows of one change a second alternate between them, `ROUNDS` each, the
first server of each round taking turns; every window lasts one ping period of the peer
(`fanout.PEER_PING_PERIOD`). A server's figure is its CPU over all its windows per million
frames, and the goal's ratio is Salen's figure over the peer's.

Why not the matrix's single R = 1 window per server: those are measured a minute or more
apart, one window each, and in three runs of the same code on 2026-12-05 the peer's figure
at 1,000 viewers was 12.2, 11.2 and 13.8 CPU-s per M frames (Salen's 13.7, 14.8 and 14.6),
so the ratio said as much about the moment as about the servers. Alternating puts both
under the same conditions, and several windows average out what comes in bursts (the
peer's pings, either server's garbage collections).

Why five rounds, not three: single windows of either server still move by a fifth or more
on this machine. On 2026-12-05, in a copy of this section with five rounds at 1,000 viewers
and per-thread counters, the peer's windows were 11.1, 11.1, 11.2, 16.3 and 11.6 CPU-s per
M frames, Salen's 14.2, 12.6, 13.4, 15.0 and 12.6, and a `gc.callbacks` probe saw no
collection during any window. Salen alone, with no peer on its core, gave 12.3 to 15.7 in
twelve windows (the tick written 64 viewers at a time or all at once: no difference beyond
that spread). Three windows per server let one or two such windows decide the ratio (1.23×
in a full run, 1.08–1.12× in the four runs of the cost section around it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from bench import fanout
from bench.procs import Loadgen

ROUNDS = 5
WINDOW = fanout.PEER_PING_PERIOD
KINDS = ("salen", "python")


def measure(viewers: list[int], log: Callable[[str], None], rounds: int = ROUNDS,
            kinds: tuple[str, str] = KINDS) -> list[dict[str, Any]]:
    """One row per audience size: both servers' windows, pooled figures and the ratio.

    `kinds` names the two servers (`fanout.start`); the ratio is the first's over the second's.
    """
    return [_measure_n(n, rounds, log, kinds) for n in viewers]


def _measure_n(n: int, rounds: int, log: Callable[[str], None],
               kinds: tuple[str, str] = KINDS) -> dict[str, Any]:
    plan = fanout.Plan([n], [1], seconds=WINDOW, min_changes=1)
    questions = int(rounds * WINDOW) // 4 + fanout.WARM_UP_CHANGES // 4 + 4
    windows: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    with contextlib.ExitStack() as stack:
        targets = {kind: stack.enter_context(fanout.start(kind, questions)) for kind in kinds}
        gens: dict[str, Loadgen] = {}
        pending: dict[str, list[int]] = {}
        for kind, target in targets.items():
            gen = gens[kind] = Loadgen(fanout.log_file(f"loadgen-cost-{kind.rpartition('/')[2]}-{n}"))
            stack.callback(gen.close)
            got = gen.command({"cmd": "connect", "url": target.viewer_urls[0], "n": n})
            fanout.add_moderators(gen, target)
            pending[kind] = list(target.pending)
            log(f"cost N={n}: {kind} has {got['connected']} viewers")
        for kind in kinds:
            fanout.warm_up(gens[kind], targets[kind], pending[kind])
        for r in range(rounds):
            for kind in kinds if r % 2 == 0 else kinds[::-1]:
                row = fanout.run_once(gens[kind], targets[kind], n, 1, plan, 0, pending[kind])
                del pending[kind][: row.pop("used")]
                windows[kind].append(row)
                log(f"cost N={n} round {r + 1}: {kind} {row['cpu_per_million'] or 0:.1f} CPU-s/M frames, "
                    f"lost {row['lost']}, valid {row['valid']}")
        for gen in gens.values():
            gen.command({"cmd": "close"})
    return _summary(n, windows, kinds)


def _summary(n: int, windows: dict[str, list[dict[str, Any]]],
             kinds: tuple[str, str] = KINDS) -> dict[str, Any]:
    pooled = {kind: _pooled(rows) for kind, rows in windows.items()}
    ours, peer = pooled[kinds[0]], pooled[kinds[1]]
    return {
        "viewers": n,
        "window": WINDOW,
        "windows": {kind: [r["cpu_per_million"] for r in rows] for kind, rows in windows.items()},
        "pooled": pooled,
        "ratio": ours / peer if ours and peer else None,
        "valid": all(r["valid"] for rows in windows.values() for r in rows),
        "lost": sum(r["lost"] for rows in windows.values() for r in rows),
    }


def _pooled(rows: list[dict[str, Any]]) -> float | None:
    """CPU-s per M frames over all the windows (equal in length: weighted by frames)."""
    frames: float = sum(r["frames_s"] for r in rows if r["cpu_per_million"])
    if not frames:
        return None
    cpu: float = sum(r["cpu_per_million"] * r["frames_s"] for r in rows if r["cpu_per_million"])
    return cpu / frames
