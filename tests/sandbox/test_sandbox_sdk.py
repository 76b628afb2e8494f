"""The vendor's official SDK as an independent client of the sandbox, and as a signature oracle."""

from __future__ import annotations

import gc
import hashlib
import hmac
import random
import string
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkmeeting.v1 import (
    CancelMeetingRequest,
    CreateMeetingRequest,
    MeetingClient,
    RestAttendeeDTO,
    RestScheduleConfDTO,
    SearchMeetingsRequest,
    ShowMeetingDetailRequest,
)
from huaweicloudsdkmeeting.v1.meeting_credentials import (
    AuthTypeEnum,
    MeetingCredentials,
    TenantSceneEnum,
)

from bot.huawei.signature import SignMode, sign
from bot.sandbox import SandboxApp
from tests.fakes.sandbox import RunningSandbox, running_sandbox

SINGLE = SandboxApp("sdk-app", "sdk-key-0123456789")
SP = SandboxApp("sdk-sp-app", "sdk-sp-key", corp_id="corp-sdk")


def sdk_credentials(
    app_id: str, app_key: str, user_id: str | None, corp_id: str | None, *, sp_mode: bool
) -> Any:
    return (
        MeetingCredentials()
        .with_auth_type_enum(AuthTypeEnum.APP_ID)
        .with_app_id(app_id)
        .with_app_key(app_key)
        .with_user_id(user_id)
        .with_corp_id(corp_id)
        .with_tenant_scene_enum(
            TenantSceneEnum.MULTI_TENANT if sp_mode else TenantSceneEnum.SINGLE_TENANT
        )
    )


def sdk_signature(
    app_id: str,
    app_key: str,
    expire_time: int,
    nonce: str,
    user_id: str | None = None,
    corp_id: str | None = None,
    *,
    sp_mode: bool = False,
) -> str:
    """The hex SDK 3.1.219 puts after 'signature=' (reference §10.1)."""
    creds = sdk_credentials(app_id, app_key, user_id, corp_id, sp_mode=sp_mode)
    return str(creds._sign_hmac256(expire_time, nonce))


# ---------------------------------------------------------------------------- signature oracle

APP_ID, APP_KEY, EXPIRE = "appid123", "appkey456", 1604020600
NONCE = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("user_id", "corp_id", "sp_mode", "mode", "expected"),
    [
        pytest.param("alice", None, False, SignMode.SINGLE, "55DA3BFEDEF2294D5124A633913A16A31AB193326A8B833E5F44B7CBD3ED6369", id="single-user"),
        pytest.param(None, None, False, SignMode.SINGLE, "53F451CB5C1C2383D0C1AFB3F3EB887BD3AB86197B6FBD9574D43999A1F8F009", id="single-owner"),
        pytest.param("alice", "corp789", True, SignMode.SP_USER, "67B1C16CC6AC6ECB445E307C8D055591242BA87EC20AC3BB2932F5E8F069E76F", id="sp-user"),
        pytest.param(None, "corp789", True, SignMode.SP_CORP_ADMIN, "5753ABBD6AAEAC57D32C24AB2EFAC6FFEDA38CA9F7CC492797BC01C11B8212E6", id="sp-corp-admin"),
        pytest.param(None, None, True, SignMode.SP_ADMIN, "F576F71B4143E3500E9E35909FFB0AD80B27EFF08349DE6B556185FC1C78A39B", id="sp-admin"),
    ],
)  # fmt: skip
def test_reference_vectors_match_sdk_and_our_signer(
    user_id: str | None, corp_id: str | None, sp_mode: bool, mode: SignMode, expected: str
) -> None:
    assert (
        sdk_signature(APP_ID, APP_KEY, EXPIRE, NONCE, user_id, corp_id, sp_mode=sp_mode) == expected
    )
    ours = sign(
        mode,
        app_id=APP_ID,
        app_key=APP_KEY,
        expire_time=EXPIRE,
        nonce=NONCE,
        user_id=user_id or "",
        corp_id=corp_id or "",
    )
    assert ours.upper() == expected


@pytest.mark.parametrize(
    ("mode", "corp_id", "seed_literal_data", "seed_literal_digest"),
    [
        pytest.param(SignMode.SP_CORP_ADMIN, "corp789", f"appid123:corp789:1604020600:{NONCE}", "38f42b4c29021ac497d23f14e9c59487c5ef8cc30be07cff8d65ddb3b5c9351d", id="sp-corp-admin"),
        pytest.param(SignMode.SP_ADMIN, "", f"appid123:1604020600:{NONCE}", "42d48cb71f32291a9b5b275652fc64240d1f6c0e432b5b6c7c9c060be93f9a3b", id="sp-admin"),
    ],
)  # fmt: skip
def test_seed_literal_admin_forms_are_not_what_we_sign(
    mode: SignMode, corp_id: str, seed_literal_data: str, seed_literal_digest: str
) -> None:
    literal = hmac.new(APP_KEY.encode(), seed_literal_data.encode(), hashlib.sha256).hexdigest()
    assert literal == seed_literal_digest
    ours = sign(
        mode, app_id=APP_ID, app_key=APP_KEY, expire_time=EXPIRE, nonce=NONCE, corp_id=corp_id
    )
    assert ours != seed_literal_digest
    sdk = sdk_signature(APP_ID, APP_KEY, EXPIRE, NONCE, None, corp_id or None, sp_mode=True)
    assert sdk.lower() == ours


