"""Slack's command text, decoded: entities, markup (<@U1|name>, <#C1|name>, <!here>, links)
and the user and channel IDs the admin commands take.

Pure; a part of the /meet grammar (bot/commands/).
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "PRIVATE_USE",
    "SENTINEL",
    "WHITESPACE",
    "all_digits",
    "channel_id_of",
    "decode",
    "markup_text",
    "plain",
    "read_markup",
    "shown",
    "user_id_of",
]

# With should_escape: true Slack sends a user's own &, <, > as entities, so every literal < … >
# left in the text is Slack markup: <@U1|name>, <#C1|name>, <!here>, <https://…|label>.

_MARKUP: Final = re.compile(r"<([^<>]*)>")
_ENTITY: Final = re.compile(r"&(amp|lt|gt);")
_ENTITIES: Final = {"amp": "&", "lt": "<", "gt": ">"}
_USER_MARKUP: Final = re.compile(r"@([UW][A-Z0-9]+)(?:\|(.*))?", re.DOTALL)
_CHANNEL_MARKUP: Final = re.compile(r"#([CG][A-Z0-9]+)(?:\|(.*))?", re.DOTALL)
_BARE_USER: Final = re.compile(r"[UW][A-Z0-9]{2,}")
_BARE_CHANNEL: Final = re.compile(r"[CG][A-Z0-9]{2,}")
# A user mention inside decoded text: private-use brackets around its index in the mention list.
SENTINEL: Final = re.compile("\ue000(\\d+)\ue001")
PRIVATE_USE: Final = re.compile("[\ue000\ue001]")
# Newlines and runs of spaces carry no meaning in a command; one space keeps the patterns short.
# Markup survives: only whitespace changes, never a < or a >.
WHITESPACE: Final = re.compile(r"\s+")


def decode(text: str) -> str:
    """The three entities Slack escapes, decoded once: "&amp;lt;" stays "&lt;"."""
    return _ENTITY.sub(lambda m: _ENTITIES[m[1]], text)


def markup_text(inner: str) -> str:
    """What a user sees for one piece of markup (users are handled by the caller)."""
    if channel := _CHANNEL_MARKUP.fullmatch(inner):
        return "#" + decode(channel[2] or channel[1])
    target, _, label = inner.partition("|")
    if target.startswith("!"):  # <!here>, <!subteam^S1|@team>, <!date^…|fallback>
        return decode(label) if label else "@" + target[1:].split("^")[0]
    return decode(label or target.removeprefix("mailto:"))


def read_markup(raw: str) -> tuple[str, list[tuple[str, str]]]:
    """Decoded text with each user mention replaced by a sentinel, and the mentions (id, shown)."""
    mentions: list[tuple[str, str]] = []
    parts: list[str] = []
    position = 0
    for markup in _MARKUP.finditer(raw):
        parts.append(decode(raw[position : markup.start()]))
        if user := _USER_MARKUP.fullmatch(markup[1]):
            parts.append(f"\ue000{len(mentions)}\ue001")
            mentions.append((user[1], "@" + decode(user[2] or user[1])))
        else:
            parts.append(markup_text(markup[1]))
        position = markup.end()
    parts.append(decode(raw[position:]))
    return "".join(parts), mentions


def shown(text: str, mentions: list[tuple[str, str]]) -> str:
    """`text` from read_markup with each sentinel back as the mention it stands for (@name)."""
    return SENTINEL.sub(lambda m: mentions[int(m[1])][1], text)


def plain(raw: str) -> str:
    """The command text as the user meant it: decoded, mentions as @name."""
    return shown(*read_markup(raw))


def all_digits(text: str) -> bool:
    """ASCII digits only (str.isdigit alone also accepts "²" and "٣")."""
    return text.isascii() and text.isdigit()


def user_id_of(token: str) -> str | None:
    """The user ID of a mention (<@U1|name>) or of a bare ID (U1…); None for anything else."""
    if token.startswith("<@") and token.endswith(">"):
        user = _USER_MARKUP.fullmatch(token[1:-1])
        return user[1] if user else None
    return token if _BARE_USER.fullmatch(token) else None


def channel_id_of(token: str) -> str | None:
    """The channel ID of a #link (<#C1|name>) or of a bare ID (C1…); None for anything else."""
    if token.startswith("<#") and token.endswith(">"):
        channel = _CHANNEL_MARKUP.fullmatch(token[1:-1])
        return channel[1] if channel else None
    return token if _BARE_CHANNEL.fullmatch(token) else None
