"""Gather a brief's figures (reports.figures.Brief) from the post index and the OpsDB: the reads behind
`yuqing report`, the scheduled briefs and the dashboard's downloads, so all three state the same numbers.

Reads only, through the protocols (yuqing.index, yuqing.ops); the caller opens the stores (yuqing.wiring or
dashboard/data.py). Days and weeks are Asia/Shanghai calendar days and ISO weeks (Monday first).
"""

from __future__ import annotations

import statistics
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from reports.figures import (
    KIND_ZH,
    AlertFigures,
    AlertLine,
    Brief,
    EventFigures,
    OperatorFigures,
    PostLine,
    ReplyFigures,
    TimePoint,
    Totals,
)
from yuqing.index import PostIndex, PostQuery
from yuqing.ops import OpsDB
from yuqing.records import Alert, Event, StoredPost, utc
from yuqing.timefmt import SHANGHAI, local
from yuqing.vocab import OPEN_CASE_STATUSES, OTHER, PROVINCES

HOUR = 3600
EVENTS = 5  # main events in a daily or weekly brief
SAMPLES = 3  # representative posts per event
INCIDENT_LEAD = timedelta(hours=6)  # an alert without an event: its brief starts this long before it opened


def period(kind: str, day: date | None, now: datetime) -> tuple[datetime, datetime, datetime]:
    """(start, end, previous start) in UTC of the daily or weekly brief for `day` (a local date; default: the last
    complete day or ISO week before `now`)."""
    today = local(now).date()
    if kind == "daily":
        first = day or today - timedelta(days=1)
        length = timedelta(days=1)
    elif kind == "weekly":
        some = day or today - timedelta(days=7)
        first = some - timedelta(days=some.weekday())
        length = timedelta(days=7)
    else:
        raise ValueError(f"no calendar period for a {kind!r} brief")
    start = utc(datetime.combine(first, time(0), SHANGHAI))
    end = utc(datetime.combine(first + length, time(0), SHANGHAI))
    return start, end, utc(datetime.combine(first - length, time(0), SHANGHAI))


def _q(q: PostQuery, **changes: object) -> PostQuery:
    return replace(q, **changes)  # type: ignore[arg-type]


def totals(index: PostIndex, q: PostQuery) -> Totals:
    by = index.facet(q, "label", size=5)
    return Totals(posts=index.count_posts(q), negative=by.get("negative", 0), neutral=by.get("neutral", 0),
                  positive=by.get("positive", 0))


def _by_label(index: PostIndex, q: PostQuery, field: str, size: int) -> dict[str, dict[str, int]]:
    return {label: index.facet(_q(q, labels=(label,)), field, size=size)
            for label in ("negative", "neutral", "positive")}


def operators(index: PostIndex, q: PostQuery, before: PostQuery | None) -> tuple[OperatorFigures, ...]:
    """Every operator's posts by sentiment (mentions: a post naming two operators counts for each)."""
    def figures(query: PostQuery) -> dict[str, Totals]:
        all_ = index.facet(query, "operator", size=20)
        by = _by_label(index, query, "operator", 20)
        return {op: Totals(n, by["negative"].get(op, 0), by["neutral"].get(op, 0), by["positive"].get(op, 0))
                for op, n in all_.items()}
    now = figures(q)
    prev = figures(before) if before is not None else {}
    names = sorted(set(now) | set(prev), key=lambda op: (-now.get(op, Totals()).posts, op))
    return tuple(OperatorFigures(op, now.get(op, Totals()), prev.get(op, Totals()) if before is not None else None)
                 for op in names)


