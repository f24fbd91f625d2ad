"""Source health: one CrawlRun per run, from the crawl's stats (pages, posts found and new, errors by kind)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from yuqing.records import CrawlRun

_RETRY_REASON = re.compile(r"^retry/reason_count/(?:(\d{3})\b.*|.*?\.?(\w+))$")
OK_REASONS = ("finished",)


def errors_from(stats: Mapping[str, Any]) -> dict[str, int]:
    """Error counts by kind: ours (yuqing/errors/<kind>) plus Scrapy's retried failures (http_500, timeouterror...)."""
    errors: dict[str, int] = {}
    for key, value in stats.items():
        kind = ""
        if key.startswith("yuqing/errors/"):
            kind = key[len("yuqing/errors/"):]
        elif key == "robotstxt/forbidden":
            kind = "robots_forbidden"
        elif key.startswith("retry/reason_count/"):
            m = _RETRY_REASON.match(key)
            kind = (f"http_{m.group(1)}" if m.group(1) else m.group(2).lower()) if m else "retry"
        if kind:
            errors[kind] = errors.get(kind, 0) + int(value)
    return errors


def crawl_run(source: str, stats: Mapping[str, Any], *, started_at: datetime, finished_at: datetime,
              unhealthy_reason: str = "", run_id: int | None = None) -> CrawlRun:
    """The record of a finished run; unhealthy when the source was blocked or the crawl did not finish."""
    finish = str(stats.get("finish_reason", ""))
    reason = unhealthy_reason
    if not reason and finish not in OK_REASONS:
        reason = f"crawl ended: {finish or 'unknown'}"
    if not reason and not stats.get("yuqing/pages") and errors_from(stats):
        reason = "no page could be read"
    return CrawlRun(
        source=source, started_at=started_at, finished_at=finished_at,
        pages=int(stats.get("yuqing/pages", 0)), posts_found=int(stats.get("yuqing/posts_found", 0)),
        posts_new=int(stats.get("yuqing/posts_new", 0)), rejected=int(stats.get("yuqing/rejected", 0)),
        errors=errors_from(stats), healthy=not reason, reason=reason, run_id=run_id,
    )


def summary(run: CrawlRun, stats: Mapping[str, Any]) -> dict[str, Any]:
    """The one-line JSON a runner prints last."""
    return {"source": run.source, "healthy": run.healthy, "reason": run.reason, "pages": run.pages,
            "posts_found": run.posts_found, "posts_new": run.posts_new,
            "posts_stored": int(stats.get("yuqing/posts_stored", 0)), "rejected": run.rejected,
            "errors": dict(run.errors), "requests": int(stats.get("downloader/request_count", 0)),
            "splits": int(stats.get("yuqing/paging/split", 0)), "spooled": int(stats.get("yuqing/spooled", 0)),
            "seconds": round((run.finished_at - run.started_at).total_seconds(), 3) if run.finished_at else None,
            **{f"{k}_seconds": round(float(stats.get(f"yuqing/{k}_seconds", 0.0)), 3)
               for k in ("parse", "analyzer_load", "analyze", "store")}}
