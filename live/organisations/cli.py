"""`salen organisations import FILE`: replace the registry of public bodies from a file.

The file has the shape of `data/registry.csv` (see `data/SOURCE.md`). It is read and
checked completely first: any bad line stops the import with every problem listed by line
number, and the database is left as it was. The load itself is one transaction.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add(sub: Any, with_session: Any) -> None:
    """Register the `organisations` command group on the `salen` parser."""
    group = sub.add_parser("organisations", help="the registry of public bodies").add_subparsers(
        title="organisations commands")
    imp = group.add_parser(
        "import", help="replace the registry from a CSV file (columns as data/registry.csv)")
    imp.add_argument("file", type=Path, help="the CSV file (UTF-8)")
    imp.set_defaults(run=lambda args: run_import(args, with_session))


def run_import(args: argparse.Namespace, with_session: Any) -> int:
    """Validate the whole file, then load it; 1 with the problems when it is bad."""
    from live.organisations.domain import RegistryError, parse_registry
    from live.organisations.review import load_and_reflag
    from live.settings import Settings

    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    try:
        entries = parse_registry(text)
    except RegistryError as exc:
        print(f"error: {args.file} was not imported; nothing changed:", file=sys.stderr)
        for line, problem in exc.problems:
            print(f"  line {line}: {problem}", file=sys.stderr)
        return 1

    async def load(session: Any) -> tuple[int, list[int]]:
        return await load_and_reflag(session, entries)

    loaded, flagged = with_session(Settings.from_env(), load)
    print(f"the registry now has {loaded} organisations from {args.file}")
    if flagged:
        print(f"{len(flagged)} registrations are now beyond a quota (names registrants typed that "
              "the file knows): see the events' participant lists")
    return 0
