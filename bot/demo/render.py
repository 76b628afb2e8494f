"""Block Kit and mrkdwn to HTML for the demo page, as one viewer sees them (pure).

Date tokens are shown in the viewer's time zone, mentions by name, ephemeral messages marked.
Everything from a message is HTML-escaped here; the page inserts the result as is.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.demo.wire import local_from_epoch

__all__ = ["Viewer", "format_date", "mrkdwn", "render_blocks", "render_message", "render_view"]

EMOJI: Final = {
    "alarm_clock": "⏰",
    "calendar": "📆",
    "checkered_flag": "🏁",
    "hourglass_flowing_sand": "⏳",
    "no_entry": "⛔",
    "no_entry_sign": "🚫",
    "red_circle": "🔴",
    "repeat": "🔁",
    "spiral_calendar_pad": "🗓️",
    "warning": "⚠️",
    "white_check_mark": "✅",
    "x": "❌",
    "zap": "⚡",
    "wave": "👋",
    "tada": "🎉",
    "thumbsup": "👍",
    "+1": "👍",
    "eyes": "👀",
    "bell": "🔔",
    "link": "🔗",
    "lock": "🔒",
    "key": "🔑",
    "video_camera": "📹",
    "telephone_receiver": "📞",
    "information_source": "ℹ️",  # noqa: RUF001 -- the emoji itself
    "heavy_check_mark": "✔️",
    "clock3": "🕒",
    "busts_in_silhouette": "👥",
}
_MONTHS: Final = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_WEEKDAYS: Final = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_AVATAR_COLORS: Final = ("#2bac76", "#1264a3", "#e8912d", "#9e3997", "#cd2553", "#4a154b")
_SAFE_URL: Final = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
_TOKEN: Final = re.compile(r"<([^<>\n]+)>")
_CODE: Final = re.compile(r"```(.+?)```|`([^`\n]+)`", re.DOTALL)
_EMOJI: Final = re.compile(r":([a-z0-9_+\-]+):")
_STYLES: Final = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])"), "b"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])"), "i"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])"), "s"),
)


@dataclass(frozen=True)
class Viewer:
    """Who is looking, and when: what every rendering depends on besides the message."""

    user_id: str
    tz: ZoneInfo
    now: datetime
    names: Mapping[str, str] = field(default_factory=dict)
    """User ID -> display name (mentions show the current name, as in Slack)."""
    people: Mapping[str, str] = field(default_factory=dict)
    """The members a user picker offers (ID -> name)."""
    channels: Mapping[str, str] = field(default_factory=dict)
    """Channel ID -> name."""
    calls: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Call ID -> the call as calls.add/update left it (for `call` blocks)."""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _unslack(text: str) -> str:
    """Slack's three entities back to characters (the only ones Slack uses)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _time(local: datetime, *, seconds: bool = False) -> str:
    hour = local.hour % 12 or 12
    clock = f"{hour}:{local.minute:02d}" + (f":{local.second:02d}" if seconds else "")
    return f"{clock} {'AM' if local.hour < 12 else 'PM'}"


def _ago(moment: datetime, now: datetime) -> str:
    seconds = (moment - now).total_seconds()
    amount = abs(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if amount >= size:
            count = int(amount // size)
            text = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {text}" if seconds > 0 else f"{text} ago"
    return "just now"


def format_date(epoch: int, fmt: str, viewer: Viewer) -> str:
    """A `<!date^epoch^fmt|…>` token as Slack shows it to `viewer` (plain text)."""
    local = datetime.fromtimestamp(epoch, viewer.tz)
    today = viewer.now.astimezone(viewer.tz).date()
    month, weekday = _MONTHS[local.month - 1], _WEEKDAYS[local.weekday()]
    date = f"{month} {_ordinal(local.day)}, {local.year}"
    short = f"{month[:3]} {local.day}, {local.year}"
    long = f"{weekday}, {date}"
    relative = {
        today: "Today",
        today + timedelta(days=1): "Tomorrow",
        today - timedelta(days=1): "Yesterday",
    }.get(local.date())
    values = {
        "date_num": local.strftime("%Y-%m-%d"),
        "date": date,
        "date_short": short,
        "date_long": long,
        "date_pretty": relative or date,
        "date_short_pretty": relative or short,
        "date_long_pretty": relative or long,
        "time": _time(local),
        "time_secs": _time(local, seconds=True),
        "ago": _ago(local, viewer.now),
    }
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), fmt)


def _link(url: str, label: str) -> str:
    if not _SAFE_URL.match(url):
        return _e(label)
    return f'<a href="{_e(url)}" target="_blank" rel="noopener noreferrer">{_e(label)}</a>'


def _token(inner: str, viewer: Viewer) -> str:
    """One `<…>` token of mrkdwn as HTML."""
    target, _, label = inner.partition("|")
    label = _unslack(label)
    if target.startswith("@"):
        user_id = target[1:]
        mine = " me" if user_id == viewer.user_id else ""
        return (
            f'<span class="mention{mine}">@{_e(viewer.names.get(user_id, label or user_id))}</span>'
        )
    if target.startswith("#"):
        name = viewer.channels.get(target[1:], label or target[1:])
        return f'<span class="mention">#{_e(name)}</span>'
    if target.startswith("!date^"):
        parts = target.split("^")
        try:
            shown = format_date(int(parts[1]), _unslack(parts[2]), viewer)
        except (IndexError, ValueError):
            return _e(label)
        if len(parts) > 3:
            return _link(_unslack(parts[3]), shown)
        return f'<time datetime="{int(parts[1])}" title="{_e(label)}">{_e(shown)}</time>'
    if target.startswith("!subteam^"):
        return f'<span class="mention">{_e(label or "@group")}</span>'
    if target.startswith("!"):
        return f'<span class="mention broadcast">@{_e(label or target[1:])}</span>'
    url = _unslack(target)
    return _link(url, label or url)


def _emoji(text: str) -> str:
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def _inline(text: str, viewer: Viewer) -> str:
    """mrkdwn without code spans: tokens, entities, bold/italic/strike, emoji, line breaks."""
    held: list[str] = []

    def hold(rendered: str) -> str:
        held.append(rendered)
        return f"\ue000{len(held) - 1}\ue001"

    text = _TOKEN.sub(lambda m: hold(_token(m.group(1), viewer)), text)
    text = _e(_unslack(text))
    for pattern, tag in _STYLES:
        text = pattern.sub(lambda m, t=tag: f"<{t}>{m.group(1)}</{t}>", text)  # type: ignore[misc]
    text = _emoji(text).replace("\n", "<br>")
    return re.sub(r"\ue000(\d+)\ue001", lambda m: held[int(m.group(1))], text)


def mrkdwn(text: str, viewer: Viewer) -> str:
    """Slack mrkdwn (as sent, with `&<>` escaped by the sender) as HTML for `viewer`."""
    out: list[str] = []
    last = 0
    for found in _CODE.finditer(text):
        out.append(_inline(text[last : found.start()], viewer))
        if found.group(1) is not None:
            out.append(f"<pre>{_e(_unslack(found.group(1).strip(chr(10))))}</pre>")
        else:
            out.append(f"<code>{_e(_unslack(found.group(2)))}</code>")
        last = found.end()
    out.append(_inline(text[last:], viewer))
    return "".join(out)


def _text(obj: Mapping[str, Any] | None, viewer: Viewer) -> str:
    """A text object: plain_text shown literally (emoji codes allowed), mrkdwn rendered."""
    if not obj:
        return ""
    text = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn(text, viewer)
    return _emoji(_e(text)) if obj.get("emoji", True) else _e(text)


def _button(element: Mapping[str, Any], block_id: str, viewer: Viewer) -> str:
    style = str(element.get("style", ""))
    attrs = {
        "class": f"blk-button {style}".strip(),
        "data-block-id": block_id,
        "data-action-id": str(element.get("action_id", "")),
    }
    url = str(element.get("url", ""))
    if url and _SAFE_URL.match(url):
        attrs["data-url"] = url
    confirm = element.get("confirm")
    if isinstance(confirm, Mapping):
        attrs["data-confirm"] = json.dumps(
            {
                "title": _text(confirm.get("title"), viewer),
                "text": _text(confirm.get("text"), viewer),
                "confirm": _text(confirm.get("confirm"), viewer) or "Yes",
                "deny": _text(confirm.get("deny"), viewer) or "Cancel",
                "style": str(confirm.get("style", "")),
            }
        )
    rendered = " ".join(f'{k}="{_e(v)}"' for k, v in attrs.items())
    return f"<button {rendered}>{_text(element.get('text'), viewer)}</button>"


def _image(element: Mapping[str, Any], css: str) -> str:
    url = str(element.get("image_url", ""))
    alt = _e(str(element.get("alt_text", "")))
    if not _SAFE_URL.match(url):
        return f'<span class="{css} missing">{alt}</span>'
    return f'<img class="{css}" src="{_e(url)}" alt="{alt}" title="{alt}" loading="lazy">'


def _element(element: Mapping[str, Any], block_id: str, viewer: Viewer) -> str:
    """An interactive or image element inside a message (section accessory, actions, context)."""
    kind = element.get("type")
    if kind == "button":
        return _button(element, block_id, viewer)
    if kind == "image":
        return _image(element, "accessory-image")
    if kind in {"mrkdwn", "plain_text"}:
        return f"<span>{_text(element, viewer)}</span>"
    placeholder = _text(element.get("placeholder"), viewer) or _e(str(kind))
    return f'<span class="blk-unsupported" title="{_e(str(kind))}">{placeholder}</span>'


def _call(block: Mapping[str, Any], viewer: Viewer) -> str:
    call = viewer.calls.get(str(block.get("call_id")), {})
    title = _e(str(call.get("title") or "Call"))
    ended = bool(call.get("date_end"))
    people = ", ".join(
        _e(viewer.names.get(str(u.get("slack_id")), str(u.get("display_name", "someone"))))
        for u in call.get("users", ())
    )
    state = "Ended" if ended else "Active call"
    join = "" if ended else _link(str(call.get("join_url", "")), "Join")
    return (
        f'<div class="blk blk-call{" ended" if ended else ""}"><b>📞 {title}</b>'
        f'<div class="call-state">{state}{" · " + people if people else ""}</div>{join}</div>'
    )


def _block(block: Mapping[str, Any], viewer: Viewer) -> str:
    kind = block.get("type")
    block_id = str(block.get("block_id", ""))
    match kind:
        case "section":
            parts = [f'<div class="section-text">{_text(block.get("text"), viewer)}</div>']
            fields = block.get("fields") or ()
            if fields:
                cells = "".join(f"<div>{_text(f, viewer)}</div>" for f in fields)
                parts.append(f'<div class="section-fields">{cells}</div>')
            accessory = block.get("accessory")
            side = (
                f'<div class="accessory">{_element(accessory, block_id, viewer)}</div>'
                if isinstance(accessory, Mapping)
                else ""
            )
            return (
                f'<div class="blk blk-section"><div class="main">{"".join(parts)}</div>{side}</div>'
            )
        case "context":
            items = "".join(_element(e, block_id, viewer) for e in block.get("elements", ()))
            return f'<div class="blk blk-context">{items}</div>'
        case "actions":
            items = "".join(_element(e, block_id, viewer) for e in block.get("elements", ()))
            return f'<div class="blk blk-actions">{items}</div>'
        case "header":
            return f'<div class="blk blk-header">{_text(block.get("text"), viewer)}</div>'
        case "divider":
            return '<hr class="blk blk-divider">'
        case "image":
            title = _text(block.get("title"), viewer)
            caption = f'<div class="image-title">{title}</div>' if title else ""
            return f'<div class="blk blk-image">{caption}{_image(block, "image")}</div>'
        case "call":
            return _call(block, viewer)
        case "input":
            return _input(block, viewer, None)
        case _:
            return f'<div class="blk blk-unsupported">[{_e(str(kind))} block]</div>'


def render_blocks(blocks: Sequence[Mapping[str, Any]], viewer: Viewer) -> str:
    """A message's (or a modal's) blocks as HTML."""
    return "".join(_block(b, viewer) for b in blocks)


def render_message(
    *,
    author: str,
    is_bot: bool,
    ts: str,
    text: str,
    blocks: Sequence[Mapping[str, Any]],
    ephemeral: bool,
    edited: bool,
    viewer: Viewer,
) -> str:
    """One message as `viewer` sees it: author, time in their zone, body from its blocks."""
    sent = datetime.fromtimestamp(float(ts), viewer.tz)
    badge = '<span class="badge">APP</span>' if is_bot else ""
    only = '<span class="only-you">Only visible to you</span>' if ephemeral else ""
    body = (
        render_blocks(blocks, viewer)
        if blocks
        else f'<div class="text">{mrkdwn(text, viewer)}</div>'
    )
    note = '<span class="edited">(edited)</span>' if edited else ""
    color = _AVATAR_COLORS[sum(map(ord, author)) % len(_AVATAR_COLORS)]
    return (
        f'<div class="avatar" style="background:{color}">{_e(author[:1].upper())}</div>'
        f'<div class="msg-main"><div class="msg-head"><span class="author">{_e(author)}</span>{badge}'
        f'<span class="time" title="{_e(sent.isoformat())}">{_time(sent)}</span>{only}</div>'
        f'<div class="msg-body">{body}{note}</div></div>'
    )


def _input_control(element: Mapping[str, Any], block_id: str, viewer: Viewer) -> str:
    kind = str(element.get("type"))
    action_id = str(element.get("action_id", ""))
    base = f'class="in" data-block-id="{_e(block_id)}" data-action-id="{_e(action_id)}"'
    placeholder = _e(str((element.get("placeholder") or {}).get("text", "")))
    match kind:
        case "plain_text_input" | "email_text_input" | "url_text_input" | "number_input":
            value = _e(str(element.get("initial_value") or ""))
            limit = element.get("max_length")
            extra = f' maxlength="{int(limit)}"' if limit else ""
            if element.get("multiline"):
                return f'<textarea {base}{extra} placeholder="{placeholder}">{value}</textarea>'
            types = {"email_text_input": "email", "url_text_input": "url", "number_input": "number"}
            return f'<input type="{types.get(kind, "text")}" {base}{extra} value="{value}" placeholder="{placeholder}">'
        case "datetimepicker":
            epoch = element.get("initial_date_time")
            value = local_from_epoch(int(epoch), viewer.tz) if epoch is not None else ""
            return (
                f'<input type="datetime-local" {base} value="{value}">'
                f'<span class="zone">{_e(str(viewer.tz))}</span>'
            )
        case "datepicker":
            return (
                f'<input type="date" {base} value="{_e(str(element.get("initial_date") or ""))}">'
            )
        case "timepicker":
            return (
                f'<input type="time" {base} value="{_e(str(element.get("initial_time") or ""))}">'
            )
        case "static_select" | "radio_buttons" | "users_select":
            if kind == "users_select":
                options = [(uid, _e(name)) for uid, name in viewer.people.items()]
                initial = str(element.get("initial_user") or "")
            else:
                options = [
                    (str(o.get("value")), _text(o.get("text"), viewer))
                    for o in element.get("options", ())
                ]
                initial = str((element.get("initial_option") or {}).get("value", ""))
            rows = (
                [f'<option value="">{placeholder or "Select an item"}</option>']
                if not initial
                else []
            )
            rows += [
                f'<option value="{_e(v)}"{" selected" if v == initial else ""}>{label}</option>'
                for v, label in options
            ]
            return f"<select {base}>{''.join(rows)}</select>"
        case "multi_users_select" | "multi_static_select" | "checkboxes":
            if kind == "multi_users_select":
                options = [(uid, _e(name)) for uid, name in viewer.people.items()]
                initial_set = {str(u) for u in element.get("initial_users", ())}
            else:
                options = [
                    (str(o.get("value")), _text(o.get("text"), viewer))
                    for o in element.get("options", ())
                ]
                initial_set = {str(o.get("value")) for o in element.get("initial_options", ())}
            boxes = "".join(
                f'<label><input type="checkbox" value="{_e(v)}"{" checked" if v in initial_set else ""}> {label}</label>'
                for v, label in options
            )
            return f"<div {base.replace('in', 'in multi', 1)}>{boxes}</div>"
        case _:
            return f'<span class="blk-unsupported">[{_e(kind)}]</span>'


def _input(block: Mapping[str, Any], viewer: Viewer, error: str | None) -> str:
    block_id = str(block.get("block_id", ""))
    optional = ' <span class="optional">(optional)</span>' if block.get("optional") else ""
    hint = _text(block.get("hint"), viewer)
    return (
        f'<div class="blk blk-input{" has-error" if error else ""}" data-block-id="{_e(block_id)}">'
        f"<label>{_text(block.get('label'), viewer)}{optional}</label>"
        f"{_input_control(block.get('element', {}), block_id, viewer)}"
        + (f'<div class="hint">{hint}</div>' if hint else "")
        + (f'<div class="err">{_e(error)}</div>' if error else "")
        + "</div>"
    )


def render_view(view: Mapping[str, Any], viewer: Viewer, errors: Mapping[str, str]) -> str:
    """A modal's body as HTML form controls, with errors shown under their inputs."""
    out = []
    for block in view.get("blocks", ()):
        if block.get("type") == "input":
            out.append(_input(block, viewer, errors.get(str(block.get("block_id", "")))))
        else:
            out.append(_block(block, viewer))
    return "".join(out)
