"""The sandbox's HTTP layer (Starlette/ASGI): vendor routes, fault injection, the control API.

The semantics live in `accounts` (appauth), `conferences` (meetings), `state` and `rules`.

Control API (no auth; JSON; never delayed or failed by faults):
  POST /_sandbox/faults  {latency_ms, fail_next, fail_status=503, timeout_next, timeout_seconds=30,
                          path_prefix="", method=null}  replaces the fault set; {} clears it
  POST /_sandbox/oddities {fields: {conferenceID|"*": {wire field: value}},
                           drop: {conferenceID|"*": [wire field]},
                           extra: {"upcoming"|"online"|"history": [raw item]}}
                          replaces the set of odd answers (see `bot.sandbox.oddities`); {} clears it
  GET  /_sandbox/clock -> {"now"};  POST /_sandbox/clock {"advance_seconds"} -> {"now"}
  POST /_sandbox/tokens/expire {"user_id": str|null} -> {"expired": n}
  POST /_sandbox/meetings/{id}/start -> {"conf_uuid"};  POST /_sandbox/meetings/{id}/end
  POST /_sandbox/meetings/{id}/participants {"name", "account_id"} -> {"participant_id"}
  DELETE /_sandbox/meetings/{id}/participants/{participant_id}
  GET  /_sandbox/meetings -> [every meeting];  GET /_sandbox/stats;  POST /_sandbox/reset
  Control errors: 400 SANDBOX.BAD_REQUEST, 404 SANDBOX.NOT_FOUND, 409 SANDBOX.CONFLICT.

Error codes (body `{"error_code", "error_msg", "request_id"}`, header `X-Request-Id`). Vendor codes:
  401 USG.000000004  access token missing, unknown, expired or invalidated
  400 MMC.111070005  meeting not found, not visible to the caller, cancelled or booking over
  400 MMC.111072005  meeting not in progress (control token, stop, online attendees)
Sandbox codes (the vendor publishes none for these):
  400 USG.990000001  malformed appauth body (not JSON, appId/clientType/expireTime/nonce missing
                     or mistyped, nonce not 32-64 characters)
  401 USG.990000002  Authorization header missing or malformed, or access= is not base64(appId)
  401 USG.990000003  unknown appId
  401 USG.990000004  signature mismatch (wrong app key, or signed data differs from the body)
  401 USG.990000005  signature expired (expireTime before the sandbox clock; 0 never expires)
  401 USG.990000006  nonce already used
  401 USG.990000007  corpId refused: sent to a single-enterprise app, a corp the SP app does not
                     serve, or a userId without corpId in SP mode
  400 MMC.990000001  parameter error (field limits, formats, paging)
  400 MMC.990000002  meeting in progress: cannot be edited, or cancelled without type=1
  401 MMC.990000003  conference control token missing, unknown, expired or for another meeting
  401 MMC.990000004  wrong meeting password (control token)
  403 MMC.990000005  not the organizer or an admin (edit, cancel, stop with a guest token)
  404 MMC.990000006  no such API / 405 method not allowed
  *   MMC.990000009  injected fault (`/_sandbox/faults`)
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.huawei import paths
from bot.huawei.paths import CONTROL as _CONTROL
from bot.huawei.paths import MANAGEMENT as _MGMT
from bot.sandbox.model import Call
from bot.sandbox.rules import SandboxError
from bot.sandbox.state import SandboxState

__all__ = ["Sandbox"]

AuthMode = Literal["required", "optional", "none"]
Handler = Callable[[Call], Any]
Endpoint = Callable[[Request], Awaitable[Response]]


def _json_response(
    status: int, payload: Any, request_id: str, headers: dict[str, str] | None = None
) -> Response:
    content = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
    return Response(
        content,
        status,
        headers={"X-Request-Id": request_id, **(headers or {})},
        media_type="application/json",
    )


def _error_response(
    exc: SandboxError, request_id: str, headers: dict[str, str] | None = None
) -> Response:
    body = {"error_code": exc.code, "error_msg": exc.message, "request_id": request_id}
    return _json_response(exc.status, body, request_id, headers)


def _json_object(raw: bytes) -> dict[str, Any]:
    body = json.loads(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise TypeError("the body must be a JSON object")
    return body


async def _hold(request: Request, seconds: float) -> None:
    """Sit on an answer for `seconds`, or until the client gives up and disconnects."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if await request.is_disconnected():
            return
        await asyncio.sleep(min(0.05, left))


def _request_id(request: Request) -> str:
    return request.headers.get("x-request-id") or uuid.uuid4().hex


