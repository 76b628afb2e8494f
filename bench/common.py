"""Shared pieces of the benchmarks: free ports, child processes, CPU readings, percentiles,
and the three-process stack (fake Slack, sandbox, `meetbot serve`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.fakes.slack_api import SIGNING_SECRET

APP_ID = "bench-app"
APP_KEY = "bench-app-key-0123456789"
MEETBOT = str(Path(sys.executable).with_name("meetbot"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{url} did not come up") from None
            time.sleep(0.1)
        else:
            return


@contextmanager
def process(command: list[str], health_url: str, env: Mapping[str, str]) -> Iterator[int]:
    """Run `command` (output to a log file in the temp dir) until `health_url` answers."""
    log = Path(tempfile.gettempdir()) / (
        "bench-" + "-".join(Path(c).name for c in command[:3]) + ".log"
    )
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, env=dict(env), stdout=sink, stderr=sink)  # noqa: S603
    try:
        wait_until_up(health_url, proc)
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass(frozen=True)
class Stack:
    bot_url: str
    slack_url: str
    sandbox_url: str
    bot_pid: int


@contextmanager
def meetbot_stack(
    *, data_dir: Path, database_url: str, latency_ms: float = 0, **settings: str
) -> Iterator[Stack]:
    """The fake Slack Web API, the sandbox and `meetbot serve`, each its own process;
    `settings` are extra environment variables for the bot."""
    bot_port, sandbox_port, slack_port = free_port(), free_port(), free_port()
    stack = Stack(
        f"http://127.0.0.1:{bot_port}",
        f"http://127.0.0.1:{slack_port}",
        f"http://127.0.0.1:{sandbox_port}",
        0,
    )
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "MEETBOT_SLACK_API_URL": f"{stack.slack_url}/api/",
        "MEETBOT_HCM_BASE_URL": stack.sandbox_url,
        "MEETBOT_HCM_APP_ID": APP_ID,
        "MEETBOT_HCM_APP_KEY": APP_KEY,
        "MEETBOT_DATABASE_URL": database_url,
        "MEETBOT_DATA_DIR": str(data_dir),
        "PORT": str(bot_port),
        **settings,
    }
    # The fake knows the bench's token; its rate limits are scaled far up: the benchmark
    # measures the bot, not Slack's tiers.
    slack = [
        *(sys.executable, "-m", "tests.fakes.slack_api", "--port", str(slack_port)),
        *("--token", "xoxb-bench", "--rate-budget", "1000"),
    ]
    sandbox = [MEETBOT, "sandbox", "--port", str(sandbox_port), "--latency-ms", str(latency_ms)]
    with ExitStack() as processes:
        processes.enter_context(process(slack, f"{stack.slack_url}/_calls?method=none", env))
        processes.enter_context(process(sandbox, f"{stack.sandbox_url}/_sandbox/stats", env))
        pid = processes.enter_context(process([MEETBOT, "serve"], f"{stack.bot_url}/healthz", env))
        yield Stack(stack.bot_url, stack.slack_url, stack.sandbox_url, pid)
