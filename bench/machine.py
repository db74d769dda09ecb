"""What the benchmarks run on, and the /proc readings they take (CPU time, core load, RSS)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata

TICKS = os.sysconf("SC_CLK_TCK")


def describe() -> list[str]:
    """Markdown bullet lines: CPU, cores, memory, kernel, Python and library versions, date."""
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem_kib = int(line.split()[1])
    versions = ", ".join(f"{name} {_version(name)}" for name in ("uvicorn", "websockets", "starlette", "sqlalchemy"))
    node = _run(["node", "--version"])
    wrk = _run(["wrk", "--version"]).split(" [")[0] or "not installed"
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return [
        f"- CPU: {model}, {os.cpu_count()} cores; RAM {mem_kib / 2**20:.0f} GiB; {platform.platform()}",
        f"- Python {platform.python_version()} ({sys.implementation.name}); {versions}",
        f"- Node {node}, ws {_node_ws_version()}; {wrk}",
        (f"- Open-file limit {resource.getrlimit(resource.RLIMIT_NOFILE)[0]}; local ports "
        f"{_read('/proc/sys/net/ipv4/ip_local_port_range').replace(chr(9), '-')}"),
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; load average at the start: {load}",
    ]


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def _node_ws_version() -> str:
    import json
    from pathlib import Path

    path = Path(__file__).parent / "node" / "node_modules" / "ws" / "package.json"
    try:
        return str(json.loads(path.read_text())["version"])
    except OSError:
        return "not installed"


def _run(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=10)
        return done.stdout.strip() or done.stderr.strip()  # some tools print versions on stderr
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def process_cpu(pid: int) -> float:
    """CPU-seconds of a process: its threads' run time in nanoseconds where the kernel has it.

    `/proc/PID/stat` counts in clock ticks (10 ms): at 1,000 viewers and one change a second
    a 6 s window is some ten ticks, so a ratio to the peer moved by a sixth with one tick.
    The per-thread run time of `/proc/PID/task/*/schedstat` is exact but forgets threads
    that have exited; without it, user + system time (and reaped children's) from `stat`.
    """
    try:
        return sum(int(_read(f"/proc/{pid}/task/{task}/schedstat").split()[0])
                   for task in os.listdir(f"/proc/{pid}/task")) / 1e9
    except (OSError, ValueError, IndexError):
        fields = _read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / TICKS


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB."""
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass(frozen=True)
class CoreTimes:
    """Busy and total jiffies per core at one moment."""

    busy: tuple[int, ...]
    total: tuple[int, ...]

    @classmethod
    def now(cls) -> CoreTimes:
        """Read /proc/stat."""
        busy, total = [], []
        for line in _read("/proc/stat").splitlines():
            if line.startswith("cpu") and line[3].isdigit():
                values = [int(x) for x in line.split()[1:]]
                idle = values[3] + values[4]
                busy.append(sum(values[:8]) - idle)
                total.append(sum(values[:8]))
        return cls(tuple(busy), tuple(total))

    def busy_since(self, earlier: CoreTimes) -> list[float]:
        """Share of each core that was busy between `earlier` and this reading."""
        return [
            (b - eb) / max(1, t - et)
            for b, eb, t, et in zip(self.busy, earlier.busy, self.total, earlier.total, strict=True)
        ]


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to the hard limit (children inherit it)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard
