"""Test fixture: the Huawei Cloud Meeting sandbox on a real loopback port, plus sync control helpers."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.sandbox import Sandbox, SandboxApp, make_self_signed_cert
from tests.fakes.asgi_server import serve_asgi

__all__ = ["RunningSandbox", "VendorHold", "frozen_clock", "running_sandbox"]


def frozen_clock(at: float | None = None) -> Callable[[], float]:
    """A sandbox clock that stands still at `at` (default: now) and moves only by `advance`.

    Vendor times (a session's start and end, to the minute) then follow the test's steps
    exactly, whatever the machine's speed: start, `advance(30 * 60)`, end lasts 30 minutes.
    """
    frozen = time.time() if at is None else at
    return lambda: frozen


class VendorHold:
    """In front of the sandbox: vendor requests whose path starts with a held prefix wait
    (before the sandbox sees them) until released; `/_sandbox/` control is never held. For
    a vendor that does not answer until the test says so, where latency would be a guess."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._prefix: str | None = None
        self._waiting = 0
        self._changed = threading.Condition()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] == "http" and not path.startswith("/_sandbox"):
            await self._pass(path)
        await self._app(scope, receive, send)

    def _holds(self, path: str) -> bool:
        return self._prefix is not None and path.startswith(self._prefix)

    async def _pass(self, path: str) -> None:
        with self._changed:
            if not self._holds(path):
                return
            self._waiting += 1
            self._changed.notify_all()
        try:
            while True:
                with self._changed:
                    if not self._holds(path):
                        return
                await asyncio.sleep(0.02)
        finally:
            with self._changed:
                self._waiting -= 1
                self._changed.notify_all()

    def hold(self, prefix: str = "/") -> None:
        """Hold every vendor request whose path starts with `prefix` from now on."""
        with self._changed:
            self._prefix = prefix

    def release(self) -> None:
        """Let held requests (and every later one) through."""
        with self._changed:
            self._prefix = None

    def wait_held(self, count: int = 1, timeout: float = 30) -> None:
        """Block until `count` vendor requests are being held."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._waiting < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self._waiting} vendor request(s) held, not {count}")
                self._changed.wait(left)


@dataclass(frozen=True)
class RunningSandbox:
    """A sandbox served over HTTP(S); helpers drive its `/_sandbox/` control API."""

    base_url: str
    sandbox: Sandbox
    cafile: Path | None
    vendor: VendorHold
    """Holds vendor requests on demand (`vendor.hold()`, `vendor.release()`)."""

    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        verify = ssl.create_default_context(cafile=self.cafile) if self.cafile else True
        with httpx.Client(base_url=self.base_url, verify=verify, timeout=10) as http:
            response = http.request(method, f"/_sandbox{path}", json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    def faults(self, **kw: Any) -> None:
        """Set fault injection (`latency_ms`, `fail_next`, ...); no arguments clears all faults."""
        self._control("POST", "/faults", kw)

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward."""
        self._control("POST", "/clock", {"advance_seconds": seconds})

    def expire_tokens(self, user_id: str | None = None) -> None:
        """Invalidate every issued token, or only those of one third-party user."""
        self._control("POST", "/tokens/expire", {"user_id": user_id})

    def start(self, conf_id: str) -> None:
        """Start the meeting now (a new session)."""
        self._control("POST", f"/meetings/{conf_id}/start")

    def end(self, conf_id: str) -> None:
        """End the meeting's running session."""
        self._control("POST", f"/meetings/{conf_id}/end")

    def join(self, conf_id: str, name: str, account_id: str | None = None) -> str:
        """Add a participant (starting a booked meeting); returns the participant id."""
        out = self._control(
            "POST", f"/meetings/{conf_id}/participants", {"name": name, "account_id": account_id}
        )
        return str(out["participant_id"])

    def leave(self, conf_id: str, participant_id: str) -> None:
        """Remove a participant."""
        self._control("DELETE", f"/meetings/{conf_id}/participants/{participant_id}")

    def meetings(self) -> list[dict[str, Any]]:
        """Every meeting the sandbox holds, of any app."""
        out: list[dict[str, Any]] = self._control("GET", "/meetings")
        return out

    def stats(self) -> dict[str, Any]:
        """Call counters: appauth calls (total, per user) and requests per `METHOD /path`."""
        out: dict[str, Any] = self._control("GET", "/stats")
        return out


@contextlib.contextmanager
def running_sandbox(
    *apps: SandboxApp, tls: bool = False, **sandbox_kwargs: Any
) -> Iterator[RunningSandbox]:
    """Serve a fresh `Sandbox(apps, **sandbox_kwargs)` on 127.0.0.1 (https with `tls=True`)."""
    sandbox = Sandbox(list(apps), **sandbox_kwargs)
    with contextlib.ExitStack() as stack:
        certfile = keyfile = None
        if tls:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            certfile, keyfile = make_self_signed_cert(directory)
        vendor = VendorHold(sandbox.app)
        base_url = stack.enter_context(serve_asgi(vendor, certfile=certfile, keyfile=keyfile))
        yield RunningSandbox(base_url=base_url, sandbox=sandbox, cafile=certfile, vendor=vendor)
