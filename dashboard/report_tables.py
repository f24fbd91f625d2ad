"""Daily and weekly figures (posts, negative share, replies, median time to reply, by touchpoint); CSV and Excel.

Pure: store aggregates in, frames and file bytes out. Days and weeks are Asia/Shanghai calendar days and
ISO weeks (Monday first), so hourly UTC buckets are regrouped here.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from dashboard.cells import safe_frame
from yuqing.index import Bucket
from yuqing.records import Case
from yuqing.timefmt import local

PERIOD_ZH = {"daily": "日报", "weekly": "周报"}
SUMMARY_COLUMNS = ["周期", "帖子数", "负面数", "负面占比", "回复数", "回复中位时长(分钟)"]
TOUCHPOINT_COLUMNS = ["周期", "触点", "帖子数", "负面数", "负面占比"]


def period_of(at: datetime, period: str) -> str:
    """The report period an instant falls in: "2026-11-24" (daily) or "2026-11-23周" (week starting Monday)."""
    day = local(at).date()
    if period == "daily":
        return day.isoformat()
    return (day - timedelta(days=day.weekday())).isoformat() + "周"


def _share(neg: int, total: int) -> str:
    return f"{neg / total:.1%}" if total else "-"


def summary(by_label: Sequence[Bucket], replies: Sequence[tuple[Case, datetime]], period: str) -> pd.DataFrame:
    """One row per period: posts, negative, negative share, replies made, median minutes from post to first reply.

    by_label: hourly buckets keyed by label; replies: (case with first_reply_at, the post's published_at).
    """
    posts: dict[str, int] = {}
    negative: dict[str, int] = {}
    for b in by_label:
        p = period_of(b.start, period)
        posts[p] = posts.get(p, 0) + b.count
        if b.key == "negative":
            negative[p] = negative.get(p, 0) + b.count
    minutes: dict[str, list[float]] = {}
    for case, published_at in replies:
        if case.first_reply_at is None:
            continue
        p = period_of(case.first_reply_at, period)
        minutes.setdefault(p, []).append(max((case.first_reply_at - published_at).total_seconds() / 60, 0.0))
    rows = []
    for p in sorted(set(posts) | set(minutes)):
        total, neg, mins = posts.get(p, 0), negative.get(p, 0), minutes.get(p, [])
        rows.append({"周期": p, "帖子数": total, "负面数": neg, "负面占比": _share(neg, total), "回复数": len(mins),
                     "回复中位时长(分钟)": round(float(pd.Series(mins).median()), 1) if mins else None})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def by_touchpoint(all_buckets: Sequence[Bucket], negative_buckets: Sequence[Bucket], period: str) -> pd.DataFrame:
    """One row per period and touchpoint: posts, negative, negative share."""
    counts: dict[tuple[str, str], list[int]] = {}
    for buckets, i in ((all_buckets, 0), (negative_buckets, 1)):
        for b in buckets:
            counts.setdefault((period_of(b.start, period), b.key), [0, 0])[i] += b.count
    rows = [{"周期": p, "触点": tp, "帖子数": n, "负面数": neg, "负面占比": _share(neg, n)}
            for (p, tp), (n, neg) in sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1][0]))]
    return pd.DataFrame(rows, columns=TOUCHPOINT_COLUMNS)


def shown(frame: pd.DataFrame) -> Any:
    """The frame for st.dataframe: a missing figure (no reply in the period) shows as "—", not None."""
    return frame.style.format(na_rep="—", precision=1)


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM so that Excel opens the Chinese headers correctly."""
    return safe_frame(frame).to_csv(index=False).encode("utf-8-sig")


def to_excel(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook (openpyxl) with one sheet per frame."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            safe_frame(frame).to_excel(writer, sheet_name=name[:31], index=False)
    return buf.getvalue()
