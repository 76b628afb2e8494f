"""Writes meet_phrases.json: /meet phrasings with the start a person means, computed here by
plain calendar arithmetic (never by bot.timeparse). Re-run after editing the templates:

    .venv/bin/python -m bench.data.make_meet_phrases
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# (zone, now as wall time): a Monday morning, a Thursday afternoon, and the eves of DST changes.
SETTINGS = [
    ("America/New_York", "2026-03-07T10:00"),  # Saturday; clocks spring forward Sunday 03-08
    ("Europe/Berlin", "2026-10-24T09:00"),  # Saturday; clocks fall back Sunday 10-25
    ("Asia/Shanghai", "2026-06-01T08:30"),  # Monday
    ("UTC", "2026-09-10T13:15"),  # Thursday
    ("America/Los_Angeles", "2026-11-30T07:45"),  # Monday
    ("Australia/Sydney", "2026-04-04T16:00"),  # Saturday; clocks fall back Sunday 04-05
]

# (lang, kind, text, days from today or None for an offset, hour, minute, duration or None)
# Offsets: ("offset", minutes).
CLOCK = [
    ("en", "clock", "Standup tomorrow 9:30", 1, 9, 30, None),
    ("en", "clock", "Planning tomorrow 3pm", 1, 15, 0, None),
    ("en", "clock", "Retro tomorrow at noon", 1, 12, 0, None),
    ("en", "clock", "Sync tomorrow at 4 pm", 1, 16, 0, None),
    ("en", "clock", "1:1 tomorrow 10:15am", 1, 10, 15, None),
    ("en", "clock", "Demo day after tomorrow 2pm", 2, 14, 0, None),
    ("en", "clock", "Lunch tomorrow 12:30", 1, 12, 30, None),
    ("en", "clock", "Review tmrw 11am", 1, 11, 0, None),
    ("en", "clock", "Kickoff tomorrow at 9", 1, 9, 0, None),
    ("en", "clock", "Late call tomorrow 11 at night", 1, 23, 0, None),
    ("en", "clock", "Catch-up tomorrow 6 in the afternoon", 1, 18, 0, None),
    ("en", "clock", "Design tomorrow 10 o'clock", 1, 10, 0, None),
    ("en", "clock", "Triage tomorrow at 7 in the evening", 1, 19, 0, None),
    ("en", "range", "Planning tomorrow 3-4pm", 1, 15, 0, 60),
    ("en", "range", "Workshop tomorrow from 2 to 3:30pm", 1, 14, 0, 90),
    ("en", "range", "Offsite tomorrow 8 - 11pm", 1, 20, 0, 180),
    ("en", "range", "Interview tomorrow 10am-11:30am", 1, 10, 0, 90),
    ("en", "range", "Sync tomorrow 9:00-9:45", 1, 9, 0, 45),
    ("en", "range", "Planning tomorrow 3pm - 4pm", 1, 15, 0, 60),
    ("zh", "clock", "周会 明天下午3点", 1, 15, 0, None),
    ("zh", "clock", "站会 明天上午9点半", 1, 9, 30, None),
    ("zh", "clock", "评审 后天上午10点", 2, 10, 0, None),
    ("zh", "clock", "复盘 明天 15:00", 1, 15, 0, None),
    ("zh", "clock", "讨论 明晚8点", 1, 20, 0, None),
    ("zh", "clock", "面试 明天晚上十点", 1, 22, 0, None),
    ("zh", "clock", "对齐 明天中午12点", 1, 12, 0, None),
    ("zh", "clock", "培训 明天下午3点一刻", 1, 15, 15, None),
    ("zh", "clock", "分享 大后天下午4点", 3, 16, 0, None),
    ("zh", "clock", "周会 明天下午2点30分", 1, 14, 30, None),
    ("zh", "range", "周会 明天下午2点到3点", 1, 14, 0, 60),
    ("zh", "range", "评审 明天上午10点到11点半", 1, 10, 0, 90),
    ("zh", "range", "讨论 明天下午3点-4点", 1, 15, 0, 60),
]
OFFSETS = [
    ("en", "offset", "Retro in 2 hours", 120),
    ("en", "offset", "Call in 90 minutes", 90),
    ("en", "offset", "Quick sync in an hour", 60),
    ("en", "offset", "review in 15 minutes from now", 15),
    ("en", "offset", "review 15 minutes from now", 15),
    ("en", "offset", "Huddle in half an hour", 30),
    ("en", "offset", "Standup after an hour", 60),
    ("en", "offset", "Chat an hour later", 60),
    ("en", "offset", "Debug session in 1d 2hr 5min", 1565),
    ("zh", "offset", "讨论 半小时后", 30),
    ("zh", "offset", "复盘 2小时后", 120),
    ("zh", "offset", "站会 5分钟过后", 5),
    ("zh", "offset", "对齐 十分钟后", 10),
    ("zh", "offset", "评审 1小时之后", 60),
]
REFUSE = [
    ("en", "refuse", "Standup next wednesday"),
    ("en", "refuse", "Quarterly planning"),
    ("en", "refuse", "Plan for Q3"),
    ("en", "refuse", "Sprint 5 review"),
    ("en", "refuse", "1:1 with manager"),
    ("zh", "refuse", "周会"),
    ("zh", "refuse", "明天开会"),
    ("zh", "refuse", "下周三讨论"),
]


def main() -> None:
    rows: list[dict[str, object]] = []

    def add(lang: str, kind: str, text: str, zone: str, now: datetime, expect: str) -> None:
        rows.append({"id": f"own-{len(rows) + 1:03d}", "lang": lang, "kind": kind, "text": text,
                     "zone": zone, "now": now.isoformat(), "expect": expect})  # fmt: skip

    for zone, now_text in SETTINGS:
        now = datetime.fromisoformat(now_text)
        tz = ZoneInfo(zone)
        for lang, kind, text, days, hour, minute, duration in CLOCK:
            start = datetime.combine(now.date() + timedelta(days=days), now.time())
            add(lang, kind, text, zone, now, start.replace(hour=hour, minute=minute).isoformat())
            if duration is not None:
                rows[-1]["duration"] = duration
        for lang, kind, text, minutes in OFFSETS:
            # Elapsed time: across a DST change the wall clock moves by more or less.
            start = (
                now.replace(tzinfo=tz).astimezone(UTC) + timedelta(minutes=minutes)
            ).astimezone(tz)
            add(lang, kind, text, zone, now, start.replace(tzinfo=None).isoformat())
        for lang, kind, text in REFUSE:
            add(lang, kind, text, zone, now, "refuse")
    path = Path(__file__).with_name("meet_phrases.json")
    path.write_text(
        "[\n" + ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n]\n",
        encoding="utf-8",
    )
    print(f"{len(rows)} cases -> {path}")


if __name__ == "__main__":
    main()
