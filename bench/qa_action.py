"""CPU per moderator action on SQLite, all threads counted: `python -m bench.qa_action`.

    python -m bench.qa_action                          # this tree: paced and back to back
    python -m bench.qa_action --against ../other --rounds 3   # alternate with another tree

A `QaService` on a fresh SQLite file, as the app runs it (the writer's and the reader's
threads, a memory hub), and one moderator going through the cycle approve, edit, enqueue,
move, now, done on question after question (three stay queued throughout). An action's
CPU is the process's (`time.process_time`: every thread) from the call until it returns;
"loop" is the calling thread's share (`time.thread_time`), the rest is the writer's.
Paced runs leave `--gap` seconds between actions, as in a server at one change a second
where every action meets cold caches; back-to-back runs show the warm cost.

With `--against TREE` each round runs this file in a child process, once with this tree
and once with TREE on `PYTHONPATH` (taking turns at going first), and the table pools the
rounds per tree. The script adapts to the service's older API (actions named by strings,
the write lock taken by the caller) so that it runs on earlier commits unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
CYCLE = ("approve", "edit", "enqueue", "move", "now", "done")
GOAL_MS = 2.0


class Moderator:
    """The service's moderator actions, on either API (typed messages or action strings)."""

    def __init__(self, qa: Any, event_id: int, actor: Any) -> None:
        try:
            from live.realtime import protocol
        except ImportError:  # before the real-time package
            from live import protocol  # type: ignore[no-redef]
        self.p, self.qa, self.event_id, self.actor = protocol, qa, event_id, actor
        self.typed = "msg" in inspect.signature(qa.moderate).parameters
        # The old API left the write lock to its caller (the socket endpoint): take it too.
        self.lock = None if self.typed else asyncio.Lock()

    async def act(self, action: str, question: int) -> None:
        if self.lock is None:
            await self._call(action, question)
            return
        async with self.lock:
            await self._call(action, question)

    def _call(self, action: str, q: int) -> Awaitable[Any]:
        qa, e, a, p = self.qa, self.event_id, self.actor, self.p
        if not self.typed:
            if action in ("approve", "edit"):
                return qa.moderate(e, a, action, q, text=f"Edited question {q}?")
            return qa.panel(e, a, action, q, 0 if action == "move" else None)
        messages: dict[str, Callable[[], Any]] = {
            "approve": lambda: p.Approve(id=1, question=q),
            "edit": lambda: p.Edit(id=1, question=q, text=f"Edited question {q}?"),
            "enqueue": lambda: p.Enqueue(id=1, question=q),
            "move": lambda: p.Move(id=1, question=q, position=0),
            "now": lambda: p.Now(id=1, question=q),
            "done": lambda: p.Done(id=1, question=q),
        }
        msg = messages[action]()
        if action in ("approve", "edit"):
            return qa.moderate(e, a, msg)
        return qa.panel(e, a, msg)