def timeline(index: PostIndex, q: PostQuery, start: datetime, end: datetime, bucket: str) -> tuple[TimePoint, ...]:
    """Posts and negative posts per hour (or per local day) from start to end, empty buckets included."""
    counts: dict[datetime, list[int]] = {}
    for b in index.volume(q, bucket_seconds=HOUR, by="label"):
        key = b.start if bucket == "hour" else utc(datetime.combine(local(b.start).date(), time(0), SHANGHAI))
        c = counts.setdefault(key, [0, 0])
        c[0] += b.count
        c[1] += b.count if b.key == "negative" else 0
    step = timedelta(hours=1) if bucket == "hour" else timedelta(days=1)
    at = start.replace(minute=0, second=0, microsecond=0) if bucket == "hour" else \
        utc(datetime.combine(local(start).date(), time(0), SHANGHAI))
    out = []
    while at < end:
        c = counts.get(at, [0, 0])
        out.append(TimePoint(at, c[0], c[1]))
        at += step
    return tuple(out)


def post_line(sp: StoredPost) -> PostLine:
    p = sp.post
    return PostLine(platform=p.platform, published_at=p.published_at, text=(p.title + " " + p.text).strip(),
                    url=p.url, label=sp.label, author=p.author_name,
                    influence=sp.analysis.influence if sp.analysis else 0.0)


def event_figures(index: PostIndex, e: Event, q: PostQuery, start: datetime, end: datetime,
                  bucket: str = "hour") -> EventFigures:
    """An event's posts within `q` (which holds its event_id), their timeline and the most influential posts."""
    t = totals(index, q)
    samples = index.search_posts(q, limit=SAMPLES, order="influence_desc")
    return EventFigures(event_id=e.event_id, title=e.title, first_seen=e.first_seen, last_seen=e.last_seen,
                        posts=t.posts, negative=t.negative, keywords=e.keywords, operators=e.operators,
                        touchpoints=e.touchpoints, city=e.city, timeline=timeline(index, q, start, end, bucket),
                        samples=tuple(post_line(sp) for sp in samples))


def main_events(index: PostIndex, q: PostQuery, start: datetime, end: datetime, bucket: str) -> tuple[EventFigures, ...]:
    """The events with the most posts in the period (within q's operator), largest first."""
    found = []
    for e in index.list_events(since=start, limit=200):
        if e.first_seen >= end:
            continue
        n = index.count_posts(_q(q, event_id=e.event_id))
        if n:
            found.append((n, e))
    found.sort(key=lambda x: (-x[0], x[1].event_id))
    return tuple(event_figures(index, e, _q(q, event_id=e.event_id), start, end, bucket) for _, e in found[:EVENTS])


def _minutes(a: datetime | None, b: datetime) -> float | None:
    return None if a is None else max((a - b).total_seconds() / 60, 0.0)


def _median(xs: list[float]) -> float | None:
    return round(statistics.median(xs), 1) if xs else None


def alert_figures(alerts: list[Alert]) -> AlertFigures:
    lines = tuple(AlertLine(alert_id=a.alert_id or 0, severity=a.severity, title=a.title, status=a.status,
                            opened_at=a.opened_at, responded_at=a.acknowledged_at or a.resolved_at,
                            resolved_at=a.resolved_at) for a in sorted(alerts, key=lambda a: a.opened_at))
    response = [m for x in lines if (m := _minutes(x.responded_at, x.opened_at)) is not None]
    resolve = [m for x in lines if (m := _minutes(x.resolved_at, x.opened_at)) is not None]
    return AlertFigures(opened=lines, resolved=sum(1 for x in lines if x.resolved_at is not None),
                        median_response_minutes=_median(response), median_resolve_minutes=_median(resolve))


def alerts_in(ops: OpsDB, start: datetime, end: datetime, operator: str = "") -> list[Alert]:
    """Alerts opened in [start, end) (for an operator: those scoped to it or to every operator)."""
    return [a for a in ops.list_alerts(since=start, limit=10_000) if start <= a.opened_at < end
            and (not operator or not a.scope.get("operators") or operator in a.scope.get("operators", ()))]


