"""The `salen` command: serve, check, db upgrade, backup/restore, event import/export, user
create, recording import, stream key, organisations import."""

from __future__ import annotations

import argparse
import asyncio
import copy
import dataclasses
import getpass
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from live.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        result = args.run(args)
    except Exception as exc:  # the CLI's one place that turns errors into messages
        from live.errors import SalenError

        if not isinstance(exc, SalenError):
            raise
        print(f"error: {exc.message}", file=sys.stderr)
        for field, text in exc.fields.items():
            print(f"  {field}: {text}", file=sys.stderr)
        return 1
    return int(result or 0)


def _parser() -> argparse.ArgumentParser:
    env_help = "\n".join(f"  {name} (default {default!r}): {text}"
                         for name, default, text in Settings.describe())
    parser = argparse.ArgumentParser(
        prog="salen", description="Salen – hybrid seminars, self-hosted.",
        epilog="Settings come from the environment:\n" + env_help,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(title="commands")
    _add_serve(sub)
    _add_ops(sub)
    _add_db(sub)
    _add_event(sub)
    _add_user(sub)
    _add_recording(sub)
    _add_stream(sub)
    _add_registrations(sub)
    from live.organisations.cli import add as add_organisations

    add_organisations(sub, _with_session)
    return parser


def _add_serve(sub: Any) -> None:
    """`salen serve ...`."""
    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1,
                       help="processes; more than one needs SALEN_HUB_URL=redis://...")
    serve.add_argument("--demo", action="store_true", help="load the demo events and organiser")
    serve.add_argument("--uds", metavar="PATH",
                       help="also listen on this Unix socket, for nginx on the same machine "
                            "(deploy/); what connects through it is trusted as the proxy")
    serve.set_defaults(run=_serve)


def _add_ops(sub: Any) -> None:
    """`salen check`, `salen backup FILE`, `salen restore FILE` (`live.ops`)."""
    sub.add_parser("check", help="check the configuration before start (exit 1 naming what "
                   "is wrong)").set_defaults(run=_check)
    back = sub.add_parser("backup", help="write a consistent copy of the database to FILE")
    back.add_argument("file", type=Path)
    back.set_defaults(run=_backup)
    rest = sub.add_parser("restore", help="replace the database's content with FILE (stop the "
                          "workers first)")
    rest.add_argument("file", type=Path)
    rest.set_defaults(run=_restore)


