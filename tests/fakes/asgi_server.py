"""Serve an ASGI app on a free loopback port in a background thread (real HTTP for tests)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp


@contextlib.contextmanager
def serve_asgi(
    app: ASGIApp,
    *,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    lifespan: bool = False,
) -> Iterator[str]:
    """Run `app` under uvicorn on 127.0.0.1:<free port>; yield its base URL."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on such sockets; without it
    # Nagle's algorithm adds ~40 ms to every answer written in two parts.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on" if lifespan else "off",
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test server failed to start")
        threading.Event().wait(0.01)
    scheme = "https" if certfile else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
