"""How fast `meetbot serve` acknowledges /meet, and how soon the card follows.

Three processes besides this one: `meetbot serve`, `meetbot sandbox` answering every vendor
call after 500 ms, and the fake Slack Web API. Requests are signed exactly as Slack signs
them. (a) steady: 50 commands per second for 30 s, open loop (sent on schedule whether or
not earlier ones were answered); (b) burst: 200 commands at once.

    .venv/bin/python -m bench.ack_latency [--rate 50 --seconds 30 --burst 200 --latency-ms 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx

from tests.fakes.slack_api import SIGNING_SECRET, signed_headers, slash_command_body

APP_ID = "bench-app"
APP_KEY = "bench-app-key-0123456789"
USERS = 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
def process(command: list[str], health_url: str, env: dict[str, str]) -> Iterator[int]:
    log = Path(tempfile.gettempdir()) / (
        "bench-" + "-".join(Path(c).name for c in command[:3]) + ".log"
    )
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, env=env, stdout=sink, stderr=sink)  # noqa: S603
    try:
        wait_until_up(health_url, proc)
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Sent:
    topic: str
    sent_at: float
    ack_seconds: float = -1.0
    status: int = 0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def send(
    http: aiohttp.ClientSession, bot_url: str, slack_url: str, item: Sent, i: int
) -> None:
    body = slash_command_body(
        f"{item.topic} tomorrow 3pm",
        user_id=f"U{i % USERS:04d}",
        team_id="T1",
        response_url=f"{slack_url}/response/{item.topic}",
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body)}
    started = time.perf_counter()
    try:
        async with http.post(f"{bot_url}/slack/events", data=body, headers=headers) as response:
            await response.read()
            item.status = response.status
    except aiohttp.ClientError as exc:
        item.status = -1
        print(f"{item.topic}: {exc!r}")
    item.ack_seconds = time.perf_counter() - started


async def steady(bot_url: str, slack_url: str, rate: float, seconds: float, tag: str) -> list[Sent]:
    items = [Sent(f"{tag}-{i}", 0.0) for i in range(int(rate * seconds))]
    # aiohttp, not httpx: httpx's pool itself takes seconds to serve 200 concurrent requests.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        tasks = []
        start = time.perf_counter()
        wall0 = time.time()
        for i, item in enumerate(items):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            item.sent_at = wall0 + (time.perf_counter() - start)
            tasks.append(asyncio.create_task(send(http, bot_url, slack_url, item, i)))
        await asyncio.gather(*tasks)
    return items


async def burst(bot_url: str, slack_url: str, count: int, tag: str) -> list[Sent]:
    items = [Sent(f"{tag}-{i}", 0.0) for i in range(count)]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def warm() -> None:
            async with http.get(f"{bot_url}/healthz") as response:
                await response.read()

        # Open the connections first so the burst measures the bot, not TCP handshakes.
        await asyncio.gather(*(warm() for _ in range(count)))
        now = time.time()
        for item in items:
            item.sent_at = now
        await asyncio.gather(*(send(http, bot_url, slack_url, it, i) for i, it in enumerate(items)))
    return items


def card_delays(slack_url: str, items: list[Sent], timeout: float) -> list[float]:
    """Seconds from sending each command to its card being posted (waits for all)."""
    wanted = {item.topic: item for item in items}
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = httpx.get(
                f"{slack_url}/_calls", params={"method": "chat.postMessage"}, timeout=30
            )
        except httpx.TransportError:
            time.sleep(0.5)
            continue
        calls = answer.json()
        posted: dict[str, float] = {}
        for call in calls:
            topic = str(call["args"].get("text", "")).split(" ", 1)[0]
            if topic in wanted:
                posted[topic] = call["wall"] - wanted[topic].sent_at
        if len(posted) == len(items) or time.monotonic() > deadline:
            return list(posted.values())
        time.sleep(0.5)


def report(name: str, items: list[Sent], cards: list[float], cpu: float) -> None:
    acks = [i.ack_seconds * 1000 for i in items]
    failed = sum(1 for i in items if i.status != 200)
    print(
        f"{name:8} n={len(items):5d}  ack ms p50 {percentile(acks, 50):6.1f}  "
        f"p95 {percentile(acks, 95):6.1f}  p99 {percentile(acks, 99):6.1f}  "
        f"max {max(acks):7.1f}  non-200 {failed}"
    )
    if cards:
        print(
            f"{'':8} cards posted {len(cards)}/{len(items)}  card s p50 "
            f"{percentile(cards, 50):5.2f}  p99 {percentile(cards, 99):5.2f}  "
            f"server CPU {cpu / len(items) * 1000:5.2f} ms/command"
        )
    else:
        print(f"{'':8} cards posted 0/{len(items)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=500)
    args = parser.parse_args()

    meetbot = str(Path(sys.executable).with_name("meetbot"))
    bot_port, sandbox_port, slack_port = free_port(), free_port(), free_port()
    bot_url = f"http://127.0.0.1:{bot_port}"
    slack_url = f"http://127.0.0.1:{slack_port}"
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    with tempfile.TemporaryDirectory() as data_dir, ExitStack() as stack:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "MEETBOT_SLACK_API_URL": f"{slack_url}/api/",
            "MEETBOT_HCM_BASE_URL": sandbox_url,
            "MEETBOT_HCM_APP_ID": APP_ID,
            "MEETBOT_HCM_APP_KEY": APP_KEY,
            "MEETBOT_DATABASE_URL": f"sqlite:///{data_dir}/meetbot.db",
            "MEETBOT_DATA_DIR": data_dir,
            "PORT": str(bot_port),
        }
        stack.enter_context(
            process(
                [sys.executable, "-m", "tests.fakes.slack_api", "--port", str(slack_port)],
                f"{slack_url}/_calls?method=none",
                env,
            )
        )
        stack.enter_context(
            process(
                [
                    meetbot,
                    "sandbox",
                    "--port",
                    str(sandbox_port),
                    "--latency-ms",
                    str(args.latency_ms),
                ],
                f"{sandbox_url}/_sandbox/stats",
                env,
            )
        )
        pid = stack.enter_context(process([meetbot, "serve"], f"{bot_url}/healthz", env))

        cpu0 = cpu_seconds(pid)
        items = asyncio.run(steady(bot_url, slack_url, args.rate, args.seconds, "steady"))
        cards = card_delays(slack_url, items, timeout=60)
        report("steady", items, cards, cpu_seconds(pid) - cpu0)

        time.sleep(2)
        cpu0 = cpu_seconds(pid)
        items = asyncio.run(burst(bot_url, slack_url, args.burst, "burst"))
        cards = card_delays(slack_url, items, timeout=60)
        report("burst", items, cards, cpu_seconds(pid) - cpu0)
    print(
        f"(sandbox latency {args.latency_ms:g} ms; steady {args.rate:g}/s for {args.seconds:g} s, "
        f"open loop; burst {args.burst} at once)"
    )


if __name__ == "__main__":
    main()