def _check(args: argparse.Namespace) -> int:
    from live.ops.check import run_checks

    findings = asyncio.run(run_checks(Settings.from_env()))
    for finding in findings:
        print(finding.line())
    failed = [f.part for f in findings if f.problem is not None]
    if failed:
        print(f"error: not ready to serve: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _backup(args: argparse.Namespace) -> int:
    from live.ops.backup import backup

    print(backup(Settings.from_env().database_url, args.file))
    return 0


def _restore(args: argparse.Namespace) -> int:
    from live.ops.backup import restore

    print(restore(Settings.from_env().database_url, args.file))
    return 0


def _add_db(sub: Any) -> None:
    """`salen db ...`."""
    db = sub.add_parser("db", help="database maintenance").add_subparsers(title="db commands")
    db.add_parser("upgrade", help="apply migrations").set_defaults(run=_db_upgrade)


def _add_event(sub: Any) -> None:
    """`salen event ...`."""
    event = sub.add_parser("event", help="event documents").add_subparsers(title="event commands")
    imp = event.add_parser("import", help="create or update an event from a YAML/JSON file")
    imp.add_argument("file", type=Path)
    imp.set_defaults(run=_event_import)
    exp = event.add_parser("export", help="write an event as YAML or JSON to stdout")
    exp.add_argument("slug")
    exp.add_argument("--format", choices=["yaml", "json"], default="yaml")
    exp.set_defaults(run=_event_export)


def _add_user(sub: Any) -> None:
    """`salen user ...`."""
    user = sub.add_parser("user", help="organiser accounts").add_subparsers(title="user commands")
    create = user.add_parser("create", help="create or update an organiser account")
    create.add_argument("email")
    create.add_argument("--name", default="")
    create.add_argument("--admin", action="store_true", help="may create and edit every event")
    create.add_argument("--event", help="give a role on this event (slug)")
    create.add_argument("--role", default="organiser", choices=["organiser", "moderator", "speaker"])
    create.add_argument("--password", help="default: asked for, or SALEN_PASSWORD")
    create.set_defaults(run=_user_create)


def _add_recording(sub: Any) -> None:
    """`salen recording ...`."""
    recording = sub.add_parser("recording", help="recording archive").add_subparsers(
        title="recording commands")
    rec_import = recording.add_parser(
        "import", help="import a video file as a recording; prints the new recording's id")
    rec_import.add_argument("file", type=Path)
    rec_import.add_argument("--event", required=True, help="the event's slug")
    rec_import.add_argument("--started-at", help="when the recording began (ISO time, local "
                            "unless it has an offset); default: when the programme began")
    rec_import.add_argument("--title", default="", help="default: the event's title")
    rec_import.set_defaults(run=_recording_import)
    rec_transcribe = recording.add_parser(
        "transcribe", help="draft captions by offline speech recognition (SALEN_TRANSCRIBE_*)")
    rec_transcribe.add_argument("id", type=int, help="the recording's id")
    rec_transcribe.set_defaults(run=_recording_transcribe)


def _add_stream(sub: Any) -> None:
    """`salen stream ...`."""
    stream = sub.add_parser("stream", help="live streams").add_subparsers(title="stream commands")
    key = stream.add_parser("key", help="print an event's WHIP/WHEP/HLS URLs and stream key")
    key.add_argument("slug")
    key.add_argument("--new", action="store_true", help="make a new key (the old one stops working)")
    key.set_defaults(run=_stream_key)


def _add_registrations(sub: Any) -> None:
    """`salen registrations ...`."""
    registrations = sub.add_parser("registrations", help="participants' data").add_subparsers(
        title="registrations commands")
    purge = registrations.add_parser(
        "purge", help="delete the registrations of events that ended more than N days ago")
    purge.add_argument("--days", type=int, required=True, help="retention period in days")
    purge.set_defaults(run=_registrations_purge)


def _with_session(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    from live.db import create_engine, sessionmaker

    async def run() -> Any:
        engine = create_engine(settings.database_url)
        try:
            async with sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _db_upgrade(args: argparse.Namespace) -> int:
    from live.migrate import upgrade

    settings = Settings.from_env()
    upgrade(settings.database_url)
    _ensure_registry(settings)
    print(f"database at {settings.database_url} is up to date")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from live import server
    from live.migrate import upgrade
    from stream.recovery import check_folder

    settings = Settings.from_env()
    if args.workers > 1 and not settings.hub_url.startswith("redis"):
        print("error: --workers > 1 needs SALEN_HUB_URL=redis://... so processes share live state",
              file=sys.stderr)
        return 2
    if args.uds and args.workers > 1:
        print("error: --uds serves one process: run one worker per socket "
              "(deploy/systemd/salen@.service)", file=sys.stderr)
        return 2
    if args.uds and (problem := server.unix_path_problem(args.uds)):
        print(f"error: --uds: {problem}", file=sys.stderr)
        return 2
    if problem := check_folder(Path(settings.recordings_dir)):
        print(f"error: {problem}", file=sys.stderr)
        return 1
    print(f"preparing the database at {settings.database_url} ...", flush=True)
    upgrade(settings.database_url)
    _ensure_registry(settings)
    if args.demo:
        # Links the demo prints (the captioner's) point where this server listens.
        _load_demo(dataclasses.replace(settings, served_url=served_url(args.host, args.port)))
    if not os.environ.get("SALEN_SECRET_KEY"):
        # Workers must share the key, or one signs what another cannot read.
        os.environ["SALEN_SECRET_KEY"] = settings.secret_key
    url = f"http://{args.host}:{args.port}/"
    if not settings.base_url:
        # Workers read it from the environment, as the key above.
        os.environ["SALEN_SERVED_URL"] = served = served_url(args.host, args.port)
        print(f"warning: SALEN_BASE_URL is unset: links in e-mails point to {served}; behind "
              "a proxy or on another address, set SALEN_BASE_URL to the public URL", flush=True)
    print(f"Salen is running at {url}  (Ctrl+C to stop)", flush=True)
    server.run("live.app:create_app", factory=True, host=args.host, port=args.port,
               workers=args.workers, uds=args.uds, log_level="info", log_config=log_config(settings.log_format),
               **server.proxy_options(settings.trusted_proxies),
               # Frames are encoded once per tick for every viewer; per-socket compression
               # would redo that work per viewer, so it is off. Large frames are refused early.
               ws_per_message_deflate=False, ws_max_size=65_536)
    return 0


def served_url(host: str, port: int) -> str:
    """The address `salen serve` listens on, as a link: a wildcard host by the machine's name."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def log_config(log_format: str = "text") -> dict[str, Any]:
    """uvicorn's default logging with the tokens in request lines replaced by "…"
    (`live.accesslog.RedactSecrets`; Salen's sockets write no line each: `live.server.QuietLog`);
    `log_format` "json" writes each line as a JSON object (`live.ops.logs`)."""
    from uvicorn.config import LOGGING_CONFIG

    from live.accesslog import RedactSecrets

    config = copy.deepcopy(LOGGING_CONFIG)
    filters = config.setdefault("filters", {})
    filters["redact_secrets"] = {"()": RedactSecrets}
    config["handlers"]["default"].setdefault("filters", []).append("redact_secrets")
    config["handlers"]["access"].setdefault("filters", []).append("redact_secrets")
    if log_format == "json":
        for name in ("default", "access"):
            config["formatters"][name] = {"()": "live.ops.logs.JsonFormatter"}
        # Salen's own warnings (live.*) as JSON too, not through logging's last resort.
        config["root"] = {"handlers": ["default"], "level": "WARNING"}
    return config


def _ensure_registry(settings: Settings) -> None:
    """The shipped registry of public bodies, loaded once into a database without one."""
    from sqlalchemy.exc import IntegrityError

    from live.organisations.service import ensure_registry

    try:
        loaded = _with_session(settings, ensure_registry)
    except IntegrityError:  # another process starting at the same time loaded it first
        loaded = 0
    if loaded:
        print(f"registry of public bodies: {loaded} organisations loaded")


def _load_demo(settings: Settings) -> None:
    from live.demo import DEMO_ORGANISER, load_demo

    imported = _with_session(settings, load_demo)
    print(f"demo events: {', '.join(imported) if imported else 'already loaded'}")
    _demo_content(settings, None)
    print("organiser login: {} / {}  at /admin".format(*DEMO_ORGANISER))


def _demo_content(settings: Settings, slugs: list[str] | None) -> None:
    """What the demo events show beyond their files (`live.demo.content`), made unless there;
    the recording's progress on stderr. Both `serve --demo` and `event import` come here."""
    from live.db import create_engine, sessionmaker
    from live.demo.content import DemoRun, add_demo_content
    from live.demo.recording import StepBars

    async def run() -> None:
        engine = create_engine(settings.database_url)
        bars = StepBars()

        def say(line: str) -> None:
            bars.done()
            print(line, flush=True)

        try:
            await add_demo_content(DemoRun(settings, sessionmaker(engine), progress=bars),
                                   slugs, say=say)
        finally:
            bars.done()
            await engine.dispose()

    asyncio.run(run())


def _event_import(args: argparse.Namespace) -> int:
    from live.demo import is_demo_file
    from live.events.document import read_event_file
    from live.events.service import save_event

    doc = read_event_file(args.file)
    settings = Settings.from_env()

    async def work(session: Any) -> str:
        event = await save_event(session, doc, embed_hosts=settings.embed_hosts)
        return str(event.slug)

    slug = _with_session(settings, work)
    print(f"imported {slug}: {settings.mail_base_url}/e/{slug}")
    if is_demo_file(args.file):
        _demo_content(settings, [slug])
    return 0


def _event_export(args: argparse.Namespace) -> int:
    from live.events.document import dump_event
    from live.events.service import export_event, load_event

    async def work(session: Any) -> str:
        return dump_event(export_event(await load_event(session, args.slug)), args.format)

    sys.stdout.write(_with_session(Settings.from_env(), work))
    return 0


def _user_create(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from live.auth import hash_password, verify_password
    from live.events.service import find_event
    from live.models import EventRole, Role, User

    password = args.password or os.environ.get("SALEN_PASSWORD") or getpass.getpass("Password: ")
    if len(password) < 8:
        print("error: the password must have at least 8 characters", file=sys.stderr)
        return 2

    async def work(session: Any) -> None:
        email = args.email.strip().lower()
        user = (await session.scalars(select(User).where(User.email == email))).first()
        if user is None:
            user = User(email=email, password_hash="")
            session.add(user)
        user.name = args.name or user.name
        user.is_admin = user.is_admin or args.admin
        if not verify_password(user.password_hash, password):
            # A new password ends every session the old one opened.
            user.session_version = (user.session_version or 0) + 1
            user.password_hash = hash_password(password)
        await session.flush()
        if args.event:
            event = await find_event(session, args.event)
            session.add(EventRole(user_id=user.id, event_id=event.id, role=Role(args.role)))

    _with_session(Settings.from_env(), work)
    print(f"user {args.email} saved")
    return 0


def _recording_import(args: argparse.Namespace) -> int:
    from live.archive.cli import recording_import

    return recording_import(args, Settings.from_env())


def _recording_transcribe(args: argparse.Namespace) -> int:
    from live.archive.cli import recording_transcribe

    return recording_transcribe(args, Settings.from_env())


def _stream_key(args: argparse.Namespace) -> int:
    from live.events.service import find_event
    from live.models.events import new_token

    settings = Settings.from_env()

    async def work(session: Any) -> str:
        event = await find_event(session, args.slug)
        if args.new:
            event.stream_key = new_token()
        return str(event.stream_key)

    key = _with_session(settings, work)
    base = settings.mail_base_url
    print(f"whip_url: {base}/whip/{args.slug}")
    print(f"stream_key: {key}")
    print(f"whep_url: {base}/whep/{args.slug}")
    print(f"hls_url: {base}/live/{args.slug}/master.m3u8")
    print(f"publish_page: {base}/e/{args.slug}/publish")
    return 0


def _registrations_purge(args: argparse.Namespace) -> int:
    from live.registration.purge import purge_database

    if args.days < 0:
        print("error: --days must be 0 or more", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    deleted = asyncio.run(purge_database(settings.database_url, args.days))
    print(f"deleted {deleted} registration(s) of events that ended over {args.days} days ago")
    return 0


if __name__ == "__main__":
    sys.exit(main())
