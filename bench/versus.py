"""CPU per frame of this checkout's Salen against another checkout's, in alternating windows.

    python -m bench.versus --against ../old-checkout [--viewers 1000 5000] [--rounds 5]

The cost section's method (`bench/cost.py`) with two Salens instead of Salen and the
`websockets.broadcast()` peer: both run at once, pinned to core 0, each with its own load
generator and database, and windows of one change a second alternate between them. What
a change to Salen costs per frame shows as the ratio, measured under the same conditions.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench import cost


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print one line per audience size."""
    parser = argparse.ArgumentParser(prog="python -m bench.versus", description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="the other checkout")
    parser.add_argument("--viewers", type=int, nargs="+", default=[1000])
    parser.add_argument("--rounds", type=int, default=cost.ROUNDS)
    args = parser.parse_args(argv)
    other = f"salen@{args.against.resolve()}"

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    rows = cost.measure(args.viewers, log, rounds=args.rounds, kinds=("salen", other))
    print("| viewers | this tree: windows | other tree: windows | this / other |")
    print("|---|---|---|---|")
    for row in rows:
        ours, theirs = row["pooled"]["salen"], row["pooled"][other]
        mine = " / ".join(f"{w:.1f}" for w in row["windows"]["salen"] if w)
        old = " / ".join(f"{w:.1f}" for w in row["windows"][other] if w)
        ratio = f"{row['ratio']:.2f}×" if row["ratio"] else "–"
        print(f"| {row['viewers']:,} | {ours:.1f} ({mine}) | {theirs:.1f} ({old}) | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
