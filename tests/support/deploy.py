"""The shipped deployment on loopback: Debian's nginx with deploy/nginx/salen.conf in front of
`salen serve` workers, each a subprocess on its own port and Unix socket, as deploy/systemd
runs them.

The nginx configuration is the shipped file with its "# adapt" values replaced (workers'
sockets, listen address, static and recordings folders, access log), inside a main
configuration that keeps every nginx path in a temporary prefix; nginx runs in the
foreground as the current user. Workers get the shipped environment file
(deploy/salen.env) with the test's values over it. Used by tests/ops and bench/deploy.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.servers import ServerStartError, free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX = "/usr/sbin/nginx"
STARTUP_TIMEOUT = 60.0

MAIN_CONF = """\
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
{user}
events {{ worker_connections 16384; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    access_log off;
    include {prefix}/salen.conf;
}}
"""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a systemd environment file (comments and blank lines skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip('"')
    return values


def site_config(ports: list[int], listen: int, recordings: Path, access_log: Path,
                sockets: Path | None = None) -> str:
    """deploy/nginx/salen.conf with its "# adapt" values set for this machine: the workers
    on `sockets`/{port}.sock (`salen serve --uds`, as shipped), or without `sockets` on
    their TCP ports."""
    text = (DEPLOY / "nginx" / "salen.conf").read_text()
    workers = "".join(f"    server {_upstream(p, sockets)} max_fails=1 fail_timeout=5s;\n"
                      for p in ports)
    shipped = ("    server unix:/run/salen/8001.sock max_fails=1 fail_timeout=5s;  # adapt: one line per worker\n"
               "    server unix:/run/salen/8002.sock max_fails=1 fail_timeout=5s;  # adapt\n")
    same = ("    server unix:/run/salen/8001.sock max_fails=1 fail_timeout=5s;  # adapt: the same workers\n"
            "    server unix:/run/salen/8002.sock max_fails=1 fail_timeout=5s;  # adapt\n")
    for old, new in [
        (shipped, workers), (same, workers),
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        ("/var/log/nginx/salen.access.log", str(access_log)),
        ("/var/log/nginx/salen.error.log", str(access_log.with_name("salen.error.log"))),
        ("/opt/salen/static/", f"{ROOT / 'static'}/"),
        ("/var/lib/salen/recordings/", f"{recordings}/"),
    ]:
        if old not in text:
            raise AssertionError(f"deploy/nginx/salen.conf no longer has {old!r}")
        text = text.replace(old, new)
    return text


def _upstream(port: int, sockets: Path | None) -> str:
    return f"127.0.0.1:{port}" if sockets is None else f"unix:{socket_path(sockets, port)}"


def socket_path(sockets: Path, port: int) -> Path:
    """Where the worker on `port` listens for nginx (/run/salen/{port}.sock when shipped)."""
    return sockets / f"{port}.sock"


def socket_dir() -> Path:
    """A new folder for workers' Unix sockets, with a path short enough for one
    (108 bytes at most: pytest's temporary folders can be longer)."""
    return Path(tempfile.mkdtemp(prefix="salen-", dir="/tmp"))


@contextlib.contextmanager
def run_nginx(prefix: Path, ports: list[int], recordings: Path, listen: int,
              sockets: Path | None = None) -> Iterator[Path]:
    """nginx on `listen` in front of the workers of `ports` (on their Unix sockets in
    `sockets`, when given) until exit; yields its access log."""
    prefix.mkdir(parents=True, exist_ok=True)
    access_log = prefix / "access.log"
    (prefix / "salen.conf").write_text(site_config(ports, listen, recordings, access_log, sockets))
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read the test's folders
    (prefix / "nginx.conf").write_text(MAIN_CONF.format(prefix=prefix, user=user))
    args = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e",
            str(prefix / "error.log")]
    checked = subprocess.run([*args, "-t"], capture_output=True, text=True, check=False)
    if checked.returncode != 0:
        raise ServerStartError(f"nginx -t failed:\n{checked.stderr}")
    process = subprocess.Popen([*args, "-g", "daemon off;"], stdin=subprocess.DEVNULL)
    try:
        _wait_http(f"http://127.0.0.1:{listen}/healthz", process, prefix / "error.log")
        yield access_log
    finally:
        process.terminate()
        process.wait(timeout=15)


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(f"{url}: process exited\n{_tail(log)}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=5).status_code < 500:
                return
        time.sleep(0.1)
    raise ServerStartError(f"{url}: no answer in {STARTUP_TIMEOUT:g} s\n{_tail(log)}")


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-4000:]
    except OSError:
        return "(no log)"


@dataclass
class Worker:
    """One `salen serve` process on its own port."""

    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    # The folder of its Unix socket for nginx (`--uds`), as salen@.service runs it.
    sockets: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, env: Mapping[str, str]) -> None:
        uds = [] if self.sockets is None else ["--uds", str(socket_path(self.sockets, self.port))]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "live.cli", "serve", "--host", "127.0.0.1",
                 "--port", str(self.port), *uds],
                env=dict(env), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=ROOT)
        _wait_http(f"{self.url}/readyz", self.process, self.log)

    def kill(self) -> None:
        """SIGKILL: no shutdown, as a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@dataclass
class Deployment:
    """nginx and its workers: the public URL, each worker, the folders and logs."""

    url: str
    workers: list[Worker]
    recordings: Path
    access_log: Path
    env: dict[str, str] = field(repr=False)


def worker_env(tmp: Path, database_url: str, hub_url: str, base_url: str,
               **extra: str) -> dict[str, str]:
    """The shipped environment file with this deployment's values over it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALEN_")}
    env |= read_env_file(DEPLOY / "salen.env")
    env |= {
        "SALEN_DATABASE_URL": database_url, "SALEN_HUB_URL": hub_url,
        "SALEN_BASE_URL": base_url, "SALEN_SECURE_COOKIES": "false",
        "SALEN_SECRET_KEY": "deploy-test-secret", "SALEN_RECORDINGS_DIR": str(tmp / "recordings"),
        "SALEN_OUTBOX_DIR": str(tmp / "outbox"), "SALEN_ICE_ADDRESSES": "127.0.0.1",
        "PYTHONPATH": str(ROOT),
    } | {f"SALEN_{k.upper()}": v for k, v in extra.items()}
    return env


@contextlib.contextmanager
def deployment(tmp: Path, database_url: str, hub_url: str, workers: int = 2,
               **extra: str) -> Iterator[Deployment]:
    """Migrate once (as salen-migrate.service), start the workers, then nginx in front."""
    ports = [free_port() for _ in range(workers)]
    recordings = tmp / "recordings"
    recordings.mkdir(parents=True, exist_ok=True)
    listen = free_port()
    env = worker_env(tmp, database_url, hub_url, f"http://127.0.0.1:{listen}", **extra)
    subprocess.run([sys.executable, "-m", "live.cli", "db", "upgrade"], env=env, cwd=ROOT,
                   check=True, capture_output=True)
    sockets = socket_dir()
    running = [Worker(port, tmp / f"worker-{port}.log", sockets=sockets) for port in ports]
    try:
        for worker in running:
            worker.start(env)
        with run_nginx(tmp / "nginx", ports, recordings, listen, sockets) as access_log:
            yield Deployment(f"http://127.0.0.1:{listen}", running, recordings, access_log, env)
    finally:
        for worker in running:
            worker.stop()
        shutil.rmtree(sockets, ignore_errors=True)
