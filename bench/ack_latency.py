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
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx

from bench.common import cpu_seconds, meetbot_stack, percentile
from tests.fakes.slack_api import signed_headers, slash_command_body

USERS = 100


@dataclass
class Sent:
    topic: str
    sent_at: float
    ack_seconds: float = -1.0
    status: int = 0


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

    with (
        tempfile.TemporaryDirectory() as data_dir,
        meetbot_stack(
            data_dir=Path(data_dir),
            database_url=f"sqlite:///{data_dir}/meetbot.db",
            latency_ms=args.latency_ms,
        ) as stack,
    ):
        bot_url, slack_url, pid = stack.bot_url, stack.slack_url, stack.bot_pid
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
