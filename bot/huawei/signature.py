"""App-ID authentication signatures of Huawei Cloud Meeting (seed guide, chapter 3).

Pure: no clock and no I/O inside. The data strings are the ones the official SDK
signs, which keep every slot's colon even when the slot is empty (reference §3.1.1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from enum import StrEnum
from typing import Final

__all__ = [
    "NONCE_MAX",
    "NONCE_MIN",
    "SIGNATURE_TTL_SECONDS",
    "SignMode",
    "authorization_header",
    "expire_time",
    "new_nonce",
    "sign",
    "signed_data",
]

NONCE_MIN: Final = 32
NONCE_MAX: Final = 64
SIGNATURE_TTL_SECONDS: Final = 600
"""A signature is valid for ten minutes, as in the seed's example and the SDK."""


class SignMode(StrEnum):
    """Who the token is for, which fixes the shape of the signed data string."""

    SINGLE = "single"
    """Single enterprise: a user, or the enterprise owner when user_id is empty."""
    SP_USER = "sp_user"
    """Service-provider mode: a user of the enterprise corp_id."""
    SP_CORP_ADMIN = "sp_corp_admin"
    """Service-provider mode: the administrator of the enterprise corp_id."""
    SP_ADMIN = "sp_admin"
    """Service-provider mode: the service provider's own administrator."""


def signed_data(
    mode: SignMode,
    *,
    app_id: str,
    expire_time: int,
    nonce: str,
    user_id: str = "",
    corp_id: str = "",
) -> str:
    """The string that is signed: four slots in single mode, five in SP mode."""
    slots: tuple[str, ...]
    match mode:
        case SignMode.SINGLE:
            slots = (app_id, user_id)
        case SignMode.SP_USER:
            slots = (app_id, corp_id, user_id)
        case SignMode.SP_CORP_ADMIN:
            slots = (app_id, corp_id, "")
        case SignMode.SP_ADMIN:
            slots = (app_id, "", "")
    return ":".join((*slots, str(expire_time), nonce))


def sign(
    mode: SignMode,
    *,
    app_id: str,
    app_key: str,
    expire_time: int,
    nonce: str,
    user_id: str = "",
    corp_id: str = "",
) -> str:
    """HexEncode(HMAC-SHA256(key=app_key, data=signed_data(...))), lowercase."""
    if expire_time <= 0:
        raise ValueError("expire_time must be a positive epoch second; 0 would never expire")
    if not NONCE_MIN <= len(nonce) <= NONCE_MAX:
        raise ValueError(f"nonce must have {NONCE_MIN}-{NONCE_MAX} characters, got {len(nonce)}")
    data = signed_data(
        mode, app_id=app_id, expire_time=expire_time, nonce=nonce, user_id=user_id, corp_id=corp_id
    )
    return hmac.new(app_key.encode(), data.encode(), hashlib.sha256).hexdigest()


def authorization_header(signature: str, *, app_id: str) -> str:
    """The appauth `Authorization` value, with `access=` as the official SDK sends it."""
    access = base64.b64encode(app_id.encode()).decode()
    return f"HMAC-SHA256 signature={signature},access={access}"


def new_nonce() -> str:
    """A fresh random nonce: 32 hex characters (128 bits) from `secrets`."""
    return secrets.token_hex(NONCE_MIN // 2)


def expire_time(now: float) -> int:
    """Epoch seconds at which a signature made at `now` stops being valid."""
    return int(now) + SIGNATURE_TTL_SECONDS
