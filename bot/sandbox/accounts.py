"""Who may call the sandbox: registered apps, app-ID authentication, users and access tokens.

appauth is checked as strictly as the vendor does it: the signature is recomputed with the
vendor's documented algorithm (`bot.huawei.signature.signed_data`), then expiry and nonce reuse.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import hmac
import json
import secrets
from collections import deque
from collections.abc import Iterable
from typing import Any, Final

from bot.huawei.errors import TOKEN_INVALID
from bot.huawei.models import CLIENT_TYPE_API
from bot.huawei.signature import NONCE_MAX, NONCE_MIN, SignMode, signed_data
from bot.sandbox.model import Call, Party, SandboxApp, User, login_account, stable_hex, user_uuid
from bot.sandbox.rules import SandboxError

__all__ = ["Accounts", "auth_error", "parse_authorization", "sign_mode"]

MAX_TOKENS_PER_USER: Final = 64
REFRESH_TTL_SECONDS: Final = 2_592_000


def auth_error(code: str, message: str, status: int = 401) -> SandboxError:
    """An appauth/USG failure (401 unless said otherwise)."""
    return SandboxError(status, code, message)


def parse_authorization(header: str | None, app_id: str) -> str:
    """The hex signature of `HMAC-SHA256 signature=<hex>[,access=<base64 appId>]`."""
    scheme, _, params = (header or "").partition(" ")
    fields: dict[str, str] = {}
    for part in params.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields[name] = value
    signature = fields.get("signature", "")
    if scheme != "HMAC-SHA256" or len(signature) != 64:
        raise auth_error("USG.990000002", "Authorization must be 'HMAC-SHA256 signature=<hex>'")
    if "access" in fields:
        try:
            access = base64.b64decode(fields["access"], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            access = None
        if access != app_id:
            raise auth_error("USG.990000002", "access= is not the base64 of the appId")
    return signature


def sign_mode(app_corp_id: str | None, *, user_id: str, corp_id: str) -> SignMode:
    """Which formula signs this appauth body; SP apps are those configured with a corp ID."""
    if app_corp_id is None:
        if corp_id:
            raise auth_error("USG.990000007", "corpId is only accepted from SP-mode apps")
        return SignMode.SINGLE
    if corp_id and corp_id != app_corp_id:
        raise auth_error("USG.990000007", "the app does not serve this corpId")
    if corp_id:
        return SignMode.SP_USER if user_id else SignMode.SP_CORP_ADMIN
    if user_id:
        raise auth_error("USG.990000007", "SP mode needs corpId together with userId")
    return SignMode.SP_ADMIN


class Accounts:
    """The registered apps, the users they provisioned, the tokens issued and the nonces seen."""

    def __init__(self, apps: Iterable[SandboxApp], *, token_ttl_seconds: int) -> None:
        self._apps = {a.app_id: a for a in apps}
        self._token_ttl = token_ttl_seconds
        self.clear()

    def clear(self) -> None:
        """Forget users, tokens and nonces (the apps stay registered)."""
        self._users: dict[Party, User] = {}
        self._tokens: dict[str, tuple[User, float]] = {}
        self._tokens_by_party: dict[Party, deque[str]] = {}
        self._nonces: dict[tuple[str, str], float] = {}
        self._nonce_expiry: list[tuple[float, str, str]] = []

    def appauth(self, call: Call) -> dict[str, Any]:
        """`POST /v2/usg/acs/auth/appauth`: verify the signed request, issue an access token."""
        try:
            body = json.loads(call.body)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise auth_error("USG.990000001", "the body must be a JSON object", 400)
        app_id, client_type = body.get("appId"), body.get("clientType")
        expire, nonce = body.get("expireTime"), body.get("nonce")
        user_id, corp_id = body.get("userId") or "", body.get("corpId") or ""
        if not isinstance(app_id, str) or not app_id:
            raise auth_error("USG.990000001", "appId is required", 400)
        if isinstance(client_type, bool) or not isinstance(client_type, int):
            raise auth_error(
                "USG.990000001", f"clientType is required ({CLIENT_TYPE_API} for API calls)", 400
            )
        if isinstance(expire, bool) or not isinstance(expire, int) or expire < 0:
            raise auth_error("USG.990000001", "expireTime must be epoch seconds", 400)
        if not isinstance(nonce, str) or not NONCE_MIN <= len(nonce) <= NONCE_MAX:
            raise auth_error("USG.990000001", "nonce must have 32-64 characters", 400)
        if not isinstance(user_id, str) or not isinstance(corp_id, str):
            raise auth_error("USG.990000001", "userId and corpId must be strings", 400)
        app = self._apps.get(app_id)
        if app is None:
            raise auth_error("USG.990000003", "unknown appId")
        signature = parse_authorization(call.headers.get("authorization"), app_id)
        mode = sign_mode(app.corp_id, user_id=user_id, corp_id=corp_id)
        data = signed_data(
            mode, app_id=app_id, expire_time=expire, nonce=nonce, user_id=user_id, corp_id=corp_id
        )
        expected = hmac.new(app.app_key.encode(), data.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise auth_error("USG.990000004", "signature verification failed")
        if expire != 0 and call.now > expire:
            raise auth_error("USG.990000005", "the signature has expired (expireTime)")
        self._prune_nonces(call.now)
        if (app_id, nonce) in self._nonces:
            raise auth_error("USG.990000006", "the nonce has already been used")
        self._nonces[(app_id, nonce)] = float("inf") if expire == 0 else float(expire)
        if expire:
            heapq.heappush(self._nonce_expiry, (float(expire), app_id, nonce))
        user = self._login(app, mode, user_id, corp_id, body.get("userName"))
        return self._issue_token(user, call)

    def _prune_nonces(self, now: float) -> None:
        heap = self._nonce_expiry
        while heap and heap[0][0] < now:
            _, app_id, nonce = heapq.heappop(heap)
            self._nonces.pop((app_id, nonce), None)

    def _login(
        self, app: SandboxApp, mode: SignMode, user_id: str, corp_id: str, name: Any
    ) -> User:
        party = (app.app_id, corp_id, user_id)
        user = self._users.get(party)
        if user is None:
            user = User(
                uuid=user_uuid(party),
                party=party,
                scope=(app.app_id, app.corp_id or ""),
                name=name if isinstance(name, str) and name else user_id or "Administrator",
                login_account=login_account(party),
                admin=not user_id,
                user_type=1 if mode is SignMode.SP_ADMIN else 2,
            )
            self._users[party] = user
        return user

    def _issue_token(self, user: User, call: Call) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        now = call.now
        self._tokens[token] = (user, now + self._token_ttl)
        issued = self._tokens_by_party.setdefault(user.party, deque())
        issued.append(token)
        if len(issued) > MAX_TOKENS_PER_USER:
            self._tokens.pop(issued.popleft(), None)
        app_id, _, third = user.party
        return {
            "accessToken": token,
            "tokenIp": call.client_ip,
            "validPeriod": self._token_ttl,
            "expireTime": int(now + self._token_ttl),
            "createTime": int(now * 1000),
            "refreshToken": secrets.token_urlsafe(32),
            "refreshValidPeriod": REFRESH_TTL_SECONDS,
            "refreshExpireTime": int(now + REFRESH_TTL_SECONDS),
            "refreshCreateTime": int(now * 1000),
            "tokenType": 0,
            "clientType": CLIENT_TYPE_API,
            "firstLogin": False,
            "pwdExpired": False,
            "daysPwdAvailable": 0,
            "delayDelete": False,
            "user": {
                "userId": user.uuid,
                "ucloginAccount": user.login_account,
                "thirdAccount": third,
                "appId": app_id,
                "companyId": user.scope[1] or stable_hex("corp", app_id)[:16],
                "spId": "",
                "name": user.name,
                "nameEn": "",
                "status": 0,
                "userType": user.user_type,
                "adminType": 0 if user.admin else 2,
                "corpType": 6,
                "freeUser": False,
                "weLinkUser": False,
            },
        }

    def authenticate(self, token: str | None, now: float) -> User:
        """The user behind an `X-Access-Token`, or 401 USG.000000004."""
        entry = self._tokens.get(token or "")
        if entry is None or now >= entry[1]:
            raise auth_error(TOKEN_INVALID, "the access token is invalid or has expired")
        return entry[0]

    def expire_tokens(self, user_id: str | None = None) -> int:
        """Invalidate every access token, or one third-party user's; returns how many."""
        if user_id is None:
            count = len(self._tokens)
            self._tokens.clear()
            self._tokens_by_party.clear()
            return count
        count = 0
        for party in [p for p in self._tokens_by_party if p[2] == user_id]:
            for token in self._tokens_by_party.pop(party):
                count += self._tokens.pop(token, None) is not None
        return count
