"""The four app-ID signature formulas, checked against the reference's vectors (SDK output)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from bot.huawei.signature import (
    NONCE_MAX,
    NONCE_MIN,
    SignMode,
    authorization_header,
    expire_time,
    new_nonce,
    sign,
    signed_data,
)

APP_ID = "appid123"
APP_KEY = "appkey456"
EXPIRE = 1604020600
NONCE = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("mode", "user_id", "corp_id", "data", "expected"),
    [
        pytest.param(
            SignMode.SINGLE, "alice", "",
            f"appid123:alice:1604020600:{NONCE}",
            "55DA3BFEDEF2294D5124A633913A16A31AB193326A8B833E5F44B7CBD3ED6369",
            id="single-user",
        ),
        pytest.param(
            SignMode.SINGLE, "", "",
            f"appid123::1604020600:{NONCE}",
            "53F451CB5C1C2383D0C1AFB3F3EB887BD3AB86197B6FBD9574D43999A1F8F009",
            id="single-owner",
        ),
        pytest.param(
            SignMode.SP_USER, "alice", "corp789",
            f"appid123:corp789:alice:1604020600:{NONCE}",
            "67B1C16CC6AC6ECB445E307C8D055591242BA87EC20AC3BB2932F5E8F069E76F",
            id="sp-user",
        ),
        pytest.param(
            SignMode.SP_CORP_ADMIN, "", "corp789",
            f"appid123:corp789::1604020600:{NONCE}",
            "5753ABBD6AAEAC57D32C24AB2EFAC6FFEDA38CA9F7CC492797BC01C11B8212E6",
            id="sp-corp-admin",
        ),
        pytest.param(
            SignMode.SP_ADMIN, "", "",
            f"appid123:::1604020600:{NONCE}",
            "F576F71B4143E3500E9E35909FFB0AD80B27EFF08349DE6B556185FC1C78A39B",
            id="sp-admin",
        ),
    ],
)  # fmt: skip
def test_sign_matches_official_sdk_vectors(
    mode: SignMode, user_id: str, corp_id: str, data: str, expected: str
) -> None:
    kwargs = {"user_id": user_id, "corp_id": corp_id}
    assert signed_data(mode, app_id=APP_ID, expire_time=EXPIRE, nonce=NONCE, **kwargs) == data
    signature = sign(
        mode, app_id=APP_ID, app_key=APP_KEY, expire_time=EXPIRE, nonce=NONCE, **kwargs
    )
    assert signature == expected.lower()


@pytest.mark.parametrize(
    ("mode", "seed_literal_digest"),
    [
        pytest.param(
            SignMode.SP_CORP_ADMIN,
            "38f42b4c29021ac497d23f14e9c59487c5ef8cc30be07cff8d65ddb3b5c9351d",
            id="sp-corp-admin",
        ),
        pytest.param(
            SignMode.SP_ADMIN,
            "42d48cb71f32291a9b5b275652fc64240d1f6c0e432b5b6c7c9c060be93f9a3b",
            id="sp-admin",
        ),
    ],
)
def test_admin_modes_keep_empty_slots_unlike_the_seed_literal_formula(
    mode: SignMode, seed_literal_digest: str
) -> None:
    signature = sign(
        mode, app_id=APP_ID, app_key=APP_KEY, expire_time=EXPIRE, nonce=NONCE, corp_id="corp789"
    )
    assert signature != seed_literal_digest


def test_sign_is_keyed_by_the_app_key_over_utf8() -> None:
    data = signed_data(
        SignMode.SINGLE, app_id="应用", expire_time=EXPIRE, nonce=NONCE, user_id="张三"
    )
    expected = hmac.new("密钥".encode(), data.encode(), hashlib.sha256).hexdigest()
    got = sign(
        SignMode.SINGLE,
        app_id="应用",
        app_key="密钥",
        expire_time=EXPIRE,
        nonce=NONCE,
        user_id="张三",
    )
    assert got == expected


@pytest.mark.parametrize(
    "nonce", [pytest.param("x" * 31, id="too-short"), pytest.param("x" * 65, id="too-long")]
)
def test_sign_rejects_nonce_outside_32_to_64_characters(nonce: str) -> None:
    with pytest.raises(ValueError, match="32-64"):
        sign(SignMode.SINGLE, app_id=APP_ID, app_key=APP_KEY, expire_time=EXPIRE, nonce=nonce)


def test_sign_refuses_a_signature_that_never_expires() -> None:
    with pytest.raises(ValueError, match="never expire"):
        sign(SignMode.SINGLE, app_id=APP_ID, app_key=APP_KEY, expire_time=0, nonce=NONCE)


def test_new_nonce_is_fresh_and_within_limits() -> None:
    nonces = {new_nonce() for _ in range(1000)}
    assert len(nonces) == 1000
    assert all(NONCE_MIN <= len(n) <= NONCE_MAX for n in nonces)


def test_expire_time_is_ten_minutes_ahead() -> None:
    assert expire_time(1604020000.7) == 1604020600


def test_authorization_header_carries_signature_and_base64_app_id() -> None:
    header = authorization_header("abc123", app_id=APP_ID)
    assert header == "HMAC-SHA256 signature=abc123,access=YXBwaWQxMjM="
