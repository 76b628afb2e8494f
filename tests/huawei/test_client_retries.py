"""HuaweiMeetingClient retries against the sandbox's injected faults; creation is never doubled."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from bot.huawei.client import HuaweiMeetingClient
from bot.huawei.errors import RateLimited, Unavailable
from bot.huawei.models import Attendee, Cycle, MeetingSpec, Recurrence
from bot.huawei.retry import RetryPolicy
from tests.fakes.sandbox import RunningSandbox, running_sandbox
from tests.huawei.client_support import (
    APP,
    SANDBOX_APP,
    in_hours,
    meeting_client,
    requests_to,
    scheduled,
)

CONFERENCES = "/v1/mmc/management/conferences"
CREATE = f"POST {CONFERENCES}"
LIST = f"GET {CONFERENCES}"
SHORT_READ = httpx.Timeout(0.3, connect=2.0)


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(SANDBOX_APP) as running:
        yield running


def recurring_spec() -> MeetingSpec:
    first = in_hours(26)
    return MeetingSpec(
        subject="Daily",
        start=first,
        recurrence=Recurrence(
            cycle=Cycle.DAY,
            start_date=first.date(),
            end_date=first.date() + timedelta(days=2),
            time_zone_id="26",
        ),
    )


@pytest.mark.parametrize(
    ("method", "status"),
    [
        pytest.param("GET", 503, id="get-503"),
        pytest.param("GET", 500, id="get-500"),
        pytest.param("DELETE", 502, id="delete-502"),
    ],
)
async def test_a_burst_of_5xx_is_retried_on_idempotent_calls(
    sandbox: RunningSandbox, method: str, status: int
) -> None:
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", scheduled())
        sandbox.faults(fail_next=2, fail_status=status, path_prefix=CONFERENCES, method=method)
        if method == "GET":
            assert [c.conference_id for c in await client.list_meetings(APP, "alice")] == [
                created.conference_id
            ]
        else:
            await client.cancel_meeting(APP, "alice", created.conference_id)
            assert sandbox.meetings()[0]["cancelled"]
    assert requests_to(sandbox, f"{method} {CONFERENCES}") == 3


async def test_5xx_beyond_the_attempts_raises_unavailable(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox, retry=RetryPolicy(attempts=3, base=0.01)) as client:
        await client.authenticate(APP, "alice")
        sandbox.faults(fail_next=10, path_prefix=CONFERENCES)
        with pytest.raises(Unavailable) as caught:
            await client.list_meetings(APP, "alice")
    assert caught.value.status_code == 503
    assert caught.value.error_code == "MMC.990000009"
    assert requests_to(sandbox, LIST) == 3


async def test_429_with_retry_after_is_waited_out(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox) as client:
        await client.authenticate(APP, "alice")
        sandbox.faults(fail_next=1, fail_status=429, path_prefix=CONFERENCES)
        started = time.monotonic()
        assert await client.list_meetings(APP, "alice") == []
        waited = time.monotonic() - started
    assert waited >= 0.95  # the sandbox said Retry-After: 1; our own backoff is <= 0.05 s
    assert requests_to(sandbox, LIST) == 2


async def test_429_without_retries_raises_rate_limited(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox, retry=RetryPolicy.none()) as client:
        await client.authenticate(APP, "alice")
        sandbox.faults(fail_next=1, fail_status=429, path_prefix=CONFERENCES)
        with pytest.raises(RateLimited) as caught:
            await client.list_meetings(APP, "alice")
    assert caught.value.retry_after == 1.0


async def test_appauth_is_retried_with_a_fresh_nonce_after_a_timeout(
    sandbox: RunningSandbox,
) -> None:
    # The first appauth is processed (its nonce recorded) but its answer never arrives.
    sandbox.faults(timeout_next=1, timeout_seconds=1, path_prefix="/v2/usg/acs/auth/appauth")
    async with meeting_client(sandbox, timeout=SHORT_READ) as client:
        token = await client.authenticate(APP, "alice")
    assert token.user.third_account == "alice"
    assert sandbox.stats()["appauth_calls"] == 2


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        pytest.param(scheduled("Planning"), CONFERENCES, id="scheduled"),
        pytest.param(MeetingSpec(subject="Right now"), CONFERENCES, id="instant"),
        pytest.param(recurring_spec(), "/v1/mmc/management/cycleconferences", id="recurring"),
    ],
)
async def test_timeout_during_creation_leaves_exactly_one_meeting(
    sandbox: RunningSandbox, spec: MeetingSpec, path: str
) -> None:
    async with meeting_client(sandbox, timeout=SHORT_READ) as client:
        await client.authenticate(APP, "alice")
        # Processed, then the answer is held past the client's read timeout.
        sandbox.faults(timeout_next=1, timeout_seconds=1, path_prefix=path, method="POST")
        conf = await client.create_meeting(APP, "alice", spec)
    held = sandbox.meetings()
    assert [m["conference_id"] for m in held] == [conf.conference_id]
    assert conf.subject == spec.subject
    assert requests_to(sandbox, f"POST {path}") == 1  # found, not sent again
    assert requests_to(sandbox, LIST) == 1  # the lookup


async def test_the_lookup_after_an_ambiguous_create_reads_odd_items(
    sandbox: RunningSandbox,
) -> None:
    async with meeting_client(sandbox, timeout=SHORT_READ) as client:
        await client.authenticate(APP, "alice")
        # The meeting lists itself with an undocumented type, beside an item with no ID.
        sandbox.sandbox.set_oddities(
            fields={"*": {"confType": "WEBINAR", "passwordEntry": [{"password": None}]}},
            extra={"upcoming": [{"subject": "Planning", "conferenceState": "Schedule"}]},
        )
        sandbox.faults(timeout_next=1, timeout_seconds=1, path_prefix=CONFERENCES, method="POST")
        conf = await client.create_meeting(APP, "alice", scheduled("Planning"))
    assert [m["conference_id"] for m in sandbox.meetings()] == [conf.conference_id]
    assert requests_to(sandbox, CREATE) == 1  # found, not sent again


async def test_5xx_on_create_then_success_leaves_exactly_one(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox) as client:
        await client.authenticate(APP, "alice")
        sandbox.faults(fail_next=1, fail_status=502, path_prefix=CONFERENCES, method="POST")
        conf = await client.create_meeting(APP, "alice", scheduled("Retro"))
    assert [m["conference_id"] for m in sandbox.meetings()] == [conf.conference_id]
    assert requests_to(sandbox, CREATE) == 2  # looked first, found nothing, sent again
    assert requests_to(sandbox, LIST) == 1


async def test_429_on_create_is_waited_out_and_sent_again_once(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox) as client:
        await client.authenticate(APP, "alice")
        sandbox.faults(fail_next=1, fail_status=429, path_prefix=CONFERENCES, method="POST")
        conf = await client.create_meeting(APP, "alice", scheduled("Throttled"))
    assert [m["conference_id"] for m in sandbox.meetings()] == [conf.conference_id]
    assert requests_to(sandbox, CREATE) == 2


async def test_create_that_keeps_failing_gives_up_without_duplicates(
    sandbox: RunningSandbox,
) -> None:
    async with meeting_client(sandbox, retry=RetryPolicy(attempts=3, base=0.01)) as client:
        await client.authenticate(APP, "alice")
        sandbox.faults(fail_next=10, path_prefix=CONFERENCES, method="POST")
        with pytest.raises(Unavailable):
            await client.create_meeting(APP, "alice", scheduled())
    assert sandbox.meetings() == []
    assert requests_to(sandbox, CREATE) == 3
    assert requests_to(sandbox, LIST) == 3  # a lookup after every ambiguous failure


async def test_an_identical_meeting_of_another_user_is_not_taken_for_ours(
    sandbox: RunningSandbox,
) -> None:
    spec = scheduled("Same subject")
    async with meeting_client(sandbox) as client:
        # Bob's identical meeting is visible to alice (she is invited) but is not hers.
        theirs = await client.create_meeting(
            APP,
            "bob",
            spec.model_copy(update={"attendees": (Attendee(account_id="alice", name="A"),)}),
        )
        await client.authenticate(APP, "alice")
        sandbox.faults(fail_next=1, path_prefix=CONFERENCES, method="POST")
        ours = await client.create_meeting(APP, "alice", spec)
    assert ours.conference_id != theirs.conference_id
    assert len(sandbox.meetings()) == 2
    assert requests_to(sandbox, CREATE) == 3  # bob's, alice's failed one, alice's again


async def test_a_different_length_is_a_different_meeting(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox) as client:
        earlier = await client.create_meeting(APP, "alice", scheduled("Sync", length_minutes=30))
        sandbox.faults(fail_next=1, path_prefix=CONFERENCES, method="POST")
        later = await client.create_meeting(APP, "alice", scheduled("Sync", length_minutes=60))
    assert later.conference_id != earlier.conference_id
    assert later.length_minutes == 60
    assert len(sandbox.meetings()) == 2


async def test_connect_error_raises_unavailable_with_its_cause() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    retry = RetryPolicy(attempts=2, base=0.01)
    async with HuaweiMeetingClient(f"http://127.0.0.1:{port}", retry=retry) as client:
        with pytest.raises(Unavailable) as caught:
            await client.create_meeting(APP, "alice", scheduled())
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert caught.value.maybe_processed is False
    assert "try again" in caught.value.user_message


@pytest.mark.parametrize(
    ("attempt", "jitter", "retry_after", "expected"),
    [
        pytest.param(1, 1.0, None, 0.25, id="first-retry-up-to-base"),
        pytest.param(3, 1.0, None, 1.0, id="doubles-each-time"),
        pytest.param(10, 1.0, None, 4.0, id="capped"),
        pytest.param(3, 0.5, None, 0.5, id="full-jitter"),
        pytest.param(1, 1.0, 2.0, 2.0, id="retry-after-wins"),
        pytest.param(1, 1.0, 120.0, 10.0, id="retry-after-capped"),
    ],
)
def test_retry_policy_delay(
    attempt: int, jitter: float, retry_after: float | None, expected: float
) -> None:
    policy = RetryPolicy(jitter=lambda: jitter)
    assert policy.delay(attempt, retry_after) == pytest.approx(expected)
    assert policy.can_retry(3)
    assert not policy.can_retry(4)
