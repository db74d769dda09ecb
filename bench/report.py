"""The markdown of bench/results/README.md, from the rows the benchmarks return."""

from __future__ import annotations

from pathlib import Path
from typing import Any

GOALS = (
    "Goals (issue 8): 10,000 viewers, R = 10: p99 ≤ 400 ms, no losses; R = 50 no losses; "
    "5,000 viewers: p99 ≤ 200 ms; CPU per frame ≤ 1.2× the `websockets.broadcast()` peer's; "
    "RSS ≤ 30 KiB per idle viewer; Redis, 2 × 5,000, R = 10: p99 ≤ 300 ms; a question reaches "
    "the moderators in ≤ 100 ms p99 with 10,000 viewers; reconnect storm of 10,000 resynced in "
    "≤ 10 s, nothing lost; event page ≥ 0.5× the bare handler with ≤ 3 queries. "
    "Realistic moderation (issue 24): 5,000 viewers, R = 10: p99 ≤ 200 ms, nothing lost; "
    "10,000 viewers, R = 10: p99 ≤ 300 ms (moonshot 250 ms), nothing lost; R = 50: nothing lost, "
    "p99 ≤ 400 ms; CPU per frame ≤ 1.2× the `websockets.broadcast()` peer's at 5,000 and 10,000."
)


def _ms(value: Any) -> str:
    return "–" if value is None else f"{value:,.0f}"


