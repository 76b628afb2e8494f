"""Does the scheduler's cost follow what is due, not what is stored?

(1) tick cost: `claim_due` of 50 due deliveries with 1 000 versus 100 000 scheduled meetings
(two pending reminders each) in the database -- SQLite file, and PostgreSQL when
MEETBOT_BENCH_DATABASE_URL or MEETBOT_TEST_DATABASE_URL reaches one -- plus the query plan
(target: at most 2x, on the partial index). (2) lateness of 1 000 reminders due at the same
instant, posted by `meetbot serve` (1 s tick) to the fake Slack in a subprocess (target: p99
at most one tick + 1 s). (3) vendor calls per status cycle with 1 000 live meetings in one
workspace, counted at the sandbox (target: at most 10).

    .venv/bin/python -m bench.scheduler_scale [--lateness-count 1000 --live 1000 --parts 123]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import insert, text

from bench.common import APP_ID, APP_KEY, meetbot_stack, percentile
from bot.config import Settings
from bot.huawei.client import HuaweiMeetingClient
from bot.huawei.models import AppCredentials, MeetingSpec
from bot.sandbox import SandboxApp
from bot.service import MeetingService
from bot.slack.directory import SlackDirectory
from bot.slack.notifier import web_client
from storage.db import create_engine, session_factory, sync_url, upgrade
from storage.models import Delivery, Meeting, MeetingState, Workspace
from storage.repo import Repository
from storage.secrets import SecretBox
from tests.fakes.sandbox import running_sandbox

DUE = 50
ROUNDS = 30
CLAIM_SQL = (
    "SELECT id FROM delivery WHERE due_at <= :now AND sent_at IS NULL AND withdrawn_at IS NULL"
    " AND (claimed_until IS NULL OR claimed_until <= :now) ORDER BY due_at, id LIMIT 100"
)


def _meeting(i: int, start: datetime, team: str = "T1", state: str = "scheduled") -> dict[str, Any]:
    return {
        "id": i,
        "team_id": team,
        "conference_id": str(800_000_000 + i),
        "organizer_slack_id": "UALICE",
        "organizer_third_party_id": "alice@example.com",
        "channel_id": f"C{i:06d}",
        "message_ts": "1.000001",
        "topic": f"Meeting {i}",
        "start_at": start,
        "end_at": start + timedelta(minutes=30),
        "duration_minutes": 30,
        "tz_name": "UTC",
        "state": state,
        "is_instant": False,
        "invitees": "[]",
        "guest_join_url": f"https://join.example/{i}",
        "watch_from": start - timedelta(minutes=15),
        "created_at": start,
        "updated_at": start,
    }


def seed(
    url: str,
    starts: Sequence[datetime],
    *,
    offsets: Sequence[int] = (10, 0),
    state: str = "scheduled",
    conference_ids: Sequence[str] = (),
) -> None:
    """Bulk-insert meetings (and their reminders) starting at `starts` into a migrated DB."""
    engine = create_sync_engine(sync_url(url))
    sqlite = engine.dialect.name == "sqlite"
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(Workspace),
            [{"team_id": "T1", "mapping_mode": "email", "created_at": now, "updated_at": now}],
        )
        for chunk in range(0, len(starts), 5000):
            meetings, deliveries = [], []
            for i in range(chunk, min(chunk + 5000, len(starts))):
                row = _meeting(i + 1, starts[i], state=state)
                if conference_ids:
                    row["conference_id"] = conference_ids[i]
                meetings.append(row)
                for minutes in offsets:
                    deliveries.append(
                        {
                            "team_id": "T1",
                            "meeting_id": i + 1,
                            "occurrence": starts[i],
                            "kind": f"reminder:{minutes}",
                            "due_at": starts[i] - timedelta(minutes=minutes),
                            "attempts": 0,
                        }
                    )
            conn.execute(insert(Meeting), meetings)
            if deliveries:
                conn.execute(insert(Delivery), deliveries)
        if not sqlite:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def plan(url: str) -> str:
    engine = create_sync_engine(sync_url(url))
    now = datetime.now(UTC)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(
                text("EXPLAIN QUERY PLAN " + CLAIM_SQL), {"now": now.replace(tzinfo=None)}
            )
            out = " | ".join(str(r[-1]) for r in rows)
        else:
            rows = conn.execute(text("EXPLAIN " + CLAIM_SQL), {"now": now})
            out = " | ".join(str(r[0]).strip() for r in rows)
    engine.dispose()
    return out


async def claim_cost(url: str) -> float:
    """Median seconds of one claim of the due rows (released again between rounds)."""
    engine = create_engine(url)
    repo = Repository(session_factory(engine), SecretBox.from_keys(Fernet.generate_key().decode()))
    times = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        claimed = await repo.claim_due(
            now=datetime.now(UTC), worker_id="bench", lease_seconds=30, limit=100
        )
        times.append(time.perf_counter() - t)
        assert len(claimed) == DUE, len(claimed)
        for c in claimed:
            await repo.release(
                team_id="T1", delivery_id=c.delivery.id, worker_id="bench", error="bench"
            )
    await engine.dispose()
    return statistics.median(times)


def tick_cost(url: str, stored: int, reset: Any) -> tuple[float, str]:
    reset()
    upgrade(url)
    now = datetime.now(UTC)
    # DUE meetings whose reminder is due now; the rest start days to months ahead.
    starts = [now - timedelta(minutes=5)] * DUE + [
        now + timedelta(days=1, minutes=i % 200_000) for i in range(stored - DUE)
    ]
    seed(url, starts, offsets=(10, 0))
    # The "reminder:0" of the due meetings is due too, and "reminder:10": keep only one due.
    engine = create_sync_engine(sync_url(url))
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM delivery WHERE meeting_id <= :n AND kind = 'reminder:10'"),
            {"n": DUE},
        )
    engine.dispose()
    return asyncio.run(claim_cost(url)), plan(url)


def reset_sqlite(path: Path) -> Any:
    def reset() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    return reset


def reset_postgres(url: str) -> Any:
    def reset() -> None:
        engine = create_sync_engine(sync_url(url), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS meetbot_bench CASCADE"))
            conn.execute(text("CREATE SCHEMA meetbot_bench"))
        engine.dispose()

    return reset


def bench_tick(directory: Path) -> None:
    print("(1) tick cost: claim_due of 50 due rows, median of 30")
    targets = [("sqlite", f"sqlite:///{directory}/tick.db", reset_sqlite(directory / "tick.db"))]
    pg = os.environ.get("MEETBOT_BENCH_DATABASE_URL") or os.environ.get("MEETBOT_TEST_DATABASE_URL")
    if pg:
        base = sync_url(pg)
        scoped = base.update_query_dict({"options": "-csearch_path=meetbot_bench"})
        url = scoped.render_as_string(hide_password=False)
        try:
            reset_postgres(url)()
            targets.append(("postgresql", url, reset_postgres(url)))
        except Exception as exc:  # bench: report and go on without PostgreSQL
            print(f"  postgresql unreachable ({type(exc).__name__}); skipped")
    for name, url, reset in targets:
        small, _ = tick_cost(url, 1_000, reset)
        large, query_plan = tick_cost(url, 100_000, reset)
        print(
            f"  {name:10s} 1 000 meetings: {small * 1000:6.2f} ms   100 000 meetings: "
            f"{large * 1000:6.2f} ms   ratio {large / small:4.2f} (target <= 2)"
        )
        print(f"  {name:10s} plan: {query_plan}")


def bench_lateness(directory: Path, count: int) -> None:
    print(f"(2) lateness of {count} reminders due at the same instant (meetbot serve, 1 s tick)")
    url = f"sqlite:///{directory}/lateness.db"
    upgrade(url)
    due = datetime.now(UTC) + timedelta(seconds=12)
    seed(url, [due + timedelta(minutes=10)] * count, offsets=(10,))
    with meetbot_stack(
        data_dir=directory,
        database_url=url,
        MEETBOT_TICK_SECONDS="1",
        MEETBOT_CLAIM_SECONDS="30",
    ) as stack:
        slack_url = stack.slack_url
        deadline = due.timestamp() + 120
        calls: list[dict[str, Any]] = []
        while time.time() < deadline:
            calls = httpx.get(f"{slack_url}/_calls?method=chat.postMessage", timeout=10).json()
            if len({c["args"].get("channel") for c in calls}) >= count:
                break
            time.sleep(0.5)
    late = [c["wall"] - due.timestamp() for c in calls if c["args"].get("metadata")]
    print(
        f"  posted {len(late)}; lateness min {min(late):.2f} s, p50 {percentile(late, 50):.2f} s, "
        f"p99 {percentile(late, 99):.2f} s, max {max(late):.2f} s (target p99 <= 2.00 s)"
    )


async def _status_cycles(live: int) -> None:
    with (
        running_sandbox(SandboxApp(APP_ID, APP_KEY)) as sandbox,
        tempfile.TemporaryDirectory() as d,
    ):
        app = AppCredentials(app_id=APP_ID, app_key=SecretStr(APP_KEY))
        async with HuaweiMeetingClient(sandbox.base_url) as client:
            gate = asyncio.Semaphore(20)

            async def create(i: int) -> str:
                async with gate:
                    spec = MeetingSpec(subject=f"Live {i}", length_minutes=60)
                    return (await client.create_meeting(app, f"user{i % 50}", spec)).conference_id

            ids = await asyncio.gather(*(create(i) for i in range(live)))
            url = f"sqlite:///{d}/status.db"
            upgrade(url)
            now = datetime.now(UTC)
            seed(url, [now] * live, offsets=(), state=MeetingState.LIVE.value, conference_ids=ids)
            settings = Settings(
                hcm_base_url=sandbox.base_url,
                hcm_app_id=APP_ID,
                hcm_app_key=SecretStr(APP_KEY),
                database_url=url,
            )
            engine = create_engine(url)
            repo = Repository(
                session_factory(engine), SecretBox.from_keys(Fernet.generate_key().decode())
            )
            service = MeetingService(
                settings=settings,
                repo=repo,
                meetings=client,
                directory=SlackDirectory(web_client("", "http://127.0.0.1:9/")),
            )

            def requests() -> int:
                stats = sandbox.stats()["requests"]
                return sum(int(v) for v in stats.values())

            await service.poll_status()  # warm: token, first participant counts
            before = requests()
            changes = await service.poll_status()
            steady = requests() - before
            for conference_id in ids[:10]:
                sandbox.end(conference_id)
            before = requests()
            changes = await service.poll_status()
            ending = requests() - before
            await engine.dispose()
    ended = sum(1 for c in changes if c.kind.value == "ended")
    print(f"(3) vendor calls per status cycle, {live} live meetings in one workspace")
    print(
        f"  steady cycle: {steady} calls; cycle in which 10 ended: {ending} calls "
        f"({ended} ended seen) (target <= 10)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lateness-count", type=int, default=1000)
    parser.add_argument("--live", type=int, default=1000)
    parser.add_argument("--parts", default="123", help="which parts to run, e.g. 2 (default: 123)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        if "1" in args.parts:
            bench_tick(Path(directory))
        if "2" in args.parts:
            bench_lateness(Path(directory), args.lateness_count)
    if "3" in args.parts:
        asyncio.run(_status_cycles(args.live))


if __name__ == "__main__":
    main()
