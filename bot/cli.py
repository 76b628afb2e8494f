"""The `meetbot` command line: the only place that builds the world.

One function per subcommand (`_serve`, `_db`, `_sandbox`, `_demo`), registered in `_parser`.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

import uvicorn

from bot.config import ConfigError, Settings, load_settings
from bot.sandbox import Sandbox, SandboxApp, make_self_signed_cert

Command = Callable[[argparse.Namespace], int]

LOG_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
OUR_LOGGERS: Final = ("bot", "storage")
"""The packages whose INFO lines `meetbot serve` shows."""


def _env_or_fail(value: str | None, variable: str, flag: str) -> str:
    value = value or os.environ.get(variable)
    if not value:
        raise SystemExit(f"meetbot: {variable} is not set (or pass {flag})")
    return value


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        raise SystemExit(f"meetbot: {exc}") from None


def _check_storage_settings(settings: Settings) -> None:
    """Fail before start-up, in one line, on a database URL or secret key we cannot use."""
    from storage.db import async_url
    from storage.secrets import SecretBox

    url = async_url(settings.database_url)
    if settings.secret_key is not None:
        SecretBox.from_keys(settings.secret_key.get_secret_value())
    elif url.get_backend_name() == "postgresql":
        # Replicas that each generated their own key file could not read each other's secrets.
        raise ConfigError(
            "MEETBOT_SECRET_KEY is required with PostgreSQL: every replica must share one key "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        )


def serve_logging() -> None:
    """`meetbot serve`'s logging: meetbot's own loggers at INFO, every library at WARNING.

    Bolt logs whole request bodies at INFO (app keys typed into the setup form, response_urls)
    and gives each logger it creates the root logger's level of that moment, so the root
    stays at WARNING; libraries' INFO lines (one per HTTP request for some) are noise anyway.
    """
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    logging.getLogger("slack_bolt").setLevel(logging.WARNING)
    for ours in OUR_LOGGERS:
        logging.getLogger(ours).setLevel(logging.INFO)


def _serve(args: argparse.Namespace) -> int:
    """`meetbot serve`: the bot over HTTP (or Socket Mode), migrating the database first."""
    from bot.server import build_http_app  # the world is heavy: import it only to serve

    settings = _settings(**({"port": args.port} if args.port is not None else {}))
    try:
        settings.require("slack_bot_token")
        settings.require("slack_app_token" if args.socket_mode else "slack_signing_secret")
        _check_storage_settings(settings)
    except (ConfigError, ValueError) as exc:
        raise SystemExit(f"meetbot: {exc}") from None
    serve_logging()
    mode = "Socket Mode" if args.socket_mode else f"http://{args.host}:{settings.port}/slack/events"
    print(f"meetbot serving on {mode}; health on http://{args.host}:{settings.port}/healthz")  # noqa: T201
    sys.stdout.flush()
    uvicorn.run(
        build_http_app(settings, socket_mode=args.socket_mode),
        host=args.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
    )
    return 0


def _db(args: argparse.Namespace) -> int:
    """`meetbot db upgrade`: apply the database migrations."""
    from storage.db import upgrade

    settings = _settings()
    if args.action == "upgrade":
        upgrade(settings.database_url)
        print("database is up to date")  # noqa: T201
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    """`meetbot sandbox`: serve the local Huawei Cloud Meeting sandbox for one app."""
    app = SandboxApp(
        app_id=_env_or_fail(args.app_id, "MEETBOT_HCM_APP_ID", "--app-id"),
        app_key=_env_or_fail(args.app_key, "MEETBOT_HCM_APP_KEY", "--app-key"),
        corp_id=args.corp_id or os.environ.get("MEETBOT_HCM_CORP_ID") or None,
    )
    sandbox = Sandbox([app], latency_ms=args.latency_ms, token_ttl_seconds=args.token_ttl)
    certfile = keyfile = None
    if args.tls:
        data_dir = os.environ.get("MEETBOT_DATA_DIR")
        directory = Path(data_dir) / "sandbox-tls" if data_dir else Path(tempfile.mkdtemp())
        certfile, keyfile = make_self_signed_cert(directory)
    url = f"{'https' if args.tls else 'http'}://{args.host}:{args.port}"
    mode = f"SP mode, corp {app.corp_id}" if app.corp_id else "single enterprise"
    print(f"Huawei Cloud Meeting sandbox on {url} (app {app.app_id}, {mode})")  # noqa: T201
    if certfile:
        print(f"TLS certificate: {certfile}")  # noqa: T201
    sys.stdout.flush()
    uvicorn.run(
        sandbox.app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    """`meetbot demo`: sandbox, bot and a Slack-like page on this machine, no credentials."""
    from bot.demo import DemoUrls, run_demo

    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)

    def ready(urls: DemoUrls) -> None:
        print(f"meetbot demo: open {urls.page} in your browser (Ctrl-C stops it)")  # noqa: T201
        print(f"  bot {urls.bot} · meeting sandbox {urls.sandbox} · data {args.data_dir}")  # noqa: T201
        sys.stdout.flush()

    try:
        run_demo(data_dir=args.data_dir, host=args.host, port=args.port, on_ready=ready)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise SystemExit(f"meetbot: port {args.port} is in use; pass --port N") from None
        raise
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="meetbot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the bot (HTTP, or --socket-mode)")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 -- a server listens on all interfaces
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 3000")
    serve.add_argument("--socket-mode", action="store_true", help="connect with $SLACK_APP_TOKEN")
    serve.set_defaults(run=_serve)

    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="upgrade: apply migrations")
    db.set_defaults(run=_db)

    sandbox = commands.add_parser("sandbox", help="run the local Huawei Cloud Meeting sandbox")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8900)
    sandbox.add_argument("--app-id", help="default: $MEETBOT_HCM_APP_ID")
    sandbox.add_argument("--app-key", help="default: $MEETBOT_HCM_APP_KEY")
    sandbox.add_argument("--corp-id", help="SP mode; default: $MEETBOT_HCM_CORP_ID")
    sandbox.add_argument("--tls", action="store_true", help="serve https on a self-signed cert")
    sandbox.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
    sandbox.add_argument("--token-ttl", type=int, default=56326, help="access token lifetime (s)")
    sandbox.set_defaults(run=_sandbox)

    demo = commands.add_parser("demo", help="try everything locally in a Slack-like page")
    demo.add_argument("--host", default="127.0.0.1", help="where the page listens")
    demo.add_argument("--port", type=int, default=8080, help="the page's port (0: any free)")
    demo.add_argument(
        "--data-dir", type=Path, default=Path(".meetbot/demo"), help="SQLite database and key"
    )
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `meetbot` console script."""
    args = _parser().parse_args(argv)
    run: Command = args.run
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