def _word(rng: random.Random, low: int = 1, high: int = 24) -> str:
    alphabet = string.ascii_letters + string.digits + "-_.@éü中"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def test_300_random_inputs_sign_like_the_sdk() -> None:
    rng = random.Random(20261128)
    modes = [
        SignMode.SINGLE,
        SignMode.SINGLE,
        SignMode.SP_USER,
        SignMode.SP_CORP_ADMIN,
        SignMode.SP_ADMIN,
    ]
    for i in range(300):
        mode = modes[i % len(modes)]
        owner = mode is SignMode.SINGLE and i % 2 == 1
        app_id, app_key = _word(rng), _word(rng, 8, 64)
        user_id = "" if owner or mode in (SignMode.SP_CORP_ADMIN, SignMode.SP_ADMIN) else _word(rng)
        corp_id = _word(rng) if mode in (SignMode.SP_USER, SignMode.SP_CORP_ADMIN) else ""
        expire = rng.randint(1, 2**40)
        nonce = _word(rng, 32, 64)
        sdk = sdk_signature(
            app_id,
            app_key,
            expire,
            nonce,
            user_id or None,
            corp_id or None,
            sp_mode=mode is not SignMode.SINGLE,
        )
        ours = sign(
            mode,
            app_id=app_id,
            app_key=app_key,
            expire_time=expire,
            nonce=nonce,
            user_id=user_id,
            corp_id=corp_id,
        )
        assert sdk.lower() == ours.lower(), (mode, app_id, user_id, corp_id)


# ---------------------------------------------------------------------------- SDK against the sandbox


@pytest.fixture(scope="module")
def tls_sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(SINGLE, SP, tls=True) as running:
        yield running


@pytest.fixture
def sb(tls_sandbox: RunningSandbox) -> RunningSandbox:
    tls_sandbox.sandbox.reset()
    return tls_sandbox


@pytest.fixture
def make_client(sb: RunningSandbox) -> Iterator[Any]:
    clients: list[Any] = []

    def build(app: SandboxApp, user_id: str | None, *, key: str | None = None) -> Any:
        config = HttpConfig.get_default_config()
        config.ignore_ssl_verification = True
        creds = sdk_credentials(
            app.app_id, key or app.app_key, user_id, app.corp_id, sp_mode=app.corp_id is not None
        )
        client = (
            MeetingClient.new_builder()
            .with_http_config(config)
            .with_credentials(creds)
            .with_endpoints([sb.base_url])
            .build()
        )
        clients.append(client)
        return client

    yield build
    # Close the SDK's connections before the server stops. After an error answer the SDK drops
    # its response without returning the connection to the pool; collecting it closes the socket.
    for client in clients:
        client.close()
    gc.collect()


def _in_an_hour(sb: RunningSandbox) -> str:
    start = datetime.fromtimestamp(sb.sandbox.now(), UTC) + timedelta(hours=1)
    return start.strftime("%Y-%m-%d %H:%M")


def test_sdk_single_enterprise_user_books_lists_and_cancels(
    sb: RunningSandbox, make_client: Any
) -> None:
    client = make_client(SINGLE, "alice")
    start = _in_an_hour(sb)
    body = RestScheduleConfDTO(
        subject="SDK demo",
        start_time=start,
        length=45,
        media_types="HDVideo",
        attendees=[RestAttendeeDTO(account_id="bob", app_id=SINGLE.app_id, name="Bob", role=0)],
    )
    [created] = client.create_meeting(CreateMeetingRequest(body=body)).body
    conf = created.conference_id
    assert created.conference_state == "Schedule"
    assert created.start_time == start
    assert {p.conference_role for p in created.password_entry} == {"chair", "general"}

    detail = client.show_meeting_detail(ShowMeetingDetailRequest(conference_id=conf))
    assert detail.conference_data.subject == "SDK demo"
    assert [p.account_id for p in detail.data.data] == ["bob"]

    listed = client.search_meetings(SearchMeetingsRequest(limit=10))
    assert listed.count == 1
    assert [m.conference_id for m in listed.data] == [conf]

    client.cancel_meeting(CancelMeetingRequest(conference_id=conf))
    assert client.search_meetings(SearchMeetingsRequest()).count == 0
    [meeting] = sb.meetings()
    assert (meeting["owner"], meeting["cancelled"]) == ("alice", True)
    assert sb.stats()["appauth_by_user"] == {"alice": 1}


def test_sdk_sp_mode_user_and_corp_admin(sb: RunningSandbox, make_client: Any) -> None:
    carol = make_client(SP, "carol")
    body = RestScheduleConfDTO(subject="SP", start_time=_in_an_hour(sb), media_types="Voice")
    [created] = carol.create_meeting(CreateMeetingRequest(body=body)).body
    admin = make_client(SP, None)
    everyone = admin.search_meetings(SearchMeetingsRequest(query_all=True, limit=500))
    assert [m.conference_id for m in everyone.data] == [created.conference_id]
    [meeting] = sb.meetings()
    assert (meeting["corp_id"], meeting["owner"]) == ("corp-sdk", "carol")


def test_sdk_sees_vendor_errors(sb: RunningSandbox, make_client: Any) -> None:
    client = make_client(SINGLE, "alice")
    with pytest.raises(ClientRequestException) as missing:
        client.show_meeting_detail(ShowMeetingDetailRequest(conference_id="123456789"))
    assert (missing.value.status_code, missing.value.error_code) == (400, "MMC.111070005")
    assert missing.value.request_id


def test_sdk_with_a_wrong_app_key_fails_cleanly(sb: RunningSandbox, make_client: Any) -> None:
    client = make_client(SINGLE, "alice", key="not-the-key")
    with pytest.raises(ClientRequestException) as failure:
        client.search_meetings(SearchMeetingsRequest())
    assert failure.value.status_code == 401
    assert failure.value.error_code == "USG.990000004"
    assert failure.value.request_id
    assert SINGLE.app_key not in str(failure.value)
    assert sb.stats()["requests"] == {"POST /v2/usg/acs/auth/appauth": 1}
