"""Running Salen in production: health and readiness, metrics, checks before start, backups.

Rooms: `health` (one check per part: database, migrations, hub, recordings folder),
`metrics` (the process's Prometheus registry and the hooks that feed it), `api` (`/healthz`,
`/readyz`, `/metrics`), `check` (`salen check`), `backup` (`salen backup` / `restore`),
`logs` (JSON log lines), `accel` (files handed to nginx with X-Accel-Redirect). The
deployment itself (nginx, systemd) is in deploy/ and docs/deploy.md.
"""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """`/healthz`, `/readyz` and `/metrics`."""
    from live.ops import api

    return list(api.routes)