async def measure(actions: int, gap: float, warm_cycles: int = 5) -> dict[str, Any]:
    """Run `warm_cycles` cycles unmeasured, then `actions` measured actions."""
    from live.db import create_engine, open_reader, open_writer, sessionmaker
    from live.hub import open_hub
    from live.identity import Participant
    from live.migrate import upgrade_async
    from live.models import Event
    from live.qa.service import Actor, QaService

    cycles = warm_cycles + -(-actions // len(CYCLE))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/qa.db"
        await upgrade_async(url)
        engine = create_engine(url)
        db = sessionmaker(engine)
        async with db() as session, session.begin():
            event = Event(slug="qa-action", title="Benchmark")
            session.add(event)
        async with open_hub("memory://") as hub, open_writer(db) as writer, \
                open_reader(db) as reader:
            qa = QaService(db, hub, writer, reader)
            await qa.ensure(event.id)
            mod = Actor(Participant("bench-moderator"), moderator=True, label="moderator")
            moderator = Moderator(qa, event.id, mod)
            ask = moderator.p.Ask
            for i in range(3):
                q = await qa.ask(event.id, mod, ask(id=1, text=f"Queued question {i}?"))
                await moderator.act("enqueue", q.id)
            pending = []
            for i in range(cycles):
                viewer = Actor(Participant(f"bench-viewer-{i}"))
                text = f"Question {i} from the audience, about the budget and the timetable?"
                pending.append((await qa.ask(event.id, viewer, ask(id=1, text=text))).id)
            _tune_gc()
            rows = await _cycles(moderator, pending, warm_cycles, actions, gap)
        await engine.dispose()
    return {"gap": gap, "typed": moderator.typed, "rows": rows}


async def _cycles(
    moderator: Moderator, pending: list[int], warm: int, actions: int, gap: float
) -> list[tuple[str, float, float]]:
    """(action, process CPU s, calling thread's CPU s) of each measured action."""
    rows: list[tuple[str, float, float]] = []
    for n, question in enumerate(pending):
        for action in CYCLE:
            if len(rows) == actions:
                return rows
            await asyncio.sleep(gap)
            cpu, loop = time.process_time(), time.thread_time()
            await moderator.act(action, question)
            cpu, loop = time.process_time() - cpu, time.thread_time() - loop
            if n >= warm:
                rows.append((action, cpu, loop))
    return rows


def _tune_gc() -> None:
    """As the server does (live/realtime/ws.py `tune_gc`)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Pooled figures in ms per action over `runs` (all with the same gap)."""
    rows = [r for run in runs for r in run["rows"]]
    cpu = [r[1] * 1000 for r in rows]
    loop = [r[2] * 1000 for r in rows]
    per_action = {a: statistics.fmean(r[1] * 1000 for r in rows if r[0] == a) for a in CYCLE}
    return {
        "actions": len(rows),
        "mean": statistics.fmean(cpu),
        "median": statistics.median(cpu),
        "p90": statistics.quantiles(cpu, n=10)[-1],
        "loop": statistics.fmean(loop),
        "others": statistics.fmean(cpu) - statistics.fmean(loop),
        "runs": [statistics.fmean(r[1] * 1000 for r in run["rows"]) for run in runs],
        **per_action,
    }


def table(results: dict[str, dict[float, list[dict[str, Any]]]]) -> list[str]:
    """Markdown: one row per tree and gap."""
    lines = [
        "| tree | gap s | actions | CPU ms/action | median | p90 | loop thread | writer etc. "
        "| per run | " + " | ".join(CYCLE) + " |",
        "|" + "---|" * (9 + len(CYCLE)),
    ]
    for tree, by_gap in results.items():
        for gap, runs in sorted(by_gap.items(), reverse=True):
            s = summary(runs)
            per_run = ", ".join(f"{x:.2f}" for x in s["runs"])
            lines.append(
                f"| {tree} | {gap:g} | {s['actions']} | **{s['mean']:.2f}** | {s['median']:.2f} "
                f"| {s['p90']:.2f} | {s['loop']:.2f} | {s['others']:.2f} | {per_run} | "
                + " | ".join(f"{s[a]:.2f}" for a in CYCLE) + " |"
            )
    return lines


def verdict(results: dict[str, dict[float, list[dict[str, Any]]]], gap: float) -> list[str]:
    """The paced figure against the goal, and the ratio between two trees."""
    means = {tree: summary(by_gap[gap])["mean"] for tree, by_gap in results.items()}
    lines = [f"- {tree}: {m:.2f} ms per action at {gap:g} s apart: "
             f"{'within' if m <= GOAL_MS else 'over'} the goal of {GOAL_MS:g} ms"
             for tree, m in means.items()]
    if len(means) == 2:
        (a, ma), (b, mb) = means.items()
        lines.append(f"- {a} / {b}: {ma / mb:.2f}x ({ma - mb:+.2f} ms per action)")
    return lines


def child(tree: Path, actions: int, gaps: list[float]) -> list[dict[str, Any]]:
    """This file run with `tree` on PYTHONPATH: one run per gap."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    args = [sys.executable, __file__, "--json", "--actions", str(actions),
            "--gaps", *map(str, gaps)]
    out = subprocess.run(args, env=env, cwd=tree, check=True, capture_output=True, text=True)
    runs: list[dict[str, Any]] = json.loads(out.stdout)
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.qa_action", description=__doc__)
    parser.add_argument("--actions", type=int, default=300, help="measured actions per run")
    parser.add_argument("--gaps", type=float, nargs="+", default=[0.2, 0.0],
                        help="seconds between actions, one run each")
    parser.add_argument("--against", type=Path, help="another tree to alternate with")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="raw runs as JSON (for --against)")
    args = parser.parse_args(argv)
    if args.json:
        print(json.dumps([asyncio.run(measure(args.actions, gap)) for gap in args.gaps]))
        return
    trees = {"this tree": HERE}
    if args.against is not None:
        trees[str(args.against)] = args.against.resolve()
    results: dict[str, dict[float, list[dict[str, Any]]]] = {t: {} for t in trees}
    for r in range(args.rounds):
        order = list(trees.items()) if r % 2 == 0 else list(trees.items())[::-1]
        for name, tree in order:
            for run in child(tree, args.actions, args.gaps):
                results[name].setdefault(run["gap"], []).append(run)
            print(f"round {r + 1}: {name} done", file=sys.stderr, flush=True)
    print("\n".join(table(results)))
    print()
    print("\n".join(verdict(results, max(args.gaps))))


if __name__ == "__main__":
    main()
