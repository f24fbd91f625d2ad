"""Counts as platforms show them: 12, "12", "100万+", "1.2万", "3亿", "转发 12", "评论[393530]", "1,234"."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*([万亿wWkK千]?)")
_UNITS = {"": 1, "万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "千": 1_000, "k": 1_000, "K": 1_000}


def parse_count(value: object) -> int:
    """An integer count; text without any number (e.g. "转发", "赞") counts as 0, None as 0."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float):
        return max(int(value), 0)
    match = _NUMBER.search(str(value))
    if not match:
        return 0
    number = float(match.group(1).replace(",", ""))
    return int(round(number * _UNITS[match.group(2)]))