def reply_figures(index: PostIndex, ops: OpsDB, start: datetime, end: datetime, due_minutes: int,
                  keep: PostQuery | None = None) -> ReplyFigures:
    """Replies made in [start, end) and the queue as it stands at `end`; `keep` narrows the cases to posts it
    matches (an operator, an event)."""
    cases = [c for c in ops.list_cases(limit=1_000_000) if c.created_at is None or c.created_at < end]
    keys = tuple(sorted({c.key for c in cases}))
    posts: dict[str, StoredPost] = {}
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        query = _q(keep or PostQuery(), keys=chunk, since=None, until=None)
        posts.update({sp.post.key: sp for sp in index.search_posts(query, limit=len(chunk))})
    cases = [c for c in cases if c.key in posts]
    replied = [c for c in cases if c.first_reply_at is not None and start <= c.first_reply_at < end]
    waiting = [c for c in cases if c.status in OPEN_CASE_STATUSES]
    due = timedelta(minutes=due_minutes)
    follow: dict[str, int] = {}
    for c in replied:
        if c.followup_label:
            follow[c.followup_label] = follow.get(c.followup_label, 0) + 1
    mins = [m for c in replied if (m := _minutes(c.first_reply_at, posts[c.key].post.published_at)) is not None]
    return ReplyFigures(replied=len(replied), median_reply_minutes=_median(mins), waiting=len(waiting),
                        overdue=sum(1 for c in waiting if end - posts[c.key].post.published_at > due),
                        due_minutes=due_minutes, followup=dict(sorted(follow.items())))


def _landscape(index: PostIndex, q: PostQuery) -> dict[str, object]:
    """Platforms, touchpoint × sentiment, regions and hot words of the posts in q."""
    tp = _by_label(index, q, "touchpoint", 30)
    names = sorted(set().union(*tp.values()), key=lambda t: (-sum(tp[x].get(t, 0) for x in tp), t))
    provinces = index.facet(q, "province", size=40)
    neg_prov = index.facet(_q(q, labels=("negative",)), "province", size=40)
    regions = [(p, n, neg_prov.get(p, 0)) for p, n in provinces.items() if p in PROVINCES]
    return {
        "platforms": tuple(index.facet(q, "platform", size=10).items()),
        "touchpoints": tuple((t, tp["negative"].get(t, 0), tp["neutral"].get(t, 0), tp["positive"].get(t, 0))
                             for t in names),
        "regions": tuple(sorted(regions, key=lambda r: (-r[1], r[0]))[:10]),
        "hot_words": tuple(index.facet(q, "keyword", size=15).items()),
        "negative_words": tuple(index.facet(_q(q, labels=("negative",)), "keyword", size=10).items()),
    }


def gather_period(index: PostIndex, ops: OpsDB, kind: str, now: datetime, *, day: date | None = None,
                  operator: str = "", due_minutes: int = 60) -> Brief:
    """The daily or weekly brief for `day`'s day or week (default: the last complete one)."""
    start, end, prev_start = period(kind, day, now)
    everyone = PostQuery(since=start, until=end)
    q = _q(everyone, operators=(operator,) if operator else ())
    before = _q(q, since=prev_start, until=start)
    bucket = "hour" if kind == "daily" else "day"
    return Brief(kind=kind, title="", start=start, end=end, previous_start=prev_start, generated_at=now,
                 operator=operator, scope=operator or "全部监测运营商", totals=totals(index, q),
                 before=totals(index, before),
                 operators=operators(index, everyone, _q(everyone, since=prev_start, until=start)),
                 timeline=timeline(index, q, start, end, bucket), bucket=bucket,
                 events=main_events(index, q, start, end, bucket), alerts=alert_figures(alerts_in(ops, start, end,
                                                                                                  operator)),
                 replies=reply_figures(index, ops, start, end, due_minutes, _q(q, since=None, until=None)),
                 **_landscape(index, q))  # type: ignore[arg-type]


