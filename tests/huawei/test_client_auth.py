"""HuaweiMeetingClient against the sandbox: appauth, the token cache, and secrets kept out of sight."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

import httpx
import pytest

from bot.huawei.client import HuaweiMeetingClient
from bot.huawei.errors import AuthError, MeetingServiceError, NotFound
from bot.huawei.models import AppCredentials, MeetingSpec
from bot.sandbox import SandboxApp
from tests.fakes.sandbox import RunningSandbox, running_sandbox
from tests.huawei.client_support import (
    APP,
    APP_KEY,
    SANDBOX_APP,
    ManualClock,
    meeting_client,
    scheduled,
)


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(SANDBOX_APP) as running:
        yield running


def appauth_calls(sandbox: RunningSandbox) -> int:
    calls: int = sandbox.stats()["appauth_calls"]
    return calls


def wait_for_appauth(sandbox: RunningSandbox, timeout: float = 30) -> None:
    """Block until an appauth request has reached the sandbox."""
    deadline = time.monotonic() + timeout
    while not appauth_calls(sandbox):
        if time.monotonic() > deadline:
            raise AssertionError("no appauth request reached the sandbox")
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("user_id", "third_account", "admin_type"),
    [
        pytest.param("alice", "alice", 2, id="user"),
        pytest.param(None, "", 0, id="enterprise-owner"),
    ],
)
async def test_authenticate_returns_the_users_token(
    sandbox: RunningSandbox, user_id: str | None, third_account: str, admin_type: int
) -> None:
    async with meeting_client(sandbox) as client:
        token = await client.authenticate(APP, user_id)
        again = await client.authenticate(APP, user_id)
    assert token.access_token.get_secret_value()
    assert token.valid_period == 56326
    assert token.user.third_account == third_account
    assert token.user.admin_type == admin_type
    assert token.user.uuid
    assert again == token
    assert appauth_calls(sandbox) == 1  # the second call came from the cache


async def test_sp_mode_signs_for_user_and_corp_admin() -> None:
    sp_app = SandboxApp("sp-app", APP_KEY, corp_id="corp-7")
    creds = AppCredentials(app_id="sp-app", app_key=APP_KEY, corp_id="corp-7")
    with running_sandbox(sp_app) as sandbox:
        async with meeting_client(sandbox) as client:
            user = await client.authenticate(creds, "alice")
            admin = await client.authenticate(creds, None)
            conf = await client.create_meeting(creds, "alice", scheduled("SP standup"))
        held = sandbox.meetings()
    assert user.user.third_account == "alice"
    assert user.user.corp_id == admin.user.corp_id == "corp-7"
    assert admin.user.admin_type == 0
    assert [(m["conference_id"], m["corp_id"]) for m in held] == [(conf.conference_id, "corp-7")]


async def test_tokens_are_per_user(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox) as client:
        alice = await client.authenticate(APP, "alice")
        bob = await client.authenticate(APP, "bob")
    assert alice.access_token != bob.access_token
    assert sandbox.stats()["appauth_by_user"] == {"alice": 1, "bob": 1}


async def test_fifty_concurrent_calls_for_one_user_share_one_appauth(
    sandbox: RunningSandbox,
) -> None:
    async with meeting_client(sandbox) as client:
        results = await asyncio.gather(*(client.list_meetings(APP, "alice") for _ in range(50)))
    assert results == [[]] * 50
    assert sandbox.stats()["appauth_by_user"] == {"alice": 1}
    assert sandbox.stats()["requests"]["GET /v1/mmc/management/conferences"] == 50


async def test_more_concurrent_calls_than_connections_all_succeed(
    sandbox: RunningSandbox,
) -> None:
    # The default transport spreads requests over several small pools; with a small limit
    # the callers beyond it must wait for a connection, not fail.
    sandbox.faults(latency_ms=50)  # every call holds its connection for a while
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with meeting_client(sandbox, limits=limits) as client:
        users = [f"user-{i % 6}" for i in range(60)]
        results = await asyncio.gather(*(client.list_meetings(APP, u) for u in users))
    assert results == [[]] * 60
    assert sandbox.stats()["requests"]["GET /v1/mmc/management/conferences"] == 60
    assert sandbox.stats()["appauth_calls"] == 6


async def test_concurrent_callers_all_see_a_failed_appauth_and_it_is_not_cached(
    sandbox: RunningSandbox,
) -> None:
    wrong = AppCredentials(app_id=APP.app_id, app_key="not-the-key")
    async with meeting_client(sandbox) as client:
        results = await asyncio.gather(
            *(client.list_meetings(wrong, "alice") for _ in range(20)), return_exceptions=True
        )
        assert all(isinstance(r, AuthError) for r in results)
        assert appauth_calls(sandbox) == 1
        with pytest.raises(AuthError):
            await client.authenticate(wrong, "alice")
        assert appauth_calls(sandbox) == 2  # the failure was not cached
        # The right key for the same app and user is not served a token of the wrong one.
        assert await client.list_meetings(APP, "alice") == []


@pytest.mark.parametrize(
    ("app", "code"),
    [
        pytest.param(
            AppCredentials(app_id=APP.app_id, app_key="wrong-key"), "USG.990000004", id="wrong-key"
        ),
        pytest.param(
            AppCredentials(app_id="no-such-app", app_key=APP_KEY), "USG.990000003", id="unknown-app"
        ),
    ],
)
async def test_refused_app_credentials_raise_auth_error_for_the_admin(
    sandbox: RunningSandbox, app: AppCredentials, code: str
) -> None:
    async with meeting_client(sandbox) as client:
        with pytest.raises(AuthError) as caught:
            await client.create_meeting(app, "alice", scheduled())
    assert caught.value.error_code == code
    assert caught.value.status_code == 401
    assert caught.value.request_id
    assert "app ID" in caught.value.user_message
    assert sandbox.meetings() == []


async def test_token_invalidated_by_the_server_is_renewed_once(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", scheduled())
        sandbox.expire_tokens("alice")
        detail = await client.get_meeting(APP, "alice", created.conference_id)
    assert detail.conference.conference_id == created.conference_id
    assert sandbox.stats()["appauth_by_user"] == {"alice": 2}


async def test_fifty_callers_with_an_invalidated_token_renew_it_once(
    sandbox: RunningSandbox,
) -> None:
    async with meeting_client(sandbox) as client:
        await client.authenticate(APP, "alice")
        sandbox.expire_tokens()
        await asyncio.gather(*(client.list_meetings(APP, "alice") for _ in range(50)))
    assert sandbox.stats()["appauth_by_user"] == {"alice": 2}


async def test_a_second_401_raises_auth_error(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox) as client:
        await client.authenticate(APP, "alice")
        sandbox.faults(fail_next=2, fail_status=401, path_prefix="/v1/mmc/management/conferences")
        with pytest.raises(AuthError) as caught:
            await client.list_meetings(APP, "alice")
    assert caught.value.status_code == 401
    assert appauth_calls(sandbox) == 2  # renewed once, then gave up
    assert sandbox.stats()["requests"]["GET /v1/mmc/management/conferences"] == 2


async def test_token_is_refreshed_ahead_of_its_expiry() -> None:
    clock = ManualClock()
    with running_sandbox(SANDBOX_APP, clock=clock, token_ttl_seconds=1000) as sandbox:
        async with meeting_client(sandbox, clock=clock) as client:
            first = await client.authenticate(APP, "alice")
            clock.advance(850)  # inside the 10 % margin (100 s) is still ahead
            assert await client.authenticate(APP, "alice") == first
            clock.advance(60)  # 910 s: past 900, still valid at the server for 90 s
            await client.list_meetings(APP, "alice")
            second = await client.authenticate(APP, "alice")
        stats = sandbox.stats()
    assert second.access_token != first.access_token
    assert stats["appauth_by_user"] == {"alice": 2}
    # Refreshed before the server refused anything: exactly one business call was made.
    assert stats["requests"]["GET /v1/mmc/management/conferences"] == 1


async def test_token_cache_is_bounded(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox, token_cache_size=2) as client:
        for user in ("alice", "bob", "carol", "alice"):
            await client.authenticate(APP, user)
        assert "cached_tokens=2" in repr(client)
    assert sandbox.stats()["appauth_by_user"] == {"alice": 2, "bob": 1, "carol": 1}


async def test_a_cancelled_caller_does_not_cancel_the_shared_appauth(
    sandbox: RunningSandbox,
) -> None:
    sandbox.faults(latency_ms=2000, path_prefix="/v2/usg/acs/auth/appauth")
    async with meeting_client(sandbox) as client:
        impatient = asyncio.create_task(client.authenticate(APP, "alice"))
        patient = asyncio.create_task(client.authenticate(APP, "alice"))
        # Cancel once the shared appauth is at the vendor (counted on arrival, then delayed):
        # both callers are waiting on it by then.
        await asyncio.to_thread(wait_for_appauth, sandbox)
        impatient.cancel()
        token = await patient
    assert token.user.third_account == "alice"
    assert impatient.cancelled()
    assert appauth_calls(sandbox) == 1


async def test_secrets_never_show_in_repr_errors_or_logs(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.huawei")
    errors: list[MeetingServiceError] = []
    async with meeting_client(sandbox) as client:
        token = await client.authenticate(APP, "alice")
        conf = await client.create_meeting(APP, "alice", MeetingSpec(subject="Secret check"))
        with pytest.raises(NotFound) as not_found:
            await client.get_meeting(APP, "alice", "000000000")
        errors.append(not_found.value)
        with pytest.raises(AuthError) as refused:
            await client.authenticate(AppCredentials(app_id=APP.app_id, app_key="wrong"), "bob")
        errors.append(refused.value)
        sandbox.faults(fail_next=2, fail_status=401)
        with pytest.raises(AuthError) as rejected:
            await client.list_meetings(APP, "alice")
        errors.append(rejected.value)
        client_repr = repr(client)
    secret_token = token.access_token.get_secret_value()
    texts = [
        client_repr,
        repr(APP),
        str(APP),
        repr(token),
        str(token),
        repr(conf),
        caplog.text,
        *(str(e) for e in errors),
        *(repr(e) for e in errors),
        *(e.user_message for e in errors),
    ]
    for text in texts:
        assert APP_KEY not in text
        assert secret_token not in text
        assert "HMAC-SHA256" not in text
    assert caplog.text  # the client did log (method, path, status), just nothing secret


async def test_client_over_tls_with_the_sandbox_certificate() -> None:
    with running_sandbox(SANDBOX_APP, tls=True) as sandbox:
        assert sandbox.cafile is not None
        async with HuaweiMeetingClient(sandbox.base_url, verify=str(sandbox.cafile)) as client:
            token = await client.authenticate(APP, "alice")
    assert sandbox.base_url.startswith("https://")
    assert token.user.third_account == "alice"
