"""Real `meetbot serve` processes for end-to-end tests: configured like make_settings through
the environment, each logging (stdout and stderr) to its own file."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from tests.e2e.conftest import APP_ID, APP_KEY
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET

MEETBOT = Path(sys.executable).with_name("meetbot")


@dataclass(frozen=True)
class Served:
    """A running `meetbot serve` and where it logs."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        return self.log.read_text(errors="replace")


@dataclass
class Fleet:
    """Starts `meetbot serve` processes configured like make_settings (1 s tick and claim)."""

    env: dict[str, str]
    logs: Path

    @contextlib.contextmanager
    def serve(self, name: str) -> Iterator[subprocess.Popen[bytes]]:
        with self.serving(name) as served:
            yield served.process

    @contextlib.contextmanager
    def serving(self, name: str) -> Iterator[Served]:
        """`meetbot serve` on a free port until it is healthy; terminated on the way out."""
        port = free_port()
        path = self.logs / f"{name}.log"
        log = path.open("wb")
        process = subprocess.Popen(  # noqa: S603 -- our own console script, fixed arguments
            [str(MEETBOT), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env={**self.env, "PORT": str(port)},
            cwd=self.logs,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(process, f"{url}/healthz")
            yield Served(process, url, path)
        finally:
            if process.poll() is None:
                process.terminate()
            process.wait(30)
            log.close()


def fleet_env(
    *, slack_url: str, sandbox_url: str, database_url: str, data_dir: Path
) -> dict[str, str]:
    """The environment of a `meetbot serve` pointed at the fakes (no inherited MEETBOT_/SLACK_)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEETBOT_", "SLACK_", "PORT"))}
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        MEETBOT_SLACK_API_URL=f"{slack_url}/api/",
        MEETBOT_HCM_BASE_URL=sandbox_url,
        MEETBOT_HCM_APP_ID=APP_ID,
        MEETBOT_HCM_APP_KEY=APP_KEY,
        MEETBOT_DATABASE_URL=database_url,
        MEETBOT_SECRET_KEY=Fernet.generate_key().decode(),
        MEETBOT_DATA_DIR=str(data_dir),
        MEETBOT_TICK_SECONDS="1",
        MEETBOT_STATUS_POLL_SECONDS="2",
        MEETBOT_CLAIM_SECONDS="1",
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_healthy(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"meetbot serve exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError("meetbot serve did not become healthy")