def gather_event(index: PostIndex, ops: OpsDB, event_id: str, now: datetime, *, operator: str = "",
                 due_minutes: int = 60, alerts: list[Alert] | None = None) -> Brief:
    """The 专报 of one event: all its posts, its timeline from first to last sight, its alerts and replies.
    KeyError when there is no such event."""
    e = index.get_event(event_id)
    if e is None:
        raise KeyError(f"no event {event_id!r}")
    q = PostQuery(event_id=event_id, operators=(operator,) if operator else ())
    start = e.first_seen.replace(minute=0, second=0, microsecond=0)
    end = max(e.last_seen, e.first_seen).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    bucket = "hour" if end - start <= timedelta(days=3) else "day"
    subject = event_figures(index, e, q, start, end, bucket)
    mine = alerts if alerts is not None else [a for a in ops.list_alerts(limit=10_000) if a.event_id == event_id]
    return Brief(kind="event", title=f"{KIND_ZH['event']}：{e.title}", start=start, end=end, generated_at=now,
                 operator=operator, scope=f"事件 {event_id}" + (f"，{operator}" if operator else ""),
                 totals=totals(index, q), operators=operators(index, q, None), timeline=subject.timeline,
                 bucket=bucket, subject=subject, alerts=alert_figures(mine),
                 replies=reply_figures(index, ops, start, min(now, end + timedelta(days=7)), due_minutes, q),
                 **_landscape(index, q))  # type: ignore[arg-type]


def alert_query(alert: Alert, start: datetime, end: datetime) -> PostQuery:
    """The posts in an alert's scope (operators, touchpoints, platforms, regions) in [start, end)."""
    s = alert.scope or {}
    regions = tuple(s.get("regions", ()))
    return PostQuery(since=start, until=end, operators=tuple(s.get("operators", ())),
                     touchpoints=tuple(t for t in s.get("touchpoints", ()) if t != OTHER),
                     platforms=tuple(s.get("platforms", ())), provinces=tuple(r for r in regions if r in PROVINCES),
                     cities=tuple(r for r in regions if r not in PROVINCES))


def gather_alert(index: PostIndex, ops: OpsDB, alert_id: int, now: datetime, *, due_minutes: int = 60) -> Brief:
    """The 专报 of an alert: its event's brief when it has one still stored, else the posts in its scope from
    six hours before it opened until it was resolved (or now). KeyError when there is no such alert."""
    alert = ops.get_alert(alert_id)
    if alert is None:
        raise KeyError(f"no alert #{alert_id}")
    if alert.event_id and index.get_event(alert.event_id) is not None:
        related = [a for a in ops.list_alerts(limit=10_000) if a.event_id == alert.event_id]
        brief = gather_event(index, ops, alert.event_id, now, due_minutes=due_minutes, alerts=related)
        return replace(brief, title=f"{KIND_ZH['event']}：{alert.title}",
                       scope=f"预警 #{alert_id} 的事件「{brief.subject.title if brief.subject else alert.event_id}」")
    start = (alert.opened_at - INCIDENT_LEAD).replace(minute=0, second=0, microsecond=0)
    end = min(now, alert.resolved_at or now) + timedelta(seconds=1)
    q = alert_query(alert, start, end)
    t = totals(index, q)
    first = index.search_posts(q, limit=1, order="published_at_asc")
    last = index.search_posts(q, limit=1, order="published_at_desc")
    samples = index.search_posts(q, limit=SAMPLES, order="influence_desc")
    line = timeline(index, q, start, end, "hour")
    subject = EventFigures(event_id="", title=alert.title,
                           first_seen=first[0].post.published_at if first else alert.opened_at,
                           last_seen=last[0].post.published_at if last else alert.opened_at, posts=t.posts,
                           negative=t.negative, keywords=alert.keywords, timeline=line,
                           samples=tuple(post_line(sp) for sp in samples))
    return Brief(kind="event", title=f"{KIND_ZH['event']}：{alert.title}", start=start, end=end, generated_at=now,
                 scope=f"预警 #{alert_id} 的范围", totals=t, operators=operators(index, q, None), timeline=line,
                 subject=subject, alerts=alert_figures([alert]),
                 replies=reply_figures(index, ops, start, end, due_minutes, _q(q, since=None, until=None)),
                 **_landscape(index, q))  # type: ignore[arg-type]
