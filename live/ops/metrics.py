"""Prometheus metrics of one Salen process, in a registry of its own (no module state).

`Metrics()` is made with the process's `AppState` (`live.state`), so each app, and each
test, has its own `CollectorRegistry`; `/metrics` (`live.ops.api`) renders it. Parts of
Salen report through hook methods that cost a counter increment or a histogram bucket:

    connection(event, role)    a live socket joined; a context manager that counts it
    tick(seconds, frames, paced)  a viewers' tick wrote `frames` frames in `seconds` of
                               CPU, after the wait `paced` (`live.realtime.tick.Pacing`)
                               chose; `over` counts ticks paced beyond the latency target
    action(type, seconds, ok)  a socket action was answered (`ok` False: an error reply)
    hub_lag(seconds)           a notice took this long from publish to this process
    hub_reconnected()          the hub answers again after failing
                               (both fed by `live.ops.probe`; the hub may call them too)
    registered(event, status)  a registration was accepted ("confirmed" or "waitlisted")

What is already kept elsewhere (streams' publishers and viewers, recording jobs running)
is read when scraped, through `sample(...)`, not copied into gauges on every change.

Several workers: each process serves its own registry, and Prometheus scrapes every
worker on its own port (docs/deploy.md; `salen serve --workers N` shares one port, so
there a scrape reaches whichever worker accepted it). prometheus-client's multiprocess mode is not used:
it needs a shared folder named before import and module-level metrics, and it cannot
report the gauges read at scrape time per process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from live.realtime.tick import Pacing

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds: a tick of a few viewers takes ~0.1 ms of CPU, one of thousands some 100 ms.
TICK_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
ACTION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)

Sampler = Callable[[], Iterable[tuple[tuple[str, ...], float]]]


class Streams(Protocol):
    """Live streams as the metrics read them (`stream.manager.LiveStreams`)."""

    def audience(self) -> dict[str, int]: ...


class Jobs(Protocol):
    """Recording jobs as the metrics read them (`live.archive.Archive`)."""

    @property
    def running(self) -> int: ...


@dataclass(frozen=True)
class _Sampled:
    """A gauge family read from its owner when scraped."""

    name: str
    help: str
    labels: tuple[str, ...]
    read: Sampler


class _SampledCollector(Collector):
    def __init__(self) -> None:
        self.families: list[_Sampled] = []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for sampled in self.families:
            family = GaugeMetricFamily(sampled.name, sampled.help, labels=list(sampled.labels))
            for values, value in sampled.read():
                family.add_metric(list(values), value)
            yield family


class Metrics:
    """The process's metrics and the hooks that feed them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge(
            "salen_connections", "Open live sockets by event and role (viewer, moderator, display).",
            ["event", "role"], registry=r)
        self.tick_seconds = Histogram(
            "salen_tick_seconds", "CPU seconds of one viewers' tick.", buckets=TICK_BUCKETS,
            registry=r)
        self.tick_frames = Counter(
            "salen_tick_frames", "Frames written to viewers by ticks.", registry=r)
        self.tick_wait = Gauge(
            "salen_tick_wait_seconds", "The wait before the latest viewers' tick.", registry=r)
        self.tick_worst = Gauge(
            "salen_tick_worst_delay_seconds",
            "Longest a change may take to reach every viewer at the latest tick's pacing "
            "(wait + 2 × tick).", registry=r)
        self.tick_over = Counter(
            "salen_tick_over_target",
            "Viewers' ticks paced beyond SALEN_LIVE_LATENCY_TARGET_MS (the core is too busy "
            "to meet it).", registry=r)
        self.actions = Histogram(
            "salen_action_seconds", "Socket actions answered, by type and outcome, and their latency.",
            ["type", "outcome"], buckets=ACTION_BUCKETS, registry=r)
        self.hub_lags = Histogram(
            "salen_hub_lag_seconds", "Seconds from publishing a notice to receiving it here.",
            buckets=LAG_BUCKETS, registry=r)
        self.hub_reconnects = Counter(
            "salen_hub_reconnects", "Times the hub's connection came back after a loss.", registry=r)
        self.hub_failures = Counter(
            "salen_hub_probe_failures", "Hub probes that got no answer in time.", registry=r)
        self.registrations = Counter(
            "salen_registrations", "Registrations accepted by this process, by event and status.",
            ["event", "status"], registry=r)
        self._sampled = _SampledCollector()
        r.register(self._sampled)

    @contextlib.contextmanager
    def connection(self, event: str, role: str) -> Iterator[None]:
        """Count one live socket of `event` in `role` while the block runs."""
        gauge = self.connections.labels(event, role)
        gauge.inc()
        try:
            yield
        finally:
            gauge.dec()

    def tick(self, seconds: float, frames: int, paced: Pacing) -> None:
        """A viewers' tick wrote `frames` frames in `seconds` of CPU after the wait `paced`."""
        self.tick_seconds.observe(seconds)
        self.tick_frames.inc(frames)
        self.tick_wait.set(paced.wait)
        self.tick_worst.set(paced.worst)
        if paced.over:
            self.tick_over.inc()

    def action(self, kind: str, seconds: float, ok: bool) -> None:
        """A socket action of type `kind` was answered after `seconds`."""
        self.actions.labels(kind, "ok" if ok else "error").observe(seconds)

    def hub_lag(self, seconds: float) -> None:
        """A notice took `seconds` from publish to this process."""
        self.hub_lags.observe(seconds)

    def hub_reconnected(self) -> None:
        """The hub's connection came back after a loss."""
        self.hub_reconnects.inc()

    def registered(self, event: str, status: str) -> None:
        """A registration for `event` was accepted with `status`."""
        self.registrations.labels(event, status).inc()

    def sample(self, name: str, help: str, labels: tuple[str, ...], read: Sampler) -> None:
        """A gauge family whose values `read()` gives as (label values, value) when scraped."""
        self._sampled.families.append(_Sampled(name, help, labels, read))

    def watch_streams(self, streams: Streams) -> None:
        """Publishers and WebRTC viewers of the streams on this process, read when scraped."""
        self.sample("salen_stream_publishers", "Streams published to this process.", (),
                    lambda: [((), len(streams.audience()))])
        self.sample("salen_stream_viewers", "WebRTC viewers on this process by event.",
                    ("event",), lambda: [((n,), v) for n, v in streams.audience().items()])

    def watch_jobs(self, jobs: Jobs) -> None:
        """Recordings being packaged by this process, read when scraped."""
        self.sample("salen_recording_jobs", "Recordings being packaged by this process.", (),
                    lambda: [((), jobs.running)])

    def render(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)