def fanout_table(rows: list[dict[str, Any]]) -> list[str]:
    """One line per (server, N, R)."""
    lines = [
        ("| server | viewers | R/s | valid | p50 ms | p99 ms | max ms | frames/s | changes/s "
        "| lost | closed | errors | CPU-s per M frames | server CPU | core 0 busy | generator core "
        "| RSS/conn KiB |"),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["server"] == "storm":
            continue
        lat = r["latency"]
        cpm = r["cpu_per_million"]
        lines.append(
            f"| {r['server']} | {r['viewers']:,} | {r['rate']} | {'yes' if r['valid'] else '**no**'} "
            f"| {_ms(lat['p50'])} | {_ms(lat['p99'])} | {_ms(lat['max'])} | {r['frames_s']:,.0f} "
            f"| {r['changes_s']:,.0f} | {r['lost']:,} | {r['closed']:,} | {r['errors']} "
            f"| {'–' if cpm is None else f'{cpm:.1f}'} | {r['server_share']:.0%} "
            f"| {r['server_core']:.0%} | {r['gen_core']:.0%} | {r['rss_per_conn']:.1f} |"
        )
    return lines


def realistic_table(rows: list[dict[str, Any]]) -> list[str]:
    """One line per (server, N, R) of the realistic workload, with frame sizes and CPU per change."""
    lines = [
        ("| server | viewers | R/s | valid | bytes/frame | p50 ms | p99 ms | max ms | frames/s "
         "| votes/s | lost | closed | errors (votes) | CPU-s per M frames | CPU ms per change "
         "| server CPU | core 0 busy | generator core |"),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lat, cpm, cpc = r["latency"], r["cpu_per_million"], r.get("cpu_per_change_ms")
        size = r.get("frame_bytes")
        lines.append(
            f"| {r['server']} | {r['viewers']:,} | {r['rate']} | {'yes' if r['valid'] else '**no**'} "
            f"| {'–' if size is None else f'{size:,.0f}'} | {_ms(lat['p50'])} | {_ms(lat['p99'])} "
            f"| {_ms(lat['max'])} | {r['frames_s']:,.0f} | {r.get('votes_s', 0):,.0f} "
            f"| {r['lost']:,} | {r['closed']:,} | {r['errors']} ({r.get('vote_errors', 0)}) "
            f"| {'–' if cpm is None else f'{cpm:.1f}'} | {'–' if cpc is None else f'{cpc:.2f}'} "
            f"| {r['server_share']:.0%} | {r['server_core']:.0%} | {r['gen_core']:.0%} |"
        )
    return lines


def cost_table(rows: list[dict[str, Any]]) -> list[str]:
    """The alternating windows of `bench/cost.py`, one line per audience size."""
    lines = ["| viewers | Salen, each window | peer, each window | Salen pooled | peer pooled | ratio | lost |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        each = {k: " / ".join("–" if v is None else f"{v:.1f}" for v in vs) for k, vs in r["windows"].items()}
        pooled = {k: "–" if v is None else f"{v:.1f}" for k, v in r["pooled"].items()}
        ratio = "–" if r["ratio"] is None else f"**{r['ratio']:.2f}×**"
        lines.append(f"| {r['viewers']:,} | {each['salen']} | {each['python']} | {pooled['salen']} "
                     f"| {pooled['python']} | {ratio} | {r['lost']:,} |")
    return lines


def asks_table(rows: list[dict[str, Any]]) -> list[str]:
    """Question-to-moderator latency, measured during the R = 10 Salen runs."""
    lines = ["| viewers | questions | p50 ms | p99 ms | max ms | never seen |", "|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("asked"):
            a = r["asked"]
            lines.append(f"| {r['viewers']:,} | {a['asked']} | {_ms(a['p50'])} | {_ms(a['p99'])} "
                         f"| {_ms(a['max'])} | {a['unanswered']} |")
    return lines


def storm_table(rows: list[dict[str, Any]]) -> list[str]:
    """Reconnect storms."""
    lines = [("| viewers | reconnected | all resynced after | approvals during the storm "
             "| (viewer, question) pairs missing | not open at the end |"), "|---|---|---|---|---|---|"]
    for r in rows:
        if r["server"] == "storm":
            lines.append(f"| {r['viewers']:,} | {r['reconnected']:,} | {r['seconds']:.1f} s "
                         f"| {r['approved']} | {r['missing']:,} | {r['not_open']:,} |")
    return lines


def pages_table(rows: list[dict[str, Any]]) -> list[str]:
    """Page requests per second against the bare handler."""
    lines = ["| page | bytes | DB queries per view | Salen req/s | bare Starlette req/s | ratio |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| `{r['page']}` | {r['bytes']:,} | {r['queries']} | {r['salen_rps']:,.0f} "
                     f"| {r['bare_rps']:,.0f} | **{r['ratio']:.2f}×** |")
    return lines


def registration_lines(row: dict[str, Any]) -> list[str]:
    """The registration burst."""
    outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(row["outcomes"].items()))
    return [
        (f"300 concurrent sign-ups (each from its own loopback address) took **{row['seconds']:.1f} s** "
        f"(median response after {row['p50']:.1f} s, last after {row['max']:.1f} s). Outcomes: {outcomes}; "
        f"{row['stored']} registrations stored; waitlist positions without gaps: {row['gapless']}. "
        f"Correct: **{'yes' if row['correct'] else 'NO'}**."),
    ]


def others_lines(others: list[tuple[str, Path, str]]) -> list[str]:
    """The other engineers' benchmarks: how they were run and their latest results files."""
    lines = []
    for name, path, status in others:
        head = path.read_text().splitlines()[:3] if path.exists() else ["(no results yet)"]
        title = head[0].lstrip("# ") if head else name
        lines.append(f"- **{title}** — `{name}`, {status}; results: [{path.name}]({path.name}) "
                     f"({next((h for h in head if h.startswith('Generated')), '').rstrip('.')})")
    return lines


def write(path: Path, machine: list[str], sections: list[tuple[str, list[str]]],
          command: str) -> None:
    """Write the whole results file."""
    out = ["# Salen benchmark results", "", f"Generated by `{command}`.", "", *machine, "", GOALS, ""]
    for title, lines in sections:
        out += [f"## {title}", "", *lines, ""]
    path.write_text("\n".join(out))


def _find(rows: list[dict[str, Any]], server: str, n: int, rate: int | None = None) -> dict[str, Any] | None:
    for r in rows:
        if r["server"] == server and r["viewers"] == n and (rate is None or r.get("rate") == rate):
            return r
    return None


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("**yes**" if ok else "no")


def goals_table(raw: dict[str, Any]) -> list[str]:
    """Each goal of the issue next to what this run measured."""
    fan, redis = raw.get("fanout", []), raw.get("redis", [])
    lines = ["| goal | measured | met |", "|---|---|---|"]

    def latency_goal(label: str, row: dict[str, Any] | None, limit: int) -> None:
        lines.extend(_latency_row(label, row, limit))

    latency_goal("10,000 viewers, R = 10: p99 ≤ 400 ms, no losses", _find(fan, "salen", 10000, 10), 400)
    r50 = _find(fan, "salen", 10000, 50)
    if r50:
        lines.append(f"| 10,000 viewers, R = 50: no losses (coalesced) | lost {r50['lost']:,}, closed "
                     f"{r50['closed']:,}, p99 {_ms(r50['latency']['p99'])} ms | {_verdict(r50['lost'] == 0 and r50['closed'] == 0)} |")
    latency_goal("5,000 viewers, R = 10: p99 ≤ 200 ms", _find(fan, "salen", 5000, 10), 200)
    for row in raw.get("cost", []):
        if row["ratio"] is not None:
            note = "" if row["valid"] else " (a window invalid: generator core over 85 %)"
            lines.append(f"| CPU per frame ≤ 1.2× `websockets.broadcast()` ({row['viewers']:,} viewers, R = 1, "
                         f"alternating windows) | {row['pooled']['salen']:.1f} vs {row['pooled']['python']:.1f} "
                         f"CPU-s per M frames = {row['ratio']:.2f}×{note} | {_verdict(row['ratio'] <= 1.2)} |")
    for n in (() if raw.get("cost") else (1000, 10000)):
        ours, peer = _find(fan, "salen", n, 1), _find(fan, "python", n, 1)
        if ours and peer and ours["cpu_per_million"] and peer["cpu_per_million"]:
            ratio = ours["cpu_per_million"] / peer["cpu_per_million"]
            lines.append(f"| CPU per frame ≤ 1.2× `websockets.broadcast()` ({n:,} viewers, R = 1) | "
                         f"{ours['cpu_per_million']:.1f} vs {peer['cpu_per_million']:.1f} CPU-s per M frames = "
                         f"{ratio:.2f}× | {_verdict(ratio <= 1.2)} |")
    big = _find(fan, "salen", 10000) or _find(fan, "salen", 5000)
    if big:
        lines.append(f"| RSS ≤ 30 KiB per viewer | {big['rss_per_conn']:.1f} KiB ({big['viewers']:,} viewers) "
                     f"| {_verdict(big['rss_per_conn'] <= 30)} |")
    if redis:
        latency_goal("Redis, 2 × 5,000 viewers, R = 10: p99 ≤ 300 ms, no losses", redis[0], 300)
    asked = _find(fan, "salen", 10000, 10)
    if asked and asked.get("asked"):
        a = asked["asked"]
        ok = a["p99"] is not None and a["p99"] <= 100 and not a["unanswered"]
        lines.append(f"| question → moderators ≤ 100 ms p99 with 10,000 viewers | p99 {_ms(a['p99'])} ms over "
                     f"{a['samples']} questions, {a['unanswered']} not seen | {_verdict(ok)} |")
    storm = _find(fan, "storm", 10000)
    if storm:
        ok = storm["seconds"] <= 10 and storm["missing"] == 0 and storm["reconnected"] == 10000
        lines.append(f"| reconnect storm of 10,000: resynced ≤ 10 s, nothing lost | {storm['seconds']:.1f} s, "
                     f"{storm['missing']:,} missing | {_verdict(ok)} |")
    lines += realistic_goals(raw.get("realistic", []))
    for page in raw.get("pages", []):
        ok = page["ratio"] >= 0.5 and page["queries"] <= 3
        lines.append(f"| `{page['page']}` ≥ 0.5× bare, ≤ 3 queries | {page['ratio']:.2f}×, "
                     f"{page['queries']} queries | {_verdict(ok)} |")
    reg = raw.get("registration")
    if reg:
        lines.append(f"| 300 concurrent sign-ups, correct | {reg['seconds']:.1f} s, correct: {reg['correct']} "
                     f"| {_verdict(reg['correct'])} |")
    return lines


def _latency_row(label: str, row: dict[str, Any] | None, limit: int) -> list[str]:
    """The goals table's line for a latency goal, none when the run has no such row."""
    if row is None:
        return []
    p99 = row["latency"]["p99"]
    ok = p99 is not None and p99 <= limit and row["lost"] == 0 and row["closed"] == 0
    note = "" if row["valid"] else " (run invalid: generator core over 85 %)"
    if row.get("server_core", 0) - row.get("server_share", 0) > 0.2:
        note += " (core 0 also busy with other work)"
    size = row.get("frame_bytes")
    if row.get("workload") == "realistic" and size:
        note += f" ({size:,.0f} bytes a frame)"
    line = (f"| {label} | p99 {_ms(p99)} ms, lost {row['lost']:,}, closed {row['closed']:,}{note} "
            f"| {_verdict(ok)} |")
    return [line]


def realistic_goals(real: list[dict[str, Any]]) -> list[str]:
    """The goals of issue 24 against the realistic section's rows."""
    lines = [
        *_latency_row("Realistic, 5,000 viewers, R = 10: p99 ≤ 200 ms, nothing lost",
                     _find(real, "salen", 5000, 10), 200),
        *_latency_row("Realistic, 10,000 viewers, R = 10: p99 ≤ 300 ms (moonshot 250), nothing lost",
                     _find(real, "salen", 10000, 10), 300),
        *_latency_row("Realistic, 10,000 viewers, R = 50: p99 ≤ 400 ms, nothing lost",
                     _find(real, "salen", 10000, 50), 400),
    ]
    for n in (5000, 10000):
        ours, peer = _find(real, "salen", n, 10), _find(real, "python", n, 10)
        if ours and peer and ours["cpu_per_million"] and peer["cpu_per_million"]:
            ratio = ours["cpu_per_million"] / peer["cpu_per_million"]
            lines.append(f"| Realistic: CPU per frame ≤ 1.2× `websockets.broadcast()` ({n:,} viewers, R = 10, "
                         f"{ours['frame_bytes']:,.0f} vs {peer['frame_bytes']:,.0f} bytes a frame) | "
                         f"{ours['cpu_per_million']:.1f} vs {peer['cpu_per_million']:.1f} CPU-s per M frames "
                         f"= {ratio:.2f}×; {ours['cpu_per_change_ms']:.2f} ms CPU per change "
                         f"| {_verdict(ratio <= 1.2)} |")
    return lines
