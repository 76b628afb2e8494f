"""`/meet admin …`: setup, map, unmap, mappings, mapping, reminders, channel, check.

Pure; a part of the /meet grammar (bot/commands/).
"""

from __future__ import annotations

import re
from typing import Final

from bot.commands.model import (
    AdminChannel,
    AdminCheck,
    AdminMap,
    AdminMappingMode,
    AdminMappings,
    AdminReminders,
    AdminSetup,
    AdminUnmap,
    Command,
    fail,
)
from bot.commands.text import all_digits, channel_id_of, decode, markup_text, plain, user_id_of
from bot.rules import (
    MAX_MAPPINGS_PAGE,
    MAX_REMINDER_MINUTES,
    MAX_REMINDERS,
    ErrorKind,
    MappingMode,
)

__all__ = ["ADMIN_VERBS", "parse_admin"]

ADMIN_VERBS: Final = (
    "setup",
    "map",
    "unmap",
    "mappings",
    "mapping",
    "reminders",
    "channel",
    "check",
)


def _whole_number(text: str, *, low: int, high: int) -> int | None:
    """`text` as a number from `low` to `high`, or None. Too many digits are refused before int()
    sees them: it raises on more than 4300."""
    if not all_digits(text) or len(text.lstrip("0")) > len(str(high)):
        return None
    number = int(text)
    return number if low <= number <= high else None


def _admin_user(args: list[str], verb: str) -> str:
    if not args or (user_id := user_id_of(args[0])) is None:
        example = (
            "/meet admin map @alice alice@example.com"
            if verb == "map"
            else "/meet admin unmap @alice"
        )
        raise fail(
            ErrorKind.ADMIN_USER_MISSING,
            f"“admin {verb}” needs the Slack user as an @mention.",
            example,
        )
    return user_id


def parse_admin(rest: str) -> Command:
    args = rest.split()
    verb = args[0].lower() if args else ""
    args = args[1:]
    match verb:
        case "setup":
            return AdminSetup()
        case "check":
            return AdminCheck()
        case "map":
            user_id = _admin_user(args, verb)
            if len(args) != 2:
                raise fail(
                    ErrorKind.ADMIN_ID_MISSING,
                    "“admin map” needs the user and one third-party user ID (no spaces).",
                    "/meet admin map @alice alice@example.com",
                )
            third_party = args[1]
            if third_party.startswith("<") and third_party.endswith(">"):
                third_party = markup_text(third_party[1:-1])  # Slack links e-mail addresses
            return AdminMap(user_id=user_id, third_party_id=decode(third_party))
        case "unmap":
            return AdminUnmap(user_id=_admin_user(args, verb))
        case "mappings":
            if not args:
                return AdminMappings()
            page = _whole_number(args[0], low=1, high=MAX_MAPPINGS_PAGE)
            if len(args) == 1 and page is not None:
                return AdminMappings(page=page)
            raise fail(
                ErrorKind.ADMIN_PAGE_INVALID,
                f"“{plain(' '.join(args))}” is not a page number (1 to {MAX_MAPPINGS_PAGE}).",
                "/meet admin mappings 2",
            )
        case "mapping":
            choice = args[0].lower() if len(args) == 1 else ""
            if choice in set(MappingMode):
                return AdminMappingMode(mode=MappingMode(choice))
            raise fail(
                ErrorKind.ADMIN_MODE_INVALID,
                "The mapping mode is one of: " + ", ".join(MappingMode) + ".",
                "/meet admin mapping email",
            )
        case "reminders":
            return _reminders(" ".join(args))
        case "channel":
            if len(args) == 1 and (channel_id := channel_id_of(args[0])) is not None:
                return AdminChannel(channel_id=channel_id)
            raise fail(
                ErrorKind.ADMIN_CHANNEL_MISSING,
                "“admin channel” needs one channel as a #link.",
                "/meet admin channel #meetings",
            )
        case _:
            said = f"“{plain(verb)}” is not an admin command. " if verb else ""
            raise fail(
                ErrorKind.ADMIN_UNKNOWN_VERB,
                said + "Admin commands: " + ", ".join(ADMIN_VERBS) + ".",
                "/meet admin check",
            )


def _reminders(text: str) -> AdminReminders:
    values = [value for value in re.split(r"[\s,]+", text) if value]
    read = [_whole_number(value, low=0, high=MAX_REMINDER_MINUTES) for value in values]
    minutes = [number for number in read if number is not None]
    if len(set(minutes)) > MAX_REMINDERS:
        raise fail(
            ErrorKind.ADMIN_REMINDERS_INVALID,
            f"A meeting can have at most {MAX_REMINDERS} reminders; you gave {len(set(minutes))}.",
            "/meet admin reminders 15,5,0",
        )
    if values and len(minutes) == len(values):
        return AdminReminders(minutes=tuple(sorted(set(minutes), reverse=True)))
    raise fail(
        ErrorKind.ADMIN_REMINDERS_INVALID,
        f"Reminders are minutes before the start, each from 0 to {MAX_REMINDER_MINUTES}, "
        f"separated by commas; “{plain(text)}” is not.",
        "/meet admin reminders 15,5,0",
    )
