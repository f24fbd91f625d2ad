"""Dates as platforms print them -> aware UTC datetimes. Local forms are read in Asia/Shanghai.

Handles Weibo's `Sat Nov 21 10:00:00 +0800 2026`, relative forms (`刚刚`, `5分钟前`, `3小时前`,
`2天前`, `今天 10:00`, `昨天 10:00`, `前天 10:00`), yearless `06-14` / `06月14日 18:12`,
`2026-06-14 10:00`, `2026年06月14日`, `2026/06/14`, ISO 8601 and epoch seconds or milliseconds.
`now` anchors the relative and yearless forms so results are reproducible.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_RELATIVE = re.compile(r"^(\d+)\s*(秒|分钟|分|小时|天|周)前$")
_UNIT_SECONDS = {"秒": 1, "分钟": 60, "分": 60, "小时": 3600, "天": 86400, "周": 7 * 86400}
_DAY_WORDS = {"今天": 0, "昨天": 1, "前天": 2}
_DAY_TIME = re.compile(r"^(今天|昨天|前天)\s*(?:(\d{1,2}):(\d{2}))?$")
_FULL = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_YEARLESS = re.compile(r"^(\d{1,2})\s*[-月/]\s*(\d{1,2})\s*日?(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_EPOCH = re.compile(r"^\d{9,13}$")
_WEIBO_FORMAT = "%a %b %d %H:%M:%S %z %Y"


class DateError(ValueError):
    """A date string in none of the known forms."""


def from_epoch(value: float | int | str) -> datetime:
    """Epoch seconds or milliseconds (13 digits) -> aware UTC."""
    number = float(value)
    if number > 1e11:  # milliseconds
        number /= 1000.0
    return datetime.fromtimestamp(number, UTC)


def parse_date(value: object, now: datetime) -> datetime:
    """Any known date form -> aware UTC datetime; raises DateError on anything else."""
    if now.tzinfo is None:
        raise ValueError("now must be tz-aware")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=SHANGHAI).astimezone(UTC)
        return value.astimezone(UTC)
    if isinstance(value, bool) or value is None:
        raise DateError(f"no date: {value!r}")
    if isinstance(value, int | float):
        return from_epoch(value)
    text = " ".join(str(value).replace("\xa0", " ").split())
    if not text:
        raise DateError("empty date")
    if _EPOCH.match(text):
        return from_epoch(text)
    try:
        return datetime.strptime(text, _WEIBO_FORMAT).astimezone(UTC)
    except ValueError:
        pass
    local_now = now.astimezone(SHANGHAI)
    if text in ("刚刚", "刚才", "just now"):
        return now.astimezone(UTC)
    match = _RELATIVE.match(text)
    if match:
        return (now - timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])).astimezone(UTC)
    match = _DAY_TIME.match(text)
    if match:
        day = local_now - timedelta(days=_DAY_WORDS[match.group(1)])
        hour, minute = int(match.group(2) or 0), int(match.group(3) or 0)
        return _local(day.year, day.month, day.day, hour, minute, 0)
    match = _FULL.match(text)
    if match:
        year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
        hour, minute, second = (int(match.group(i) or 0) for i in (4, 5, 6))
        offset = match.group(7)
        if offset:
            iso = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{_norm_offset(offset)}"
            return datetime.fromisoformat(iso).astimezone(UTC)
        return _local(year, month, day, hour, minute, second)
    match = _YEARLESS.match(text)
    if match:
        month, day = int(match.group(1)), int(match.group(2))
        hour, minute, second = (int(match.group(i) or 0) for i in (3, 4, 5))
        result = _local(local_now.year, month, day, hour, minute, second)
        if result > now + timedelta(days=1):  # "12-31" seen on 1 January is last year's
            result = _local(local_now.year - 1, month, day, hour, minute, second)
        return result
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise DateError(f"unknown date form: {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed.astimezone(UTC)


def _norm_offset(offset: str) -> str:
    if offset == "Z":
        return "+00:00"
    return offset if ":" in offset else f"{offset[:3]}:{offset[3:]}"


def _local(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI).astimezone(UTC)
    except ValueError as exc:
        raise DateError(f"impossible date {year}-{month}-{day} {hour}:{minute}: {exc}") from None
