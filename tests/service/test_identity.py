"""Who a Slack user is at the meeting service, as tables: the third-party ID in each mapping
mode, and the time zone their times are read in."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.service import NotMapped, NotMappedReason, Profile, third_party_id, user_zone
from tests.service.rows import profile


@pytest.mark.parametrize(
    ("mode", "person", "explicit", "expected"),
    [
        pytest.param(
            "email",
            profile(email="Alice@Example.com"),
            None,
            "alice@example.com",
            id="email-mode-uses-the-profile-email-lowercased",
        ),
        pytest.param(
            "email",
            profile(email=None),
            None,
            NotMapped(NotMappedReason.NO_EMAIL),
            id="email-mode-without-a-visible-email-is-not-mapped",
        ),
        pytest.param(
            "email",
            profile(email="alice@example.com"),
            "alice.w",
            "alice.w",
            id="an-admins-explicit-map-wins-over-the-email",
        ),
        pytest.param(
            "slack",
            profile(email="alice@example.com"),
            None,
            "T1-UALICE",
            id="slack-mode-uses-workspace-and-user-id",
        ),
        pytest.param(
            "slack", profile(), "alice.w", "alice.w", id="an-explicit-map-wins-in-slack-mode"
        ),
        pytest.param(
            "explicit",
            profile(email="alice@example.com"),
            None,
            NotMapped(NotMappedReason.EXPLICIT),
            id="explicit-mode-without-a-map-is-not-mapped-even-with-an-email",
        ),
        pytest.param(
            "explicit", profile(), "alice.w", "alice.w", id="explicit-mode-uses-the-admins-map"
        ),
        pytest.param(
            "explicit",
            profile(email="alice@example.com"),
            "",
            NotMapped(NotMappedReason.EXPLICIT),
            id="an-empty-map-is-no-map",
        ),
        pytest.param(
            "unknown-mode",
            profile(email="alice@example.com"),
            None,
            NotMapped(NotMappedReason.EXPLICIT),
            id="an-unknown-mode-maps-nobody-implicitly",
        ),
    ],
)
def test_third_party_id(
    mode: str, person: Profile, explicit: str | None, expected: str | NotMapped
) -> None:
    assert third_party_id(mode=mode, team_id="T1", profile=person, explicit=explicit) == expected


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        pytest.param("Asia/Shanghai", "Asia/Shanghai", id="times-are-read-in-the-users-zone"),
        pytest.param("America/New_York", "America/New_York", id="any-iana-zone"),
        pytest.param(None, "UTC", id="no-zone-on-the-profile-means-utc"),
        pytest.param("", "UTC", id="an-empty-zone-means-utc"),
        pytest.param("Mars/Olympus_Mons", "UTC", id="an-unknown-zone-means-utc"),
        pytest.param("../../etc/passwd", "UTC", id="a-path-is-not-a-zone"),
    ],
)
def test_user_zone(tz: str | None, expected: str) -> None:
    assert user_zone(profile(tz=tz)) == ZoneInfo(expected)
