"""Meetings created per second and CPU per meeting: our async client vs the official SDK.

Both talk to one `meetbot sandbox --tls` process that answers every vendor call after a
fixed latency L, so the physical limit at concurrency C is C / L meetings per second. Both
book the same meetings for the same users; the sandbox's own CPU is reported per run too.

    .venv/bin/python -m bench.client_vs_sdk --meetings 3000 --concurrency 50 --latency-ms 100
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkmeeting.v1 import (
    CreateMeetingRequest,
    MeetingClient,
    RestConfConfigDTO,
    RestScheduleConfDTO,
)
from huaweicloudsdkmeeting.v1.meeting_credentials import (
    AuthTypeEnum,
    MeetingCredentials,
    TenantSceneEnum,
)
from pydantic import SecretStr

from bench.common import APP_ID, APP_KEY, MEETBOT, cpu_seconds, free_port
from bot.huawei.client import AppCredentials, HuaweiMeetingClient
from bot.huawei.models import MeetingSpec


@dataclass(frozen=True)
class Result:
    name: str
    meetings: int
    seconds: float
    cpu_seconds: float
    sandbox_cpu_seconds: float
    other_cpu_seconds: float
    """CPU that the rest of the machine used meanwhile: above ~0.2 s per s, a disturbed run."""
    appauth_calls: int
    appauth_repeats: dict[str, int]
    """Users authenticated more than once, with their appauth count."""

    @property
    def per_second(self) -> float:
        return self.meetings / self.seconds

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu_seconds / self.meetings * 1000

    @property
    def sandbox_cpu_per_1000(self) -> float:
        return self.sandbox_cpu_seconds / self.meetings * 1000

    @property
    def other_load(self) -> float:
        return self.other_cpu_seconds / self.seconds


def machine_cpu_seconds() -> float:
    """User + system CPU time of every process on the machine so far (Linux /proc/stat).

    Interrupt time is left out: it holds the loopback traffic of the bench itself."""
    user, nice, system = Path("/proc/stat").read_text().split(maxsplit=4)[1:4]
    return (int(user) + int(nice) + int(system)) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class SandboxProcess:
    base_url: str
    cert: Path
    pid: int


@contextmanager
def sandbox_process(latency_ms: float) -> Iterator[SandboxProcess]:
    """Start `meetbot sandbox --tls` in its own process; yield its URL, certificate and pid."""
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "MEETBOT_DATA_DIR": data_dir}
        command = [
            MEETBOT, "sandbox", "--tls", "--port", str(port),
            "--app-id", APP_ID, "--app-key", APP_KEY, "--latency-ms", str(latency_ms),
        ]  # fmt: skip
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603
        try:
            base_url = f"https://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while True:
                try:
                    httpx.get(f"{base_url}/_sandbox/stats", verify=False, timeout=1)  # noqa: S501
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("the sandbox did not start") from None
                    time.sleep(0.1)
            certs = sorted(Path(data_dir).rglob("*.pem"))
            cert = next(p for p in certs if "key" not in p.name)
            yield SandboxProcess(base_url, cert, proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def control(base_url: str, path: str) -> dict[str, object]:
    response = httpx.post(f"{base_url}/_sandbox/{path}", json={}, verify=False)  # noqa: S501
    response.raise_for_status()
    body: dict[str, object] = response.json() if response.content else {}
    return body


def appauth_stats(base_url: str) -> tuple[int, dict[str, int]]:
    """appauth calls since the last reset, and the users authenticated more than once."""
    stats = httpx.get(f"{base_url}/_sandbox/stats", verify=False).json()  # noqa: S501
    repeats = {user: n for user, n in stats["appauth_by_user"].items() if n > 1}
    return int(stats["appauth_calls"]), repeats


def users(count: int) -> list[str]:
    return [f"bench-user-{i:03d}" for i in range(count)]


def start_time(i: int) -> datetime:
    day = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)
    return day + timedelta(minutes=i % 600)


def measure(name: str, sandbox: SandboxProcess, meetings: int, run: Callable[[], None]) -> Result:
    control(sandbox.base_url, "reset")
    sandbox_cpu0, machine_cpu0 = cpu_seconds(sandbox.pid), machine_cpu_seconds()
    cpu0, t0 = time.process_time(), time.perf_counter()
    run()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    sandbox_cpu = cpu_seconds(sandbox.pid) - sandbox_cpu0
    other_cpu = machine_cpu_seconds() - machine_cpu0 - cpu - sandbox_cpu
    calls, repeats = appauth_stats(sandbox.base_url)
    return Result(name, meetings, seconds, cpu, sandbox_cpu, max(0.0, other_cpu), calls, repeats)


def run_ours(base_url: str, cert: Path, meetings: int, concurrency: int, n_users: int) -> None:
    app = AppCredentials(app_id=APP_ID, app_key=SecretStr(APP_KEY))
    ids = users(n_users)

    async def main() -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(meetings):
            queue.put_nowait(i)
        async with HuaweiMeetingClient(base_url, verify=str(cert)) as client:

            async def worker() -> None:
                while not queue.empty():
                    i = queue.get_nowait()
                    spec = MeetingSpec(subject=f"Bench {i}", start=start_time(i), length_minutes=30)
                    await client.create_meeting(app, ids[i % n_users], spec)

            await asyncio.gather(*(worker() for _ in range(concurrency)))

    asyncio.run(main())


def run_sdk(base_url: str, meetings: int, concurrency: int, n_users: int) -> None:
    # The SDK's documented use: one MeetingClient per credentials (one per user), sync calls.
    config = HttpConfig.get_default_config()
    config.ignore_ssl_verification = True
    clients = [
        MeetingClient.new_builder()
        .with_http_config(config)
        .with_credentials(
            MeetingCredentials()
            .with_auth_type_enum(AuthTypeEnum.APP_ID)
            .with_tenant_scene_enum(TenantSceneEnum.SINGLE_TENANT)
            .with_app_id(APP_ID)
            .with_app_key(APP_KEY)
            .with_user_id(user)
        )
        .with_endpoints([base_url])
        .build()
        for user in users(n_users)
    ]

    def create(i: int) -> None:
        # The very body our client sends for the same meeting (vendor notifications off).
        body = RestScheduleConfDTO(
            subject=f"Bench {i}",
            start_time=start_time(i).strftime("%Y-%m-%d %H:%M"),
            length=30,
            media_types="HDVideo",
            conf_config_info=RestConfConfigDTO(
                is_send_notify=False, is_send_sms=False, is_send_calendar=False
            ),
        )
        clients[i % n_users].create_meeting(CreateMeetingRequest(body=body))

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(create, range(meetings)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    # Enough meetings that each side's one appauth per user is a small share of the run.
    parser.add_argument("--meetings", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--users", type=int, default=100)
    args = parser.parse_args()

    import warnings

    warnings.filterwarnings("ignore")  # urllib3's InsecureRequestWarning for the SDK
    limit = args.concurrency / (args.latency_ms / 1000)
    with sandbox_process(args.latency_ms) as sandbox:
        url = sandbox.base_url
        ours = measure(
            "meetbot client",
            sandbox,
            args.meetings,
            lambda: run_ours(url, sandbox.cert, args.meetings, args.concurrency, args.users),
        )
        sdk = measure(
            "official SDK",
            sandbox,
            args.meetings,
            lambda: run_sdk(url, args.meetings, args.concurrency, args.users),
        )
    print(
        f"{args.meetings} meetings, {args.users} users, concurrency C={args.concurrency}, "
        f"latency L={args.latency_ms:g} ms, physical limit C/L={limit:.0f} meetings/s"
    )
    print(
        f"{'':16}{'meetings/s':>12}{'% of C/L':>10}{'CPU s/1000':>12}"
        f"{'sandbox CPU s/1000':>20}{'appauth':>9}{'other load':>12}"
    )
    for r in (ours, sdk):
        print(
            f"{r.name:16}{r.per_second:12.1f}{r.per_second / limit:10.0%}"
            f"{r.cpu_per_1000:12.2f}{r.sandbox_cpu_per_1000:20.2f}{r.appauth_calls:9d}"
            f"{r.other_load:12.0%}"
        )
    if max(ours.other_load, sdk.other_load) > 0.2:
        print("other load: other processes used CPU meanwhile (1 = a core); these figures suffer")
    for r in (ours, sdk):
        if r.appauth_repeats:
            print(f"{r.name}: users authenticated more than once: {r.appauth_repeats}")
    print(
        f"ratios (ours/SDK): throughput {ours.per_second / sdk.per_second:.2f}x, "
        f"CPU per meeting {ours.cpu_per_1000 / sdk.cpu_per_1000:.2f}x"
    )


if __name__ == "__main__":
    main()
