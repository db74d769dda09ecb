"""The shipped deployment files: systemd units that systemd accepts, an environment file of
known settings, and an nginx configuration that nginx accepts."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

from live.settings import Settings
from tests.support.deploy import DEPLOY, MAIN_CONF, NGINX, read_env_file, site_config

UNITS = DEPLOY / "systemd"


def test_systemd_units_verify_cleanly(tmp_path: Path) -> None:
    """`systemd-analyze verify` accepts every unit (a worker instance of the template too),
    without a warning, once the interpreter path points at this machine's Python."""
    names = []
    for unit in sorted(UNITS.iterdir()):
        text = unit.read_text().replace("/opt/salen/.venv/bin/python", sys.executable)
        name = unit.name.replace("@.", "@8001.")
        (tmp_path / name).write_text(text)
        if unit.name == "salen@.service":
            (tmp_path / "salen@8002.service").write_text(text)
        names.append(f"./{name}")
    assert {"./salen@8001.service", "./salen-migrate.service", "./salen.target",
            "./salen-backup.service", "./salen-backup.timer"} <= set(names)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *names], cwd=tmp_path,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr


def test_worker_unit_serves_its_instance_port_with_the_env_file() -> None:
    """salen@.service runs `salen serve` on port %i and a Unix socket for nginx, with
    /etc/salen/salen.env."""
    text = (UNITS / "salen@.service").read_text()
    assert ("ExecStart=/opt/salen/.venv/bin/python -m live.cli serve --host 127.0.0.1 "
            "--port %i --uds /run/salen/%i.sock") in text
    assert "RuntimeDirectory=salen" in text and "RuntimeDirectoryPreserve=yes" in text
    nginx = (DEPLOY / "nginx" / "salen.conf").read_text()
    assert nginx.count("server unix:/run/salen/8001.sock") == 2  # both upstreams
    assert "EnvironmentFile=/etc/salen/salen.env" in text


def test_env_file_sets_only_known_settings() -> None:
    """deploy/salen.env names only real settings and sets the base URL and files."""
    known = {f"SALEN_{f.name.upper()}" for f in dataclasses.fields(Settings)}
    values = read_env_file(DEPLOY / "salen.env")
    assert set(values) <= known, set(values) - known
    assert values["SALEN_TRUSTED_PROXIES"] == ""  # nginx comes through the Unix sockets
    assert values["SALEN_BASE_URL"].startswith("https://")
    assert values["SALEN_ACCEL_REDIRECT"] == "/_files"
    settings = Settings.from_env(values)
    assert settings.secure_cookies and settings.log_format == "json"


def test_nginx_accepts_the_shipped_configuration(tmp_path: Path) -> None:
    """`nginx -t` accepts deploy/nginx/salen.conf as installed (its "# adapt" values set)."""
    assert shutil.which(NGINX) or Path(NGINX).is_file()
    (tmp_path / "salen.conf").write_text(
        site_config([8101, 8102, 8103], 8100, tmp_path / "rec", tmp_path / "access.log",
                    sockets=tmp_path))
    (tmp_path / "nginx.conf").write_text(MAIN_CONF.format(prefix=tmp_path, user=""))
    result = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                             "-e", str(tmp_path / "error.log")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
