"""Quotas from a fresh demo, with registrations raced from two OS processes (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.support.app import Database

ROOT = Path(__file__).resolve().parent.parent.parent
INNLANDET = ["Innlandet fylkeskommune", "innlandet fylke", " INNLANDET  fylkeskommune",
             "Innlandet FK", "innlandet fk.", "Innlandet Fylkeskommunen"]
COUNTIES = ["Østfold", "Akershus", "Buskerud", "Innlandet", "Vestfold", "Telemark", "Agder",
            "Rogaland", "Vestland", "Møre og Romsdal", "Trøndelag", "Nordland", "Troms",
            "Finnmark"]


def race(url: str, slug: str, people: list[dict[str, str]], tmp: Path) -> list[dict[str, Any]]:
    """Half the people from each of two processes, released together; every result."""
    go = tmp / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children, outs, ready = [], [], []
    for i in range(2):
        batch, out, r = tmp / f"people-{i}.json", tmp / f"out-{i}", tmp / f"ready-{i}"
        batch.write_text(json.dumps(people[i::2]))
        outs.append(out)
        ready.append(r)
        children.append(subprocess.Popen(
            [sys.executable, "-m", "tests.support.signups", url, slug, str(batch), str(out),
             str(r), str(go)], cwd=ROOT, env=env))
    try:
        for _ in range(1200):
            if all(r.exists() for r in ready) or any(c.poll() is not None for c in children):
                break
            time.sleep(0.05)
        go.touch()
        codes = [c.wait(300) for c in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    assert codes == [0, 0]
    return [json.loads(line) for out in outs for line in out.read_text().splitlines()]


def test_thirty_from_innlandet_get_four_places(database: Database, tmp_path: Path) -> None:
    """30 racing sign-ups to the workshop in spellings of Innlandet fylkeskommune: 4 confirmed, 26 quota_exceeded."""
    database.copy_from(database.templates.demo)
    people = [{"name": f"Person {i}", "email": f"p{i}@innlandet.example",
               "organisation": INNLANDET[i % len(INNLANDET)], "occurrence": "oslo",
               "theme": "baerekraft"} for i in range(30)]
    results = race(database.url, "verksted-regional-utvikling", people, tmp_path)
    outcome = Counter(r.get("status") or r["code"] for r in results)
    assert outcome == {"confirmed": 4, "registration.quota_exceeded": 26}
    refused = next(r for r in results if r.get("code"))
    assert refused["message"].startswith(
        "Innlandet fylkeskommune has already used its 4 of 4 places.")
    assert "verksted@kmd.dep.no" in refused["message"]
    assert "Person" not in refused["message"]


def test_one_per_county_event_confirms_one_per_county(database: Database, tmp_path: Path) -> None:
    """Three racing sign-ups from each county to the one-per-county event: exactly one each."""
    database.copy_from(database.templates.demo)
    people = []
    for c, county in enumerate([*COUNTIES, "Oslo"]):
        spelled = [f"{county} fylkeskommune", f"{county.lower()} fylke", f"{county.upper()} FK"]
        if county == "Oslo":
            spelled = ["Oslo fylke", "oslo fylkeskommune", "OSLO FK"]
        people += [{"name": f"P {c}-{i}", "email": f"p{c}-{i}@fylke.example",
                    "organisation": name, "occurrence": "oslo"}
                   for i, name in enumerate(spelled)]
    results = race(database.url, "byregioner-oppstart", people, tmp_path)
    confirmed = [r["email"].split("-")[0] for r in results if r.get("status") == "confirmed"]
    assert sorted(confirmed) == sorted(f"p{c}" for c in range(15))
    assert Counter(r.get("code") for r in results) == {None: 15, "registration.quota_exceeded": 30}