class Sandbox(SandboxState):
    """The sandbox: its state plus `.app`, the Starlette ASGI app serving vendor and control API."""

    @cached_property
    def app(self) -> Starlette:
        """The Starlette ASGI app (built once, on first use)."""
        return Starlette(
            routes=self._vendor_routes() + self._control_routes(),
            exception_handlers={HTTPException: self._http_error},
        )

    # ------------------------------------------------------------------ vendor API

    def _vendor_routes(self) -> list[Route]:
        v, a, c = self._vendor, self._accounts, self._conferences
        return [
            Route(paths.APPAUTH, v(a.appauth, "none"), methods=["POST"]),
            Route(f"{_MGMT}/conferences", v(c.create), methods=["POST"]),
            Route(f"{_MGMT}/conferences", v(c.edit), methods=["PUT"]),
            Route(f"{_MGMT}/conferences", v(c.cancel), methods=["DELETE"]),
            Route(f"{_MGMT}/conferences", v(c.list_meetings), methods=["GET"]),
            Route(f"{_MGMT}/cycleconferences", v(c.create_recurring), methods=["POST"]),
            Route(f"{_MGMT}/cycleconferences", v(c.edit_recurring), methods=["PUT"]),
            Route(f"{_MGMT}/cycleconferences", v(c.cancel), methods=["DELETE"]),
            Route(f"{_MGMT}/conferences/confDetail", v(c.detail), methods=["GET"]),
            Route(f"{_MGMT}/conferences/online", v(c.online), methods=["GET"]),
            Route(
                f"{_MGMT}/conferences/online/conf-attendee",
                v(c.online_attendees),
                methods=["GET"],
            ),
            Route(f"{_MGMT}/conferences/history", v(c.history), methods=["GET"]),
            # The control token is a password login: an access token is checked only if sent.
            Route(f"{_CONTROL}/token", v(c.control_token, "optional"), methods=["GET"]),
            Route(f"{_CONTROL}/stop", v(c.stop, "none"), methods=["PUT"]),
        ]

    def _vendor(self, handler: Handler, auth: AuthMode = "required") -> Endpoint:
        async def endpoint(request: Request) -> Response:
            request_id = _request_id(request)
            body = await request.body()
            admission = self.admit(request.method, request.url.path, body)
            if admission.delay_s:
                await asyncio.sleep(admission.delay_s)
            if admission.fault == "fail":
                status = admission.fail_status
                injected = SandboxError(status, "MMC.990000009", f"sandbox fault: HTTP {status}")
                retry = {"Retry-After": "1"} if status == 429 else None
                return _error_response(injected, request_id, retry)
            with self._lock:
                try:
                    now = self.now()
                    token = request.headers.get("x-access-token")
                    user = (
                        self._accounts.authenticate(token, now)
                        if auth == "required" or (auth == "optional" and token)
                        else None
                    )
                    client_ip = request.client.host if request.client else ""
                    call = Call(request.query_params, request.headers, body, now, user, client_ip)
                    response = _json_response(200, handler(call), request_id)
                except SandboxError as exc:
                    response = _error_response(exc, request_id)
            if admission.fault == "timeout":
                await _hold(request, admission.timeout_s)
            return response

        return endpoint

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = "no such API" if status == 404 else "method not allowed"
        return _error_response(SandboxError(status, "MMC.990000006", message), _request_id(request))

    # ------------------------------------------------------------------ control API

    def _control_routes(self) -> list[Route]:
        c, meeting = self._control, "/_sandbox/meetings/{conference_id}"
        return [
            Route("/_sandbox/faults", c(self._c_faults), methods=["POST"]),
            Route("/_sandbox/oddities", c(self._c_oddities), methods=["POST"]),
            Route("/_sandbox/clock", c(self._c_clock), methods=["GET", "POST"]),
            Route("/_sandbox/tokens/expire", c(self._c_expire), methods=["POST"]),
            Route("/_sandbox/meetings", c(lambda _r, _b: self.meetings()), methods=["GET"]),
            Route(f"{meeting}/start", c(self._c_start), methods=["POST"]),
            Route(f"{meeting}/end", c(self._c_end), methods=["POST"]),
            Route(f"{meeting}/participants", c(self._c_join), methods=["POST"]),
            Route(
                f"{meeting}/participants/{{participant_id}}", c(self._c_leave), methods=["DELETE"]
            ),
            Route("/_sandbox/stats", c(lambda _r, _b: self.stats()), methods=["GET"]),
            Route("/_sandbox/reset", c(lambda _r, _b: self.reset()), methods=["POST"]),
        ]

    def _control(self, fn: Callable[[Request, dict[str, Any]], Any]) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            request_id = _request_id(request)
            try:
                out = fn(request, _json_object(await request.body()))
            except (ValueError, TypeError) as exc:
                out = SandboxError(400, "SANDBOX.BAD_REQUEST", str(exc))
            except SandboxError as exc:
                out = exc
            if isinstance(out, SandboxError):
                return _error_response(out, request_id)
            return _json_response(200, {} if out is None else out, request_id)

        return endpoint

    def _c_faults(self, _request: Request, body: dict[str, Any]) -> None:
        self.set_faults(**body)

    def _c_oddities(self, _request: Request, body: dict[str, Any]) -> None:
        self.set_oddities(**body)

    def _c_clock(self, request: Request, body: dict[str, Any]) -> dict[str, float]:
        if request.method == "POST":
            self.advance(float(body.get("advance_seconds", 0)))
        return {"now": self.now()}

    def _c_expire(self, _request: Request, body: dict[str, Any]) -> dict[str, int]:
        return {"expired": self.expire_tokens(body.get("user_id"))}

    def _c_start(self, request: Request, _body: dict[str, Any]) -> dict[str, str]:
        return {"conf_uuid": self.start_meeting(request.path_params["conference_id"])}

    def _c_end(self, request: Request, _body: dict[str, Any]) -> None:
        self.end_meeting(request.path_params["conference_id"])

    def _c_join(self, request: Request, body: dict[str, Any]) -> dict[str, str]:
        name, account_id = body.get("name"), body.get("account_id")
        if not isinstance(name, str) or not isinstance(account_id, str | None):
            raise TypeError("name must be a string and account_id a string or null")
        pid = self.join(request.path_params["conference_id"], name, account_id)
        return {"participant_id": pid}

    def _c_leave(self, request: Request, _body: dict[str, Any]) -> None:
        params = request.path_params
        self.leave(params["conference_id"], params["participant_id"])
