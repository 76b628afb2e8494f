"""The Huawei Cloud Meeting sandbox over real HTTP, driven by hand-built, hand-signed requests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.huawei.signature import SignMode, new_nonce, sign, signed_data
from bot.sandbox import SandboxApp
from tests.fakes.sandbox import RunningSandbox, running_sandbox

APP = SandboxApp("app-one", "key-one")
SP = SandboxApp("sp-app", "sp-key", corp_id="corp-a")
OTHER = SandboxApp("app-two", "key-two")
APPAUTH = "/v2/usg/acs/auth/appauth"
CONFS = "/v1/mmc/management/conferences"
CYCLE = "/v1/mmc/management/cycleconferences"
DETAIL = f"{CONFS}/confDetail"
ONLINE = f"{CONFS}/online"
HISTORY = f"{CONFS}/history"
CTL_TOKEN = "/v1/mmc/control/conferences/token"
STOP = "/v1/mmc/control/conferences/stop"
NOT_FOUND = "MMC.111070005"
NOT_STARTED = "MMC.111072005"
BAD_PARAM = "MMC.990000001"


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(APP, SP, OTHER) as running:
        yield running


@pytest.fixture
def sb(module_sandbox: RunningSandbox) -> RunningSandbox:
    module_sandbox.sandbox.reset()
    return module_sandbox


class Vendor:
    """Raw vendor calls against the sandbox; signatures built with bot.huawei.signature."""

    def __init__(self, sb: RunningSandbox) -> None:
        self.sb = sb
        self.http = httpx.Client(base_url=sb.base_url, timeout=10)

    def now(self) -> float:
        return self.sb.sandbox.now()

    def appauth(
        self,
        app: SandboxApp = APP,
        user: str = "",
        *,
        corp: str | None = None,
        key: str | None = None,
        expire: int | None = None,
        nonce: str | None = None,
        body: dict[str, Any] | None = None,
        upper: bool = False,
        access: bool = True,
    ) -> httpx.Response:
        nonce = nonce or new_nonce()
        expire = int(self.now()) + 600 if expire is None else expire
        mode = (
            SignMode.SINGLE
            if app.corp_id is None
            else SignMode.SP_USER
            if user
            else SignMode.SP_CORP_ADMIN
        )
        # signed_data + HMAC rather than sign(): tests also need out-of-range nonces signed.
        data = signed_data(
            mode,
            app_id=app.app_id,
            expire_time=expire,
            nonce=nonce,
            user_id=user,
            corp_id=corp or "",
        )
        signature = hmac.new(
            (key or app.app_key).encode(), data.encode(), hashlib.sha256
        ).hexdigest()
        header = f"HMAC-SHA256 signature={signature.upper() if upper else signature}"
        if access:
            header += f",access={base64.b64encode(app.app_id.encode()).decode()}"
        payload = {
            "appId": app.app_id,
            "userId": user,
            "corpId": corp,
            "expireTime": expire,
            "nonce": nonce,
            "clientType": 72,
        }
        return self.http.post(
            APPAUTH, json={**payload, **(body or {})}, headers={"Authorization": header}
        )

    def login(self, app: SandboxApp = APP, user: str = "", corp: str | None = None) -> str:
        response = self.appauth(app, user, corp=corp)
        assert response.status_code == 200, response.text
        return str(response.json()["accessToken"])

    def call(self, method: str, path: str, token: str | None, **kw: Any) -> httpx.Response:
        headers = {**kw.pop("headers", {}), **({"X-Access-Token": token} if token else {})}
        return self.http.request(method, path, headers=headers, **kw)

    def create(self, token: str, **body: Any) -> dict[str, Any]:
        body.setdefault("subject", "Standup")
        body.setdefault("mediaTypes", "HDVideo")
        body.setdefault("startTime", self.wire_time(self.now() + 3600))
        response = self.call("POST", CONFS, token, json=body)
        assert response.status_code == 200, response.text
        out = response.json()
        assert isinstance(out, list)
        assert len(out) == 1
        info: dict[str, Any] = out[0]
        return info

    def ok(self, method: str, path: str, token: str | None, **kw: Any) -> Any:
        response = self.call(method, path, token, **kw)
        assert response.status_code == 200, response.text
        return response.json() if response.content else None

    @staticmethod
    def wire_time(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def vendor(sb: RunningSandbox) -> Iterator[Vendor]:
    v = Vendor(sb)
    with v.http:
        yield v


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "error_msg", "request_id"}
    assert body["error_code"] == code
    assert body["error_msg"]
    assert body["request_id"] == response.headers["X-Request-Id"]


def epoch(wire: str) -> float:
    return datetime.strptime(wire, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()


# ---------------------------------------------------------------------------- appauth


def test_appauth_issues_token_and_provisions_a_stable_user(vendor: Vendor) -> None:
    now = vendor.now()
    first = vendor.appauth(APP, "alice")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["tokenType"] == 0
    assert body["clientType"] == 72
    assert body["validPeriod"] == 56326
    assert abs(body["expireTime"] - (now + 56326)) < 5
    assert abs(body["createTime"] - now * 1000) < 5000
    assert body["refreshExpireTime"] > body["expireTime"]
    user = body["user"]
    assert user["thirdAccount"] == "alice"
    assert user["appId"] == APP.app_id
    assert user["adminType"] == 2
    assert user["userType"] == 2
    assert user["ucloginAccount"].startswith("Auto-")
    assert len(user["ucloginAccount"]) == len("Auto-") + 32
    int(user["ucloginAccount"][5:], 16)
    again = vendor.appauth(APP, "alice").json()
    assert again["user"]["userId"] == user["userId"]
    assert again["accessToken"] != body["accessToken"]
    assert vendor.appauth(APP, "bob").json()["user"]["userId"] != user["userId"]


def test_appauth_without_user_is_the_enterprise_owner(vendor: Vendor) -> None:
    user = vendor.appauth(APP, "").json()["user"]
    assert user["adminType"] == 0
    assert user["thirdAccount"] == ""


@pytest.mark.parametrize(
    ("upper", "access"),
    [
        pytest.param(True, True, id="sdk-uppercase-with-access"),
        pytest.param(False, False, id="docs-lowercase-without-access"),
        pytest.param(False, True, id="lowercase-with-access"),
    ],
)
def test_appauth_accepts_both_hex_cases_with_or_without_access(
    vendor: Vendor, upper: bool, access: bool
) -> None:
    assert vendor.appauth(APP, "alice", upper=upper, access=access).status_code == 200


def test_appauth_sp_mode_user_and_corp_admin(vendor: Vendor) -> None:
    user = vendor.appauth(SP, "carol", corp="corp-a")
    assert user.status_code == 200, user.text
    assert user.json()["user"]["companyId"] == "corp-a"
    assert user.json()["user"]["adminType"] == 2
    admin = vendor.appauth(SP, "", corp="corp-a")
    assert admin.status_code == 200, admin.text
    assert admin.json()["user"]["adminType"] == 0


def test_appauth_sp_mode_rejects_the_single_enterprise_formula(vendor: Vendor) -> None:
    nonce, expire = new_nonce(), int(vendor.now()) + 600
    four_slots = sign(
        SignMode.SINGLE,
        app_id=SP.app_id,
        app_key=SP.app_key,
        expire_time=expire,
        nonce=nonce,
        user_id="carol",
    )
    response = vendor.http.post(
        APPAUTH,
        json={
            "appId": SP.app_id,
            "userId": "carol",
            "corpId": "corp-a",
            "expireTime": expire,
            "nonce": nonce,
            "clientType": 72,
        },
        headers={"Authorization": f"HMAC-SHA256 signature={four_slots}"},
    )
    assert_error(response, 401, "USG.990000004")


def test_appauth_accepts_expire_time_zero_as_never_expiring(vendor: Vendor) -> None:
    nonce = new_nonce()
    data = signed_data(SignMode.SINGLE, app_id=APP.app_id, expire_time=0, nonce=nonce, user_id="a")
    signature = hmac.new(APP.app_key.encode(), data.encode(), hashlib.sha256).hexdigest()
    response = vendor.http.post(
        APPAUTH,
        json={
            "appId": APP.app_id,
            "userId": "a",
            "expireTime": 0,
            "nonce": nonce,
            "clientType": 72,
        },
        headers={"Authorization": f"HMAC-SHA256 signature={signature}"},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        pytest.param({"app": SandboxApp("nobody", "key-one")}, 401, "USG.990000003", id="unknown-app"),
        pytest.param({"key": "wrong-key"}, 401, "USG.990000004", id="wrong-key"),
        pytest.param({"body": {"userId": "mallory"}}, 401, "USG.990000004", id="body-user-differs"),
        pytest.param({"body": {"userId": ""}}, 401, "USG.990000004", id="body-user-dropped"),
        pytest.param({"expire_delta": -1}, 401, "USG.990000005", id="expired"),
        pytest.param({"nonce": "n" * 31}, 400, "USG.990000001", id="nonce-too-short"),
        pytest.param({"nonce": "n" * 65}, 400, "USG.990000001", id="nonce-too-long"),
        pytest.param({"corp": "corp-a"}, 401, "USG.990000007", id="corp-to-single-app"),
        pytest.param({"body": {"clientType": None}}, 400, "USG.990000001", id="client-type-missing"),
        pytest.param({"body": {"expireTime": "soon"}}, 400, "USG.990000001", id="expire-not-int"),
    ],
)  # fmt: skip
def test_appauth_rejects(vendor: Vendor, kwargs: dict[str, Any], status: int, code: str) -> None:
    delta = kwargs.pop("expire_delta", None)
    if delta is not None:
        kwargs["expire"] = int(vendor.now()) + delta
    assert_error(vendor.appauth(user="alice", **kwargs), status, code)


def test_appauth_accepts_null_corp_from_single_enterprise_sdk(vendor: Vendor) -> None:
    response = vendor.appauth(APP, "alice", body={"corpId": None, "deptCode": None})
    assert response.status_code == 200, response.text


def test_appauth_rejects_sp_corp_it_does_not_serve(vendor: Vendor) -> None:
    assert_error(vendor.appauth(SP, "carol", corp="corp-b"), 401, "USG.990000007")


def test_appauth_rejects_a_reused_nonce_until_its_signature_expires(vendor: Vendor) -> None:
    nonce = new_nonce()
    expire = int(vendor.now()) + 600
    assert vendor.appauth(user="alice", nonce=nonce, expire=expire).status_code == 200
    assert_error(vendor.appauth(user="bob", nonce=nonce, expire=expire), 401, "USG.990000006")
    assert_error(
        vendor.appauth(user="alice", nonce=nonce, expire=expire + 60), 401, "USG.990000006"
    )


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("Bearer abc", id="other-scheme"),
        pytest.param("HMAC-SHA256 signature=abc", id="not-64-hex"),
        pytest.param("ACCESS", id="access-of-another-app"),
    ],
)
def test_appauth_rejects_malformed_authorization(vendor: Vendor, header: str | None) -> None:
    nonce, expire = new_nonce(), int(vendor.now()) + 600
    signature = sign(
        SignMode.SINGLE,
        app_id=APP.app_id,
        app_key=APP.app_key,
        expire_time=expire,
        nonce=nonce,
        user_id="alice",
    )
    if header == "ACCESS":
        header = f"HMAC-SHA256 signature={signature},access={base64.b64encode(b'app-two').decode()}"
    body = {"appId": APP.app_id, "userId": "alice", "expireTime": expire, "nonce": nonce}
    headers = {"Authorization": header} if header else {}
    response = vendor.http.post(APPAUTH, json={**body, "clientType": 72}, headers=headers)
    assert_error(response, 401, "USG.990000002")


def test_appauth_rejects_a_body_that_is_not_json(vendor: Vendor) -> None:
    response = vendor.http.post(APPAUTH, content=b"appId=x", headers={"Authorization": "x"})
    assert response.status_code == 400
    assert response.json()["error_code"] == "USG.990000001"


# ---------------------------------------------------------------------------- tokens


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_business_calls_need_a_valid_access_token(vendor: Vendor, token: str | None) -> None:
    assert_error(vendor.call("GET", CONFS, token), 401, "USG.000000004")


def test_token_expires_with_the_sandbox_clock(sb: RunningSandbox, vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    vendor.ok("GET", CONFS, token)
    sb.advance(56326 - 5)
    vendor.ok("GET", CONFS, token)
    sb.advance(10)
    assert_error(vendor.call("GET", CONFS, token), 401, "USG.000000004")


def test_expire_tokens_control_hits_only_that_user(sb: RunningSandbox, vendor: Vendor) -> None:
    alice, bob = vendor.login(user="alice"), vendor.login(user="bob")
    sb.expire_tokens("alice")
    assert_error(vendor.call("GET", CONFS, alice), 401, "USG.000000004")
    vendor.ok("GET", CONFS, bob)
    sb.expire_tokens()
    assert_error(vendor.call("GET", CONFS, bob), 401, "USG.000000004")


def test_the_65th_token_of_a_user_invalidates_the_oldest(vendor: Vendor) -> None:
    tokens = [vendor.login(user="alice") for _ in range(65)]
    assert_error(vendor.call("GET", CONFS, tokens[0]), 401, "USG.000000004")
    vendor.ok("GET", CONFS, tokens[1])
    vendor.ok("GET", CONFS, tokens[-1])


# ---------------------------------------------------------------------------- create


def test_create_scheduled_meeting_returns_conference_info(vendor: Vendor) -> None:
    auth = vendor.appauth(user="alice").json()
    token = auth["accessToken"]
    start = vendor.wire_time(vendor.now() + 7200)
    info = vendor.create(token, subject="Planning", startTime=start, length=45)
    assert info["conferenceID"].isdigit()
    assert len(info["conferenceID"]) == 9
    assert info["conferenceState"] == "Schedule"
    assert info["confType"] == "FUTURE"
    assert info["subject"] == "Planning"
    assert info["startTime"] == start
    assert epoch(info["endTime"]) - epoch(start) == 45 * 60
    assert info["userUUID"] == auth["user"]["userId"]
    assert info["mediaTypes"] == "HDVideo"
    assert {p["conferenceRole"] for p in info["passwordEntry"]} == {"chair", "general"}
    assert info["chairJoinUri"].startswith("https://sandbox.meeting.invalid/")
    assert info["guestJoinUri"].startswith("https://sandbox.meeting.invalid/")
    assert info["chairJoinUri"] != info["guestJoinUri"]
    assert "confUUID" not in info


def test_create_without_start_time_is_an_instant_meeting_in_progress(vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    info = vendor.create(token, startTime="")
    assert info["confType"] == "IMMEDIATELY"
    assert info["conferenceState"] == "Created"
    assert len(info["confUUID"]) == 32
    assert info["length"] == 30
    online = vendor.ok("GET", ONLINE, token)
    assert [m["conferenceID"] for m in online["data"]] == [info["conferenceID"]]


def test_conference_ids_are_unique(vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    ids = {vendor.create(token)["conferenceID"] for _ in range(15)}
    assert len(ids) == 15


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"length": 14}, id="length-under-15"),
        pytest.param({"length": 1441}, id="length-over-1440"),
        pytest.param({"length": "30"}, id="length-not-int"),
        pytest.param({"subject": "x" * 129}, id="subject-over-128"),
        pytest.param({"startTime": "2031-01-01T10:00"}, id="start-iso-format"),
        pytest.param({"startTime": "2031-02-30 10:00"}, id="start-not-a-date"),
        pytest.param({"startTime": "PAST"}, id="start-in-the-past"),
        pytest.param({"mediaTypes": None}, id="media-missing"),
        pytest.param({"mediaTypes": "Hologram"}, id="media-unknown"),
        pytest.param({"attendees": [{"accountId": "bob"}]}, id="attendee-without-app-id"),
        pytest.param({"attendees": [{"accountId": "bob", "appId": "app-two"}]}, id="attendee-other-app"),
        pytest.param({"timeZoneID": "99"}, id="time-zone-not-in-vendor-table"),
    ],
)  # fmt: skip
def test_create_rejects_invalid_fields_and_creates_nothing(
    sb: RunningSandbox, vendor: Vendor, body: dict[str, Any]
) -> None:
    token = vendor.login(user="alice")
    payload = {
        "subject": "s",
        "mediaTypes": "HDVideo",
        "startTime": vendor.wire_time(vendor.now() + 3600),
    }
    payload.update(body)
    if payload["startTime"] == "PAST":
        payload["startTime"] = vendor.wire_time(vendor.now() - 600)
    assert_error(vendor.call("POST", CONFS, token, json=payload), 400, BAD_PARAM)
    assert sb.meetings() == []


def test_create_accepts_the_limits(vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    assert vendor.create(token, subject="x" * 128, length=15)["length"] == 15
    assert vendor.create(token, length=1440)["length"] == 1440
    just_past = vendor.wire_time(vendor.now() - 120)
    assert vendor.create(token, startTime=just_past)["startTime"] == just_past


# ---------------------------------------------------------------------------- visibility


def test_other_users_cannot_see_or_cancel_a_meeting(sb: RunningSandbox, vendor: Vendor) -> None:
    alice, bob = vendor.login(user="alice"), vendor.login(user="bob")
    conf = vendor.create(alice)["conferenceID"]
    assert_error(vendor.call("GET", DETAIL, bob, params={"conferenceID": conf}), 400, NOT_FOUND)
    assert vendor.ok("GET", CONFS, bob)["count"] == 0
    cancel = vendor.call("DELETE", CONFS, bob, params={"conferenceID": conf})
    assert_error(cancel, 400, NOT_FOUND)
    assert vendor.ok("GET", DETAIL, alice, params={"conferenceID": conf})["conferenceData"]
    assert [m["state"] for m in sb.meetings()] == ["Schedule"]


def test_invited_attendee_sees_the_meeting_as_guest(vendor: Vendor) -> None:
    alice, carol = vendor.login(user="alice"), vendor.login(user="carol")
    attendees = [{"accountId": "carol", "appId": APP.app_id, "name": "Carol", "role": 0}]
    conf = vendor.create(alice, attendees=attendees)["conferenceID"]
    listed = vendor.ok("GET", CONFS, carol)["data"]
    assert [m["conferenceID"] for m in listed] == [conf]
    detail = vendor.ok("GET", DETAIL, carol, params={"conferenceID": conf})
    assert detail["conferenceData"]["role"] == "general"
    assert [p["conferenceRole"] for p in detail["conferenceData"]["passwordEntry"]] == ["general"]
    assert "chairJoinUri" not in detail["conferenceData"]
    assert detail["data"]["count"] == 1
    assert detail["data"]["data"][0]["accountId"] == "carol"
    cancel = vendor.call("DELETE", CONFS, carol, params={"conferenceID": conf})
    assert_error(cancel, 403, "MMC.990000005")


def test_two_apps_never_see_each_others_meetings(vendor: Vendor) -> None:
    alice = vendor.login(APP, "alice")
    conf = vendor.create(alice)["conferenceID"]
    other_admin = vendor.login(OTHER, "")
    other_alice = vendor.login(OTHER, "alice")
    assert vendor.ok("GET", CONFS, other_admin, params={"queryAll": "true"})["count"] == 0
    for token in (other_admin, other_alice):
        response = vendor.call("GET", DETAIL, token, params={"conferenceID": conf})
        assert_error(response, 400, NOT_FOUND)


def test_admin_with_query_all_sees_every_meeting_of_the_enterprise(vendor: Vendor) -> None:
    alice, bob, admin = (vendor.login(user=u) for u in ("alice", "bob", ""))
    ids = {vendor.create(alice)["conferenceID"], vendor.create(bob)["conferenceID"]}
    assert {
        m["conferenceID"]
        for m in vendor.ok("GET", CONFS, admin, params={"queryAll": "true"})["data"]
    } == ids
    assert vendor.ok("GET", CONFS, admin)["count"] == 0
    assert vendor.ok("GET", CONFS, alice, params={"queryAll": "true"})["count"] == 1
    some = next(iter(ids))
    assert (
        vendor.ok("GET", DETAIL, admin, params={"conferenceID": some})["conferenceData"]["role"]
        == "chair"
    )


def test_sp_corp_admin_sees_its_corp_users_meetings(vendor: Vendor) -> None:
    carol = vendor.login(SP, "carol", corp="corp-a")
    conf = vendor.create(carol)["conferenceID"]
    admin = vendor.login(SP, "", corp="corp-a")
    listed = vendor.ok("GET", CONFS, admin, params={"queryAll": "true"})["data"]
    assert [m["conferenceID"] for m in listed] == [conf]


# ---------------------------------------------------------------------------- list, edit, cancel


def test_list_pages_searches_and_sorts(vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    now = vendor.now()
    created = [
        vendor.create(token, subject=f"Topic {i}", startTime=vendor.wire_time(now + 3600 * (5 - i)))
        for i in range(5)
    ]
    page = vendor.ok("GET", CONFS, token, params={"offset": 1, "limit": 2})
    assert page["count"] == 5
    assert page["offset"] == 1
    assert page["limit"] == 2
    by_start = sorted(created, key=lambda m: m["startTime"])
    assert [m["conferenceID"] for m in page["data"]] == [m["conferenceID"] for m in by_start[1:3]]
    desc = vendor.ok("GET", CONFS, token, params={"sortType": "DSC_StartTIME"})["data"]
    assert [m["conferenceID"] for m in desc] == [m["conferenceID"] for m in reversed(by_start)]
    found = vendor.ok("GET", CONFS, token, params={"searchKey": "topic 3"})["data"]
    assert [m["subject"] for m in found] == ["Topic 3"]
    conf = created[0]["conferenceID"]
    assert (
        vendor.ok("GET", CONFS, token, params={"searchKey": conf})["data"][0]["conferenceID"]
        == conf
    )
    assert vendor.ok("GET", CONFS, token, params={"limit": 500})["count"] == 5
    assert_error(vendor.call("GET", CONFS, token, params={"limit": 501}), 400, BAD_PARAM)
    assert_error(vendor.call("GET", ONLINE, token, params={"limit": 501}), 400, BAD_PARAM)


def test_edit_changes_a_booking_but_not_a_started_meeting(
    sb: RunningSandbox, vendor: Vendor
) -> None:
    token = vendor.login(user="alice")
    conf = vendor.create(token)["conferenceID"]
    new_start = vendor.wire_time(vendor.now() + 86400)
    body = {"subject": "Moved", "startTime": new_start, "length": 60, "mediaTypes": "Voice"}
    edited = vendor.ok("PUT", CONFS, token, params={"conferenceID": conf}, json=body)
    assert (edited[0]["subject"], edited[0]["startTime"], edited[0]["length"]) == (
        "Moved",
        new_start,
        60,
    )
    detail = vendor.ok("GET", DETAIL, token, params={"conferenceID": conf})["conferenceData"]
    assert detail["subject"] == "Moved"
    sb.start(conf)
    response = vendor.call("PUT", CONFS, token, params={"conferenceID": conf}, json=body)
    assert_error(response, 400, "MMC.990000002")


def test_cancel_removes_the_booking(sb: RunningSandbox, vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    conf = vendor.create(token)["conferenceID"]
    assert vendor.call("DELETE", CONFS, token, params={"conferenceID": conf}).status_code == 200
    assert_error(vendor.call("GET", DETAIL, token, params={"conferenceID": conf}), 400, NOT_FOUND)
    assert vendor.ok("GET", CONFS, token)["count"] == 0
    assert_error(vendor.call("DELETE", CONFS, token, params={"conferenceID": conf}), 400, NOT_FOUND)
    [meeting] = sb.meetings()
    assert meeting["cancelled"] is True


def test_cancel_of_a_started_meeting_needs_type_1_which_ends_it(
    sb: RunningSandbox, vendor: Vendor
) -> None:
    token = vendor.login(user="alice")
    conf = vendor.create(token)["conferenceID"]
    sb.start(conf)
    refused = vendor.call("DELETE", CONFS, token, params={"conferenceID": conf})
    assert_error(refused, 400, "MMC.990000002")
    vendor.ok("DELETE", CONFS, token, params={"conferenceID": conf, "type": 1})
    assert vendor.ok("GET", ONLINE, token)["count"] == 0
    history = vendor.ok("GET", HISTORY, token)["data"]
    assert [h["conferenceID"] for h in history] == [conf]


# ---------------------------------------------------------------------------- state machine


def test_unstarted_booking_is_gone_after_its_scheduled_end(
    sb: RunningSandbox, vendor: Vendor
) -> None:
    token = vendor.login(user="alice")
    info = vendor.create(token, startTime=vendor.wire_time(vendor.now() + 600), length=30)
    conf = info["conferenceID"]
    sb.advance(epoch(info["endTime"]) - vendor.now() - 30)
    assert vendor.ok("GET", DETAIL, token, params={"conferenceID": conf})
    sb.advance(60)
    assert_error(vendor.call("GET", DETAIL, token, params={"conferenceID": conf}), 400, NOT_FOUND)
    assert vendor.ok("GET", CONFS, token)["count"] == 0
    assert vendor.ok("GET", HISTORY, token)["count"] == 0
    assert [m["state"] for m in sb.meetings()] == ["Ended"]


def test_join_starts_a_meeting_and_the_clock_ends_it(sb: RunningSandbox, vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    info = vendor.create(token, startTime=vendor.wire_time(vendor.now() + 300), length=30)
    conf = info["conferenceID"]
    assert vendor.ok("GET", ONLINE, token)["count"] == 0
    sb.advance(120)
    joined_at = vendor.now()
    pid = sb.join(conf, "Alice", "alice")
    sb.join(conf, "Guest")
    detail = vendor.ok("GET", DETAIL, token, params={"conferenceID": conf})["conferenceData"]
    assert detail["conferenceState"] == "Created"
    online = vendor.ok("GET", ONLINE, token)["data"]
    assert [(m["conferenceID"], m["onlineAttendeeAmount"]) for m in online] == [(conf, 2)]
    attendees = vendor.ok("GET", f"{ONLINE}/conf-attendee", token, params={"conf_id": conf})
    assert attendees["count"] == 2
    me = next(a for a in attendees["data"] if a["participant_id"] == pid)
    assert (me["name"], me["third_account"], me["role"]) == ("Alice", "alice", 1)
    sb.leave(conf, pid)
    assert vendor.ok("GET", ONLINE, token)["data"][0]["onlineAttendeeAmount"] == 1
    # Joined early: the session lasts `length` from the actual start, then ends by itself.
    sb.advance(30 * 60 - 1)
    assert vendor.ok("GET", ONLINE, token)["count"] == 1
    sb.advance(2)
    assert vendor.ok("GET", ONLINE, token)["count"] == 0
    [record] = vendor.ok("GET", HISTORY, token)["data"]
    assert record["conferenceID"] == conf
    assert record["startTime"] == vendor.wire_time(joined_at)
    assert record["endTime"] == vendor.wire_time(joined_at + 30 * 60)
    assert len(record["confUUID"]) == 32
    # The booking still runs until its scheduled end (start + length), then is gone.
    assert (
        vendor.ok("GET", DETAIL, token, params={"conferenceID": conf})["conferenceData"][
            "conferenceState"
        ]
        == "Schedule"
    )
    sb.advance(epoch(info["endTime"]) - vendor.now() + 1)
    assert_error(vendor.call("GET", DETAIL, token, params={"conferenceID": conf}), 400, NOT_FOUND)
    assert vendor.ok("GET", HISTORY, token)["count"] == 1


def test_each_session_gets_its_own_history_record(sb: RunningSandbox, vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    conf = vendor.create(token, startTime=vendor.wire_time(vendor.now() + 60), length=120)[
        "conferenceID"
    ]
    starts = []
    for _ in range(2):
        starts.append(vendor.now())
        sb.start(conf)
        sb.advance(600)
        sb.end(conf)
        sb.advance(60)
    history = vendor.ok("GET", HISTORY, token, params={"sortType": "ASC_StartTIME"})["data"]
    assert [h["startTime"] for h in history] == [vendor.wire_time(s) for s in starts]
    assert [h["endTime"] for h in history] == [vendor.wire_time(s + 600) for s in starts]
    assert len({h["confUUID"] for h in history}) == 2
    assert all(h["conferenceID"] == conf for h in history)
    [meeting] = sb.meetings()
    assert [s["conf_uuid"] for s in meeting["sessions"]] == [h["confUUID"] for h in history]


def test_history_window_filters_on_actual_start(sb: RunningSandbox, vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    conf = vendor.create(token, startTime="")["conferenceID"]
    started = vendor.now()
    sb.end(conf)
    ms = int(started * 1000)
    inside = {"startDate": ms - 60_000, "endDate": ms + 60_000}
    after = {"startDate": ms + 60_000, "endDate": ms + 120_000}
    assert [h["conferenceID"] for h in vendor.ok("GET", HISTORY, token, params=inside)["data"]] == [
        conf
    ]
    assert vendor.ok("GET", HISTORY, token, params=after)["count"] == 0


def test_online_query_all_for_admin_only(sb: RunningSandbox, vendor: Vendor) -> None:
    alice, bob, admin = (vendor.login(user=u) for u in ("alice", "bob", ""))
    mine = vendor.create(alice, startTime="")["conferenceID"]
    theirs = vendor.create(bob, startTime="")["conferenceID"]
    everyone = vendor.ok("GET", ONLINE, admin, params={"queryAll": "true", "limit": 500})
    assert {m["conferenceID"] for m in everyone["data"]} == {mine, theirs}
    assert [
        m["conferenceID"]
        for m in vendor.ok("GET", ONLINE, alice, params={"queryAll": "true"})["data"]
    ] == [mine]
    bob_history = vendor.ok("GET", HISTORY, bob)
    assert bob_history["count"] == 0


def test_control_rejects_unknown_meeting_and_double_start(
    sb: RunningSandbox, vendor: Vendor
) -> None:
    token = vendor.login(user="alice")
    conf = vendor.create(token)["conferenceID"]
    sb.start(conf)
    with pytest.raises(httpx.HTTPStatusError) as again:
        sb.start(conf)
    assert again.value.response.status_code == 409
    with pytest.raises(httpx.HTTPStatusError) as unknown:
        sb.end("123456789")
    assert unknown.value.response.status_code == 404


# ---------------------------------------------------------------------------- recurring


def recurring_body(**cycle: Any) -> dict[str, Any]:
    zone_id = cycle.pop("zone", "26")
    body = {
        "subject": "Weekly",
        "mediaTypes": "HDVideo",
        "length": 30,
        "startTime": cycle.pop("startTime"),
        "cycleParams": cycle,
    }
    return {**body, "timeZoneID": zone_id} if zone_id else body


def test_weekly_meeting_keeps_local_time_across_dst(vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    year = datetime.fromtimestamp(vendor.now(), UTC).year + 1
    london = ZoneInfo("Europe/London")
    first = datetime(year, 3, 10, 9, 0, tzinfo=london)
    body = recurring_body(
        startTime=vendor.wire_time(first.timestamp()),
        startDate=f"{year}-03-10",
        endDate=f"{year}-04-20",
        cycle="Week",
        interval=1,
        point=[1, 3],
    )
    [info] = vendor.ok("POST", CYCLE, token, json=body)
    assert info["confType"] == "CYCLE"
    local = [datetime.fromtimestamp(epoch(s["startTime"]), london) for s in info["subConfs"]]
    expected_days = [
        date(year, 3, 10) + timedelta(days=i)
        for i in range(42)
        if (date(year, 3, 10) + timedelta(days=i)).isoweekday() in (1, 3)
    ]
    assert [d.date() for d in local] == expected_days
    assert {(d.hour, d.minute) for d in local} == {(9, 0)}
    assert {datetime.fromtimestamp(epoch(s["startTime"]), UTC).hour for s in info["subConfs"]} == {
        8,
        9,
    }
    assert info["cycleSubConfID"] == info["subConfs"][0]["cycleSubConfID"]
    assert len({s["cycleSubConfID"] for s in info["subConfs"]}) == len(expected_days)


def test_daily_meeting_dates_are_local_to_the_zone(vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    year = datetime.fromtimestamp(vendor.now(), UTC).year + 1
    # 23:30 UTC is 07:30 the next day in Beijing: the local startDate is the later day.
    body = recurring_body(
        zone="56",
        startTime=f"{year}-06-01 23:30",
        startDate=f"{year}-06-02",
        endDate=f"{year}-06-04",
        cycle="Day",
        interval=1,
    )
    [info] = vendor.ok("POST", CYCLE, token, json=body)
    assert [s["startTime"] for s in info["subConfs"]] == [
        f"{year}-06-01 23:30",
        f"{year}-06-02 23:30",
        f"{year}-06-03 23:30",
    ]


def test_recurring_meeting_is_capped_at_50_sub_meetings(vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    tomorrow = datetime.fromtimestamp(vendor.now(), UTC).date() + timedelta(days=1)
    body = recurring_body(
        zone="",
        startTime=f"{tomorrow.isoformat()} 10:00",
        startDate=tomorrow.isoformat(),
        endDate=(tomorrow + timedelta(days=300)).isoformat(),
        cycle="Day",
        interval=1,
    )
    [info] = vendor.ok("POST", CYCLE, token, json=body)
    assert len(info["subConfs"]) == 50
    assert info["cycleParams"]["endDate"] == (tomorrow + timedelta(days=49)).isoformat()


def test_monthly_day_31_falls_on_the_month_end(vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    year = datetime.fromtimestamp(vendor.now(), UTC).year + 1
    body = recurring_body(
        zone="",
        startTime=f"{year}-01-31 10:00",
        startDate=f"{year}-01-01",
        endDate=f"{year}-04-30",
        cycle="Month",
        interval=1,
        point=[31],
    )
    [info] = vendor.ok("POST", CYCLE, token, json=body)
    feb_end = (date(year, 3, 1) - timedelta(days=1)).isoformat()
    assert [s["startTime"][:10] for s in info["subConfs"]] == [
        f"{year}-01-31",
        feb_end,
        f"{year}-03-31",
        f"{year}-04-30",
    ]


@pytest.mark.parametrize(
    "cycle",
    [
        pytest.param({"cycle": "Day", "interval": 16}, id="day-interval-16"),
        pytest.param({"cycle": "Week", "interval": 6, "point": [1]}, id="week-interval-6"),
        pytest.param({"cycle": "Month", "interval": 4, "point": [1]}, id="month-interval-4"),
        pytest.param({"cycle": "Week", "interval": 1, "point": [7]}, id="week-point-7"),
        pytest.param({"cycle": "Year", "interval": 1}, id="unknown-cycle"),
        pytest.param({"cycle": ["Day"], "interval": 1}, id="cycle-is-a-list"),
        pytest.param({"cycle": {"Day": 1}, "interval": 1}, id="cycle-is-an-object"),
        pytest.param({"cycle": None, "interval": 1}, id="cycle-is-null"),
        pytest.param({"cycle": "Day", "interval": 1, "endDays": 367}, id="over-a-year"),
        pytest.param({"cycle": "Day", "interval": 1, "startDays": -2}, id="start-before-today"),
    ],
)
def test_recurring_rejects_invalid_cycle(
    sb: RunningSandbox, vendor: Vendor, cycle: dict[str, Any]
) -> None:
    token = vendor.login(user="alice")
    today = datetime.fromtimestamp(vendor.now(), UTC).date()
    start = today + timedelta(days=cycle.pop("startDays", 2))
    end = start + timedelta(days=cycle.pop("endDays", 30))
    body = recurring_body(
        zone="",
        startTime=f"{start.isoformat()} 10:00"
        if start > today
        else vendor.wire_time(vendor.now() + 60),
        startDate=start.isoformat(),
        endDate=end.isoformat(),
        **cycle,
    )
    assert_error(vendor.call("POST", CYCLE, token, json=body), 400, BAD_PARAM)
    assert sb.meetings() == []


def test_delete_recurring_meeting(vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    tomorrow = datetime.fromtimestamp(vendor.now(), UTC).date() + timedelta(days=1)
    body = recurring_body(
        startTime=f"{tomorrow.isoformat()} 10:00",
        startDate=tomorrow.isoformat(),
        endDate=(tomorrow + timedelta(days=3)).isoformat(),
        cycle="Day",
        interval=1,
    )
    conf = vendor.ok("POST", CYCLE, token, json=body)[0]["conferenceID"]
    vendor.ok("DELETE", CYCLE, token, params={"conferenceID": conf})
    assert_error(vendor.call("GET", DETAIL, token, params={"conferenceID": conf}), 400, NOT_FOUND)


# ---------------------------------------------------------------------------- meeting control


def passwords(info: dict[str, Any]) -> dict[str, str]:
    return {p["conferenceRole"]: p["password"] for p in info["passwordEntry"]}


def test_control_token_and_stop(sb: RunningSandbox, vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    info = vendor.create(token)
    conf, pwd = info["conferenceID"], passwords(info)
    host = {"X-Password": pwd["chair"], "X-Login-Type": "1"}
    params = {"conferenceID": conf}
    not_started = vendor.call("GET", CTL_TOKEN, token, params=params, headers=host)
    assert_error(not_started, 400, NOT_STARTED)
    sb.start(conf)
    wrong = {"X-Password": "000000" if pwd["chair"] != "000000" else "111111", "X-Login-Type": "1"}
    assert_error(
        vendor.call("GET", CTL_TOKEN, token, params=params, headers=wrong), 401, "MMC.990000004"
    )
    grant = vendor.ok("GET", CTL_TOKEN, token, params=params, headers=host)["data"]
    assert grant["role"] == 1
    assert grant["expireTime"] > vendor.now() * 1000
    guest = vendor.ok(
        "GET",
        CTL_TOKEN,
        token,
        params=params,
        headers={"X-Password": pwd["general"], "X-Login-Type": "1"},
    )
    assert guest["data"]["role"] == 0
    denied = vendor.call(
        "PUT",
        STOP,
        token,
        params=params,
        headers={"X-Conference-Authorization": guest["data"]["token"]},
    )
    assert_error(denied, 403, "MMC.990000005")
    forged = vendor.call(
        "PUT", STOP, token, params=params, headers={"X-Conference-Authorization": "forged"}
    )
    assert_error(forged, 401, "MMC.990000003")
    ctl = {"X-Conference-Authorization": grant["token"]}
    assert vendor.call("PUT", STOP, token, params=params, headers=ctl).status_code == 200
    assert vendor.ok("GET", ONLINE, token)["count"] == 0
    assert vendor.ok("GET", HISTORY, token)["count"] == 1
    assert_error(vendor.call("PUT", STOP, token, params=params, headers=ctl), 400, NOT_STARTED)


# ---------------------------------------------------------------------------- faults, stats


def test_fail_next_answers_without_processing(sb: RunningSandbox, vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    sb.faults(fail_next=2, path_prefix=CONFS, method="POST")
    body = {"subject": "s", "mediaTypes": "HDVideo"}
    for _ in range(2):
        response = vendor.call("POST", CONFS, token, json=body)
        assert_error(response, 503, "MMC.990000009")
        assert vendor.ok("GET", CONFS, token)["count"] == 0
    assert sb.meetings() == []
    assert vendor.call("POST", CONFS, token, json=body).status_code == 200
    assert len(sb.meetings()) == 1


def test_fail_with_429_sends_retry_after(sb: RunningSandbox, vendor: Vendor) -> None:
    sb.faults(fail_next=1, fail_status=429)
    response = vendor.appauth(user="alice")
    assert_error(response, 429, "MMC.990000009")
    assert response.headers["Retry-After"] == "1"
    assert sb.stats()["appauth_calls"] == 1
    assert vendor.appauth(user="alice").status_code == 200


def test_timeout_next_processes_then_holds_the_answer(sb: RunningSandbox, vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    sb.faults(timeout_next=1, timeout_seconds=2, path_prefix=CONFS)
    with pytest.raises(httpx.ReadTimeout):
        vendor.call(
            "POST", CONFS, token, json={"subject": "held", "mediaTypes": "Voice"}, timeout=0.3
        )
    assert [m["subject"] for m in sb.meetings()] == ["held"]
    assert vendor.ok("GET", CONFS, token)["count"] == 1
    # A patient client gets the (already processed) answer after the hold.
    sb.faults(timeout_next=1, timeout_seconds=0.5, path_prefix=CONFS)
    began = time.perf_counter()
    assert vendor.ok("GET", CONFS, token)["count"] == 1
    assert time.perf_counter() - began >= 0.5


def test_latency_delays_vendor_calls_but_not_control(sb: RunningSandbox, vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    sb.faults(latency_ms=300)
    began = time.perf_counter()
    vendor.ok("GET", CONFS, token)
    assert time.perf_counter() - began >= 0.3  # a lower bound: load only adds to it
    # A latency far beyond what our clients wait (10 s): a delayed call would time out.
    sb.faults(latency_ms=600_000)
    sb.stats()  # control is never delayed
    sb.faults()
    vendor.ok("GET", CONFS, token)  # and clearing the faults clears the latency


def oddities(sb: RunningSandbox, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{sb.base_url}/_sandbox/oddities", json=body)


def test_oddities_make_every_answer_of_a_meeting_odd(sb: RunningSandbox, vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    odd, plain = vendor.create(token), vendor.create(token)
    sb.join(odd["conferenceID"], "Guest")
    sb.join(plain["conferenceID"], "Guest")
    body = {
        "fields": {
            odd["conferenceID"]: {"conferenceState": "Paused", "passwordEntry": None, "x": [1]}
        },
        "drop": {"*": ["subject"]},
        "extra": {"online": [{"subject": "no ID"}]},
    }
    assert oddities(sb, body).status_code == 200
    detail = vendor.ok("GET", DETAIL, token, params={"conferenceID": odd["conferenceID"]})
    online = vendor.ok("GET", ONLINE, token)
    upcoming = vendor.ok("GET", CONFS, token)
    for info in (detail["conferenceData"], online["data"][0], upcoming["data"][0]):
        assert info["conferenceID"] == odd["conferenceID"]
        assert (info["conferenceState"], info["passwordEntry"], info["x"]) == ("Paused", None, [1])
        assert "subject" not in info
    assert online["count"] == 3  # the two meetings and the extra item, counted and paged
    assert online["data"][1]["conferenceState"] == "Created"
    assert online["data"][2] == {"subject": "no ID"}
    assert upcoming["count"] == 2  # extra items join only the lists they name
    assert [m["state"] for m in sb.meetings()] == ["Created", "Created"]  # the truth is unchanged
    second_page = vendor.ok("GET", ONLINE, token, params={"offset": 2, "limit": 2})
    assert second_page["data"] == [{"subject": "no ID"}]
    assert oddities(sb, {}).status_code == 200  # {} clears them
    assert vendor.ok("GET", ONLINE, token)["data"][0]["conferenceState"] == "Created"


def test_oddities_apply_to_a_new_meeting_with_the_wildcard(
    sb: RunningSandbox, vendor: Vendor
) -> None:
    token = vendor.login(user="alice")
    sb.sandbox.set_oddities(fields={"*": {"startTime": "soon"}}, drop={"*": ["guestJoinUri"]})
    info = vendor.create(token)
    assert info["startTime"] == "soon"
    assert "guestJoinUri" not in info
    sb.sandbox.reset()  # reset forgets oddities too
    assert "guestJoinUri" in vendor.create(vendor.login(user="alice"))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"fields": []}, id="fields-not-an-object"),
        pytest.param({"fields": {"1": "Paused"}}, id="fields-of-a-meeting-not-an-object"),
        pytest.param({"drop": {"1": "subject"}}, id="drop-not-a-list"),
        pytest.param({"drop": {"1": [3]}}, id="drop-names-not-text"),
        pytest.param({"extra": {"everything": []}}, id="extra-for-an-unknown-list"),
        pytest.param({"extra": {"online": ["item"]}}, id="extra-item-not-an-object"),
        pytest.param({"chaos": True}, id="unknown-setting"),
    ],
)
def test_oddities_reject_a_malformed_configuration(
    sb: RunningSandbox, vendor: Vendor, body: dict[str, Any]
) -> None:
    sb.sandbox.set_oddities(fields={"*": {"subject": "kept"}})
    assert_error(oddities(sb, body), 400, "SANDBOX.BAD_REQUEST")
    token = vendor.login(user="alice")
    assert vendor.create(token)["subject"] == "kept"  # a refused configuration changes nothing


def test_stats_count_appauth_per_user_and_requests(sb: RunningSandbox, vendor: Vendor) -> None:
    alice = vendor.login(user="alice")
    vendor.login(user="alice")
    vendor.login(user="")
    vendor.ok("GET", CONFS, alice)
    stats = sb.stats()
    assert stats["appauth_calls"] == 3
    assert stats["appauth_by_user"] == {"alice": 2, "": 1}
    assert stats["requests"] == {f"POST {APPAUTH}": 3, f"GET {CONFS}": 1}


def test_reset_forgets_everything(sb: RunningSandbox, vendor: Vendor) -> None:
    token = vendor.login(user="alice")
    vendor.create(token)
    sb.faults(fail_next=5)
    response = httpx.post(f"{sb.base_url}/_sandbox/reset")
    assert response.status_code == 200
    assert sb.meetings() == []
    assert sb.stats() == {"appauth_calls": 0, "appauth_by_user": {}, "requests": {}}
    assert_error(vendor.call("GET", CONFS, token), 401, "USG.000000004")


def test_errors_echo_the_callers_request_id(vendor: Vendor) -> None:
    response = vendor.call("GET", CONFS, None, headers={"X-Request-ID": "trace-123"})
    assert response.headers["X-Request-Id"] == "trace-123"
    assert response.json()["request_id"] == "trace-123"


def test_unknown_api_answers_with_a_vendor_error(vendor: Vendor) -> None:
    assert_error(vendor.call("GET", "/v1/mmc/management/nothing", None), 404, "MMC.990000006")


def test_clock_control(sb: RunningSandbox) -> None:
    before = httpx.get(f"{sb.base_url}/_sandbox/clock").json()["now"]
    sb.advance(3600)
    after = httpx.get(f"{sb.base_url}/_sandbox/clock").json()["now"]
    assert 3600 <= after - before < 3660
    assert (
        httpx.post(f"{sb.base_url}/_sandbox/clock", json={"advance_seconds": -1}).status_code == 400
    )
