"""Synthetic posts, windows and health records for the alert tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from alerts.window import Scope, Window
from yuqing.records import Analysis, Post, SourceHealth, StoredPost

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
_ids = count(1)


def make_post(text: str = "移动信号太差了", *, label: str = "negative", minutes_ago: float = 5, platform: str = "weibo",
              operators: tuple[str, ...] = ("中国移动",), touchpoints: tuple[str, ...] = ("网络信号",),
              province: str = "广东", city: str = "深圳", event_id: str = "", keywords: tuple[str, ...] = ("信号",),
              risk_flags: tuple[str, ...] = (), verified: bool = False, followers: int = 10, reposts: int = 0,
              comments: int = 0, influence: float = 0.0, now: datetime = NOW) -> tuple[Post, Analysis]:
    n = next(_ids)
    post = Post(platform=platform, post_id=f"p{n}", text=text, published_at=now - timedelta(minutes=minutes_ago),
                url=f"http://127.0.0.1:8900/{platform}/p{n}", author_id=f"u{n}", author_name=f"用户{n}",
                author_verified=verified, author_followers=followers, reposts=reposts, comments=comments,
                operators=operators, ip_region=province)
    analysis = Analysis(label=label, score=0.1 if label == "negative" else 0.8, touchpoints=touchpoints,
                        operators=operators, province=province, city=city, risk_flags=risk_flags,
                        influence=influence, keywords=keywords, event_id=event_id)
    return post, analysis


def stored(*args: object, **kw: object) -> StoredPost:
    post, analysis = make_post(*args, **kw)  # type: ignore[arg-type]
    return StoredPost(post=post, analysis=analysis)


def window(posts: list[StoredPost] | None = None, *, minutes: int = 60, now: datetime = NOW, **kw: object) -> Window:
    posts = posts or []
    kw.setdefault("total", len(posts))
    kw.setdefault("negative", sum(1 for p in posts if p.label == "negative"))
    return Window(now=now, start=now - timedelta(minutes=minutes), posts=tuple(posts), **kw)  # type: ignore[arg-type]


def health(source: str, *, silent_minutes: float | None, healthy: bool = True, reason: str = "",
           runs: int = 5) -> SourceHealth:
    last_post = NOW - timedelta(minutes=silent_minutes) if silent_minutes is not None else None
    return SourceHealth(source=source, last_run_at=NOW - timedelta(minutes=2), last_success_at=NOW - timedelta(minutes=2),
                        last_post_at=last_post, healthy=healthy, reason=reason, runs=runs)


__all__ = ["NOW", "Scope", "health", "make_post", "stored", "window"]
