"""Parsing the vendor's answers (bot.huawei.answers) and building its request bodies (bot.huawei.models)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from bot.huawei.answers import (
    AccessToken,
    Conference,
    ConferenceDetail,
    ConferenceState,
    ConfType,
    OnlineAttendee,
    read_conference_items,
)
from bot.huawei.errors import (
    AuthError,
    InvalidRequest,
    MeetingNotRunning,
    MeetingServiceError,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unavailable,
    error_from_response,
)
from bot.huawei.models import (
    AppAuthBody,
    AppCredentials,
    Attendee,
    AttendeeRole,
    Cycle,
    MeetingSpec,
    Recurrence,
    ScheduleBody,
)
from bot.huawei.signature import SignMode

# Shaped like the reference's examples (§3.1.2, §4.3, §4.4, §4.5, §9).
TOKEN_JSON: dict[str, Any] = {
    "accessToken": "stbX5ElstO5QwOwPB9KGQWUZ1DHoFrTsQjjC",
    "tokenIp": "127.0.0.1",
    "validPeriod": 56326,
    "expireTime": 1_700_056_326,
    "createTime": 1_700_000_000_000,
    "refreshToken": "refresh-secret",
    "tokenType": 0,
    "clientType": 72,
    "user": {
        "userId": "ff80808167ef1edf0167f339533d05a6",
        "ucloginAccount": "Auto-0123456789abcdef",
        "thirdAccount": "U012ABC",
        "companyId": "corp1",
        "adminType": 2,
        "userType": 2,
    },
}
CONFERENCE_JSON: dict[str, Any] = {
    "conferenceID": "914083136",
    "subject": "Standup",
    "size": 1,
    "timeZoneID": "56",
    "startTime": "2030-01-01 02:00",
    "endTime": "2030-01-01 02:30",
    "mediaTypes": "HDVideo",
    "conferenceState": "Schedule",
    "confType": "FUTURE",
    "conferenceType": 0,
    "chairJoinUri": "https://meeting.example/j/914083136/chair",
    "guestJoinUri": "https://meeting.example/j/914083136/guest",
    "passwordEntry": [
        {"conferenceRole": "chair", "password": "654321"},
        {"conferenceRole": "general", "password": "123456"},
    ],
    "userUUID": "ff80808167ef1edf0167f339533d05a6",
    "scheduserName": "Alice",
    "someFutureField": {"ignored": True},
}
CYCLE_JSON: dict[str, Any] = {
    **CONFERENCE_JSON,
    "confType": "CYCLE",
    "conferenceType": 2,
    "cycleParams": {
        "startDate": "2030-01-01",
        "endDate": "2030-01-03",
        "cycle": "Day",
        "interval": 1,
        "point": [],
    },
    "cycleSubConfID": "sub-1",
    "subConfs": [
        {
            "cycleSubConfID": f"sub-{i}",
            "startTime": f"2030-01-0{i} 02:00",
            "endTime": f"2030-01-0{i} 02:30",
        }
        for i in (1, 2, 3)
    ],
}


def test_conference_parses_wire_names_times_and_passwords() -> None:
    conf = Conference.model_validate(CONFERENCE_JSON)
    assert conf.conference_id == "914083136"
    assert conf.state is ConferenceState.SCHEDULE
    assert conf.conf_type is ConfType.FUTURE
    assert conf.start == datetime(2030, 1, 1, 2, 0, tzinfo=UTC)
    assert conf.end == datetime(2030, 1, 1, 2, 30, tzinfo=UTC)
    assert conf.length_minutes == 30  # derived: ConferenceInfo has no `length`
    assert (conf.host_password, conf.guest_password) == ("654321", "123456")
    assert conf.guest_join_uri == "https://meeting.example/j/914083136/guest"
    assert not conf.is_recurring
    # Passwords and the host link stay out of repr (logs).
    assert "654321" not in repr(conf)
    assert "chair" not in repr(conf)


def test_guest_view_has_no_host_password() -> None:
    guest_view = {**CONFERENCE_JSON, "passwordEntry": [CONFERENCE_JSON["passwordEntry"][1]]}
    conf = Conference.model_validate(guest_view)
    assert conf.host_password is None
    assert conf.guest_password == "123456"


def test_recurring_conference_lists_its_occurrences() -> None:
    conf = Conference.model_validate(CYCLE_JSON)
    assert conf.is_recurring
    assert [s.cycle_sub_conf_id for s in conf.sub_confs] == ["sub-1", "sub-2", "sub-3"]
    assert conf.sub_confs[2].start == datetime(2030, 1, 3, 2, 0, tzinfo=UTC)
    assert conf.recurrence is not None
    assert conf.recurrence.end_date == date(2030, 1, 3)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("confType", "CYCLE", id="conf-type"),
        pytest.param("conferenceType", 2, id="conference-type"),
    ],
)
def test_either_recurrence_marker_makes_a_meeting_recurring(field: str, value: object) -> None:
    plain = {k: v for k, v in CONFERENCE_JSON.items() if k not in ("confType", "conferenceType")}
    assert Conference.model_validate({**plain, field: value}).is_recurring


def test_history_record_length_is_taken_from_the_wire_when_given() -> None:
    record = {**CONFERENCE_JSON, "conferenceState": "Destroyed", "length": 7, "confUUID": "u1"}
    conf = Conference.model_validate(record)
    assert (conf.state, conf.length_minutes, conf.conf_uuid) == (ConferenceState.DESTROYED, 7, "u1")


HOST_LINK = CONFERENCE_JSON["chairJoinUri"]
SECRETS = ("654321", "123456", HOST_LINK)


def _odd(**changes: Any) -> dict[str, Any]:
    """CONFERENCE_JSON with `changes` (a value of `...` leaves the field out)."""
    item = {**CONFERENCE_JSON, **changes}
    return {k: v for k, v in item.items() if v is not ...}


@pytest.mark.parametrize(
    ("item", "check", "logged"),
    [
        pytest.param(
            _odd(conferenceState="Paused"),
            lambda c: c.state is ConferenceState.UNKNOWN and c.start is not None,
            "conferenceState='Paused'",
            id="unknown-conference-state-reads-as-unknown",
        ),
        pytest.param(
            _odd(confType="WEBINAR"),
            lambda c: c.conf_type is ConfType.UNKNOWN and c.state is ConferenceState.SCHEDULE,
            "confType='WEBINAR'",
            id="unknown-conf-type-reads-as-unknown",
        ),
        pytest.param(
            _odd(conferenceState=3),
            lambda c: c.state is ConferenceState.UNKNOWN,
            "conferenceState=int",
            id="a-state-that-is-not-text-reads-as-unknown",
        ),
        pytest.param(
            _odd(passwordEntry=[{"conferenceRole": "chair", "password": None}]),
            lambda c: c.host_password is None and c.guest_password is None,
            None,
            id="null-password-in-password-entry-is-no-password",
        ),
        pytest.param(
            {"conferenceID": "914083136"},
            lambda c: (c.state, c.start, c.subject, c.guest_join_uri) == (None, None, "", None),
            None,
            id="every-optional-field-missing",
        ),
        pytest.param(
            _odd(subject=None, subConfs=None, cycleParams={"point": None}, length=None),
            lambda c: (c.subject, c.sub_confs, c.length_minutes) == ("", (), 30),
            None,
            id="null-optional-fields-take-their-defaults",
        ),
        pytest.param(
            _odd(webinarInfo={"new": [1, 2]}, aiSummary="on"),
            lambda c: c == Conference.model_validate(CONFERENCE_JSON),
            None,
            id="extra-unknown-fields-are-ignored",
        ),
        pytest.param(
            _odd(conferenceID=914083136),
            lambda c: c.conference_id == "914083136",
            None,
            id="a-numeric-conference-id-is-read-as-text",
        ),
        pytest.param(
            _odd(startTime="tomorrow-ish", onlineAttendeeAmount="many"),
            lambda c: c.start is None and c.online_attendee_amount is None and c.end is not None,
            "without unreadable onlineAttendeeAmount, startTime",
            id="unreadable-fields-are-left-out-the-rest-kept",
        ),
        pytest.param(
            _odd(guestJoinUri="javascript:alert(1)", chairJoinUri="http://plain.example/j"),
            lambda c: (c.guest_join_uri, c.chair_join_uri) == (None, None),
            "without unreadable chairJoinUri, guestJoinUri",
            id="join-links-that-are-not-https-are-never-kept",
        ),
        pytest.param(
            _odd(subConfs=[{"startTime": "2030-01-01 02:00"}]),
            lambda c: c.sub_confs[0].cycle_sub_conf_id is None,
            None,
            id="an-occurrence-without-its-id-is-kept",
        ),
    ],
)
def test_odd_list_item_is_kept_with_what_is_readable(
    item: dict[str, Any], check: Any, logged: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.huawei")
    other = _odd(conferenceID="914083137")
    conferences = read_conference_items([item, other], source="online")
    assert [c.conference_id for c in conferences] == ["914083136", "914083137"]
    assert check(conferences[0])
    if logged is None:
        assert not caplog.records
    else:
        assert len(caplog.records) == 1  # one line for the odd item, none for the good one
        assert logged in caplog.text
        assert "'914083136'" in caplog.text
    assert not any(secret in caplog.text for secret in SECRETS)


@pytest.mark.parametrize(
    ("item", "named"),
    [
        pytest.param(
            _odd(conferenceID=...), "conference (none): unreadable conferenceID", id="no-id"
        ),
        pytest.param(_odd(conferenceID=None), "unreadable conferenceID", id="null-id"),
        pytest.param(
            _odd(conferenceID=""), "conference '': unreadable conferenceID", id="empty-id"
        ),
        pytest.param(
            _odd(conferenceID="91408 3136\n"), "conference '91408 3136\\n'", id="id-with-spaces"
        ),
        pytest.param(_odd(conferenceID=["9"]), "conference (none)", id="id-not-text"),
        pytest.param("914083136", "not an object", id="item-not-an-object"),
    ],
)
def test_list_item_without_a_usable_conference_id_is_skipped(
    item: object, named: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.huawei")
    conferences = read_conference_items([item, _odd(conferenceID="1")], source="history")
    assert [c.conference_id for c in conferences] == ["1"]
    assert len(caplog.records) == 1
    assert caplog.records[0].levelno == logging.WARNING
    assert "history list: skipped" in caplog.text
    assert named in caplog.text
    assert not any(secret in caplog.text for secret in SECRETS)


@pytest.mark.parametrize(
    "item",
    [
        pytest.param(_odd(conferenceID=...), id="no-conference-id"),
        pytest.param(_odd(startTime="2030-13-01 02:00"), id="impossible-start"),
        pytest.param(_odd(endTime=1_893_463_200), id="end-as-a-number"),
        pytest.param(_odd(guestJoinUri="javascript:alert(1)"), id="guest-link-not-https"),
        pytest.param(_odd(chairJoinUri="https://"), id="host-link-without-a-host"),
        pytest.param(_odd(guestJoinUri="https://x.example/" + "a" * 3000), id="link-too-long"),
        pytest.param(_odd(passwordEntry="654321"), id="password-entry-not-a-list"),
    ],
)
def test_a_single_meeting_answer_is_strict_about_what_meetbot_acts_on(
    item: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError):
        Conference.model_validate(item)


def test_a_single_meeting_answer_still_reads_unknown_values_and_null_passwords() -> None:
    item = _odd(
        conferenceState="Locked",
        confType="WEBINAR",
        passwordEntry=[{"conferenceRole": "chair", "password": None}, {"password": "1"}],
        sizeV2=4,
    )
    conf = Conference.model_validate(item)
    assert (conf.state, conf.conf_type) == (ConferenceState.UNKNOWN, ConfType.UNKNOWN)
    assert (conf.host_password, conf.guest_password) == (None, None)


def test_conference_detail_unwraps_the_participant_page() -> None:
    detail = ConferenceDetail.model_validate(
        {
            "conferenceData": CONFERENCE_JSON,
            "data": {
                "offset": 0,
                "limit": 20,
                "count": 1,
                "data": [
                    {
                        "participantID": 1,
                        "name": "Bob",
                        "role": 0,
                        "state": "MEETTING",
                        "accountId": "U034DEF",
                        "appId": "app",
                    }
                ],
            },
        }
    )
    assert detail.conference.subject == "Standup"
    assert [(p.participant_id, p.account_id) for p in detail.participants] == [("1", "U034DEF")]


def test_online_attendee_keeps_snake_case_wire_names() -> None:
    row = {
        "participant_id": 7,
        "name": "Bob",
        "role": 1,
        "third_account": "U034DEF",
        "call_number": "",
    }
    attendee = OnlineAttendee.model_validate(row)
    assert (attendee.participant_id, attendee.third_account, attendee.role) == ("7", "U034DEF", 1)


def test_access_token_hides_the_token_and_reads_the_user() -> None:
    token = AccessToken.model_validate(TOKEN_JSON)
    assert token.access_token.get_secret_value() == TOKEN_JSON["accessToken"]
    assert TOKEN_JSON["accessToken"] not in repr(token)
    assert TOKEN_JSON["accessToken"] not in str(token)
    assert token.user.uuid == "ff80808167ef1edf0167f339533d05a6"
    assert (token.user.third_account, token.user.admin_type) == ("U012ABC", 2)


@pytest.mark.parametrize(
    ("fields", "usable"),
    [
        # A 10 h life: renewed 300 s (the 5 min cap) before the end.
        pytest.param({"expireTime": 1_700_036_000}, 36000 - 300, id="lifetime-minus-5-min"),
        # The example's 56326 s token is still renewed 12 h after issue (the SDK's rule).
        pytest.param({}, 43200 - 300, id="capped-at-12h"),
        # A short life: 10 % margin.
        pytest.param({"expireTime": 1_700_000_100, "validPeriod": 100}, 90, id="short-10pct"),
        # No expireTime/createTime: validPeriod alone.
        pytest.param(
            {"expireTime": None, "createTime": None, "validPeriod": 1000}, 900, id="valid-period"
        ),
    ],
)
def test_token_refresh_point(fields: dict[str, Any], usable: float) -> None:
    token = AccessToken.model_validate({**TOKEN_JSON, **fields})
    assert token.usable_for() == pytest.approx(usable)


def test_schedule_body_is_the_exact_wire_body() -> None:
    spec = MeetingSpec(
        subject="Standup",
        start=datetime(2030, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=8))),
        length_minutes=45,
        attendees=(Attendee(account_id="U034DEF", name="Bob"),),
    )
    assert ScheduleBody.from_spec(spec, app_id="app1").wire() == {
        "subject": "Standup",
        "startTime": "2030-01-01 02:00",  # UTC
        "length": 45,
        "mediaTypes": "HDVideo",
        "attendees": [{"accountId": "U034DEF", "appId": "app1", "name": "Bob", "role": 0}],
        "confConfigInfo": {"isSendNotify": False, "isSendSms": False, "isSendCalendar": False},
    }


def test_instant_recurring_and_notifying_bodies() -> None:
    instant = ScheduleBody.from_spec(MeetingSpec(subject="Now"), app_id="a").wire()
    assert "startTime" not in instant
    assert "attendees" not in instant
    recurring = MeetingSpec(
        subject="Weekly",
        start=datetime(2030, 1, 7, 1, 0, tzinfo=UTC),
        recurrence=Recurrence(
            cycle=Cycle.WEEK,
            interval=1,
            points=(1, 3),
            start_date=date(2030, 1, 7),
            end_date=date(2030, 2, 7),
            time_zone_id="56",
        ),
        attendees=(Attendee(account_id="U1", name="Host", role=AttendeeRole.HOST),),
        vendor_notifications=True,
        language="en-US",
    )
    body = ScheduleBody.from_spec(recurring, app_id="a").wire()
    assert body["cycleParams"] == {
        "startDate": "2030-01-07",
        "endDate": "2030-02-07",
        "cycle": "Week",
        "interval": 1,
        "point": [1, 3],
    }
    assert (body["timeZoneID"], body["language"]) == ("56", "en-US")
    assert body["attendees"][0]["role"] == 1
    assert body["confConfigInfo"] == {
        "isSendNotify": True,
        "isSendSms": True,
        "isSendCalendar": True,
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"start": datetime(2030, 1, 1, 10, 0)}, id="naive-start"),  # noqa: DTZ001
        pytest.param(
            {
                "recurrence": Recurrence(
                    cycle=Cycle.DAY,
                    start_date=date(2030, 1, 1),
                    end_date=date(2030, 1, 2),
                    time_zone_id="56",
                )
            },
            id="recurring-without-start",
        ),
    ],
)
def test_meeting_spec_rejects(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        MeetingSpec(subject="x", **kwargs)


@pytest.mark.parametrize(
    ("corp_id", "user_id", "mode", "body"),
    [
        pytest.param(None, "U1", SignMode.SINGLE, {"userId": "U1"}, id="single-user"),
        pytest.param(None, None, SignMode.SINGLE, {"userId": ""}, id="single-owner"),
        pytest.param("c1", "U1", SignMode.SP_USER, {"userId": "U1", "corpId": "c1"}, id="sp-user"),
        pytest.param(
            "c1", "", SignMode.SP_CORP_ADMIN, {"userId": "", "corpId": "c1"}, id="sp-admin"
        ),
    ],
)
def test_appauth_mode_and_body(
    corp_id: str | None, user_id: str | None, mode: SignMode, body: dict[str, str]
) -> None:
    app = AppCredentials(app_id="app1", app_key="k" * 32, corp_id=corp_id)
    assert app.sign_mode(user_id) is mode
    wire = AppAuthBody(
        app_id="app1", expire_time=1, nonce="n" * 32, user_id=user_id or "", corp_id=corp_id
    ).wire()
    assert wire == {"appId": "app1", "clientType": 72, "expireTime": 1, "nonce": "n" * 32, **body}


def test_credentials_repr_hides_the_key() -> None:
    app = AppCredentials(app_id="app1", app_key="super-secret-app-key")
    assert "super-secret-app-key" not in repr(app)
    assert "super-secret-app-key" not in str(app)


ERRORS = [
    pytest.param(
        400, {"error_code": "MMC.111070005", "error_msg": "gone"}, NotFound, id="not-found"
    ),
    pytest.param(
        400, {"error_code": "MMC.111072005", "error_msg": "x"}, MeetingNotRunning, id="not-running"
    ),
    pytest.param(
        400, {"errorCode": "MMC.1", "errorMsg": "bad length"}, InvalidRequest, id="camel-case"
    ),
    pytest.param(400, {"error": {"code": "X.1", "message": "nested"}}, InvalidRequest, id="nested"),
    pytest.param(401, {"error_code": "USG.000000004", "error_msg": "x"}, AuthError, id="token"),
    pytest.param(403, {"error_code": "MMC.2", "error_msg": "x"}, PermissionDenied, id="forbidden"),
    pytest.param(429, {"error_code": "X", "error_msg": "slow down"}, RateLimited, id="throttled"),
    pytest.param(503, None, Unavailable, id="unavailable-no-body"),
    pytest.param(
        404, {"error_code": "X.404", "error_msg": "no API"}, MeetingServiceError, id="wrong-url"
    ),
]


@pytest.mark.parametrize(("status", "body", "kind"), ERRORS)
def test_vendor_errors_become_typed(
    status: int, body: dict[str, Any] | None, kind: type[MeetingServiceError]
) -> None:
    import json

    content = json.dumps(body).encode() if body else b"<html>busy</html>"
    error = error_from_response(
        status, content, {"x-request-id": "req-1", "retry-after": "2"}, now=0.0
    )
    assert type(error) is kind
    assert (error.status_code, error.request_id) == (status, "req-1")
    assert error.user_message
    if body is None:
        assert error.error_code == str(status)
    if isinstance(error, RateLimited):
        assert error.retry_after == 2.0


def test_nested_error_code_is_found() -> None:
    error = error_from_response(
        400, b'{"error": {"code": "X.1", "message": "nested"}}', {}, now=0.0
    )
    assert (error.error_code, error.message) == ("X.1", "nested")
    assert str(error) == "nested (error_code=X.1, status=400)"


def test_any_refusal_during_appauth_asks_the_admin_to_check_the_app() -> None:
    error = error_from_response(
        400, b'{"error_code": "USG.1", "error_msg": "bad"}', {}, now=0.0, during_auth=True
    )
    assert isinstance(error, AuthError)
    assert "app ID" in error.user_message
