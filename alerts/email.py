"""Choose recipients and queue messages in the OpsDB outbox: immediate alerts, hourly digests, quiet-hours digests
and the daily report. Sending is alerts.outbox.deliver_due; every message is stored first and keyed so it is
queued (and so sent) once."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from alerts.chart import bar_chart
from alerts.render import Rendered, alert_rows, render_alert, render_daily, render_digest, sample_rows
from alerts.subscriptions import (
    LOW,
    address,
    channel_problem,
    in_quiet_hours,
    mentions_for,
    quiet_period,
    schedule_problem,
    wants,
)
from yuqing.config import Settings
from yuqing.index import PostIndex, PostQuery
from yuqing.ops import OpsDB
from yuqing.ops.subscribers import daily_time
from yuqing.records import Alert, OutboxMessage, Rejected, StoredPost, Subscriber, utc
from yuqing.timefmt import SHANGHAI, local, local_str
from yuqing.vocab import PROVINCES, SEVERITIES

log = logging.getLogger(__name__)
CHART = "daily-chart.png"


def _enqueue(ops: OpsDB, sub: Subscriber, r: Rendered, key: str, now: datetime,
             attachments: tuple[tuple[str, str, bytes], ...] = (), severity: str = "") -> int | None:
    """Store the message for the subscriber's channel: email (text, HTML, attachments) or chat (title, Markdown,
    link, and the subscription's mentions when `severity` reaches its mention level; alerts.chat delivers it)."""
    if sub.channel != "email":
        return ops.enqueue(OutboxMessage(to=(sub.channel,), subject=r.subject, text=r.markdown, channel=sub.channel,
                                         link=r.link, dedup_key=key, created_at=now, next_attempt_at=now,
                                         mentions=mentions_for(sub, severity) if severity else ()))
    return ops.enqueue(OutboxMessage(to=(sub.email,), subject=r.subject, text=r.text, html=r.html,
                                             dedup_key=key, attachments=attachments, created_at=now,
                                             next_attempt_at=now))


def sample_posts(index: PostIndex, alert: Alert) -> list[StoredPost]:
    if not alert.sample_keys:
        return []
    posts = {sp.post.key: sp for sp in index.search_posts(PostQuery(keys=alert.sample_keys), limit=len(alert.sample_keys))}
    return [posts[k] for k in alert.sample_keys if k in posts]


def action_of(alert: Alert) -> str:
    """A best guess when the caller did not say: reopened, raised since opening, or new."""
    if alert.updated_at in (None, alert.opened_at):
        return "new"
    return "reopen" if alert.reopened and alert.status == "open" else "raise"


def notify(index: PostIndex, ops: OpsDB, settings: Settings, alerts: list[Alert], now: datetime,
           actions: dict[int, str] | None = None) -> int:
    """Queue one message per alert per immediate subscriber who wants it; low severity waits in quiet hours.
    The key (alert, subscriber, severity, reopen count) means a raise or reopen is new news, a repeat is not; for a
    chat channel the key names the channel, not the subscription: one message per alert and channel."""
    now = utc(now)
    subs = [s for s in ops.list_subscribers(active_only=True)
            if s.mode == "immediate" and not channel_problem(s, settings)]
    quiet = in_quiet_hours(settings.alerts.quiet_hours, now)
    queued = 0
    for alert in alerts:
        if quiet and alert.severity in LOW:
            continue  # goes out in the digest when quiet hours end
        chosen = [s for s in subs if wants(s, alert)]
        if not chosen:
            continue
        posts = sample_posts(index, alert)
        for sub in chosen:
            who = sub.subscriber_id if sub.channel == "email" else f"channel:{sub.channel}"
            key = f"alert:{alert.alert_id}:{who}:{alert.severity}:{alert.reopened}"
            if _enqueue(ops, sub, render_alert(alert, (actions or {}).get(alert.alert_id or 0) or action_of(alert), posts, sub,
                                                   settings), key, now, severity=alert.severity):
                queued += 1
    return queued


def _active_in(ops: OpsDB, sub: Subscriber, start: datetime, end: datetime, low_only: bool = False) -> list[Alert]:
    out = []
    for a in ops.list_alerts(since=start, limit=1000):
        when = a.updated_at or a.opened_at
        if start <= when < end and wants(sub, a) and (not low_only or a.severity in LOW):
            out.append(a)
    return sorted(out, key=lambda a: (-SEVERITIES.index(a.severity), a.opened_at))


def _highest(alerts: list[Alert]) -> str:
    """The highest severity among the alerts of a digest (what decides whether it mentions anybody)."""
    return max((a.severity for a in alerts), key=SEVERITIES.index)


def _period(start: datetime, end: datetime) -> str:
    return f"{local_str(start)} 至 {local_str(end, '%H:%M' if local(start).date() == local(end).date() else '%m-%d %H:%M')}"


def schedule_digests(index: PostIndex, ops: OpsDB, settings: Settings, now: datetime) -> int:
    """Queue whatever digest or report is due at `now` (idempotent: safe to call every minute). A subscriber whose
    stored settings cannot be scheduled (or whose digest fails) is skipped, recorded as rejected and logged once per
    problem; the others still get theirs."""
    now = utc(now)
    queued = 0
    end = now.replace(minute=0, second=0, microsecond=0)
    quiet = quiet_period(settings.alerts.quiet_hours, now)
    for sub in ops.list_subscribers(active_only=True):
        problem = schedule_problem(sub) or channel_problem(sub, settings)
        if not problem:
            try:
                queued += _schedule_one(index, ops, settings, sub, now, end, quiet)
            except Exception as exc:  # one subscriber's broken digest must not stop the others'
                log.exception("digest for subscriber %s failed", sub.subscriber_id)
                problem = f"{type(exc).__name__}: {exc}"
        _note_problem(ops, sub, problem, now)
    return queued


def _note_problem(ops: OpsDB, sub: Subscriber, problem: str, now: datetime) -> None:
    """Record a skipped subscriber as rejected (stage "subscriber") when its problem is new; forget it once fixed."""
    before = ops.get_mark(sub.subscriber_id or 0, "problem")
    if problem == before:
        if problem:
            log.debug("subscriber %s still skipped: %s", sub.subscriber_id, problem)
        return
    if problem:
        reason = f"订阅者 #{sub.subscriber_id} {address(sub)}：{problem}；已跳过其预警、汇总与日报"
        log.warning("alerts: %s", reason)
        ops.record_rejected([Rejected(source="alerts", stage="subscriber", reason=reason[:500],
                                      sample=f"mode={sub.mode} daily_at={sub.daily_at}", at=now)])
    ops.set_mark(sub.subscriber_id or 0, "problem", problem, now)


def _schedule_one(index: PostIndex, ops: OpsDB, settings: Settings, sub: Subscriber, now: datetime, end: datetime,
                  quiet: tuple[datetime, datetime] | None) -> int:
    """Queue this subscriber's hourly digest, quiet-hours digest or 日报 if one is due: the number queued (0 or 1).
    Each kind keeps the key of the last period it looked at as a digest mark (OpsDB.get_mark/set_mark); the
    outbox's dedup key makes a digest go out once even if two evaluations race."""
    sid = sub.subscriber_id or 0
    if sub.mode == "hourly":
        key = f"hourly:{sid}:{end:%Y%m%dT%H}"
        if ops.get_mark(sid, "hourly") == key:
            return 0  # this closed hour was already looked at
        queued = 0
        alerts = _active_in(ops, sub, end - timedelta(hours=1), end)
        if alerts:
            r = render_digest("舆情小时汇总", _period(end - timedelta(hours=1), end), alerts, end - timedelta(hours=1),
                              sub, settings)
            queued = int(bool(_enqueue(ops, sub, r, key, now, severity=_highest(alerts))))
        ops.set_mark(sid, "hourly", key, now)
        return queued
    if sub.mode == "immediate" and quiet and quiet[1] <= now < quiet[1] + timedelta(hours=12):
        key = f"quiet:{sid}:{quiet[1]:%Y%m%d}"
        if ops.get_mark(sid, "quiet") == key:
            return 0
        queued = 0
        alerts = _active_in(ops, sub, quiet[0], quiet[1], low_only=True)
        if alerts:
            r = render_digest("夜间低级别预警汇总", _period(quiet[0], quiet[1]), alerts, quiet[0], sub, settings)
            queued = int(bool(_enqueue(ops, sub, r, key, now, severity=_highest(alerts))))
        ops.set_mark(sid, "quiet", key, now)
        return queued
    if sub.mode == "daily":
        due = last_daily_time(sub, now)
        key = f"daily:{sid}:{local(due):%Y%m%d}"
        if ops.get_mark(sid, "daily") == key:
            return 0  # already queued: do not rebuild the report every minute
        data = daily_report(index, ops, settings, sub, due - timedelta(days=1), due)
        queued = int(bool(_enqueue(ops, sub, render_daily(data, sub, settings), key, now,
                                   ((CHART, "image/png", data["chart_png"]),))))
        ops.set_mark(sid, "daily", key, now)
        return queued
    return 0


def last_daily_time(sub: Subscriber, now: datetime) -> datetime:
    """The latest daily_at (Asia/Shanghai) at or before now."""
    at = time.fromisoformat(daily_time(sub.daily_at))
    today = datetime.combine(local(now).date(), at, SHANGHAI)
    return utc(today if today <= now else today - timedelta(days=1))


def _sub_query(sub: Subscriber, start: datetime, end: datetime) -> PostQuery:
    return PostQuery(since=start, until=end, operators=sub.operators, touchpoints=sub.touchpoints,
                     platforms=sub.platforms, provinces=tuple(r for r in sub.regions if r in PROVINCES),
                     cities=tuple(r for r in sub.regions if r not in PROVINCES))


def _events_in(index: PostIndex, sub: Subscriber, q: PostQuery, start: datetime, end: datetime,
               limit: int = 5) -> list:
    """The largest events seen within [start, end) that fit the subscriber: operators, touchpoints and city where
    the event carries them, and at least one of its posts in the window within the subscriber's filters."""
    out = []
    for e in index.list_events(since=start, limit=200):
        if not (e.last_seen >= start and e.first_seen < end):
            continue
        if (sub.operators and e.operators and not set(sub.operators) & set(e.operators)) or \
                (sub.touchpoints and e.touchpoints and not set(sub.touchpoints) & set(e.touchpoints)) or \
                (q.cities and e.city and not q.provinces and e.city not in q.cities):
            continue
        if index.count_posts(PostQuery(**{**q.__dict__, "event_id": e.event_id})):
            out.append(e)
            if len(out) == limit:
                break
    return out


def daily_report(index: PostIndex, ops: OpsDB, settings: Settings, sub: Subscriber, start: datetime,
                 end: datetime) -> dict:
    """The numbers of one day for one subscriber's filters, and the hourly chart as PNG bytes."""
    q = _sub_query(sub, start, end)
    neg = PostQuery(**{**q.__dict__, "labels": ("negative",)})
    total, negative = index.count_posts(q), index.count_posts(neg)
    prev = index.count_posts(PostQuery(**{**neg.__dict__, "since": start - timedelta(days=1), "until": start}))
    first = start.replace(minute=0, second=0, microsecond=0)  # the store buckets posts on the hour
    hours = [first + timedelta(hours=i) for i in range(-int((first - end).total_seconds() // 3600))]
    all_by_hour: dict[datetime, int] = {}
    neg_by_hour: dict[datetime, int] = {}
    for b in index.volume(q, bucket_seconds=3600, by="label"):
        all_by_hour[b.start] = all_by_hour.get(b.start, 0) + b.count
        if b.key == "negative":
            neg_by_hour[b.start] = neg_by_hour.get(b.start, 0) + b.count
    totals = [all_by_hour.get(h, 0) for h in hours]
    negatives = [neg_by_hour.get(h, 0) for h in hours]
    change = ("持平" if negative == prev else f"{'增加' if negative > prev else '减少'} {abs(negative - prev)} 条"
              + (f"，{(negative - prev) / prev:+.0%}" if prev else ""))
    alerts = _active_in(ops, sub, start, end)
    top = index.search_posts(neg, limit=5, order="influence_desc")
    filters = "；".join(f"{zh}：{'、'.join(getattr(sub, n))}" for n, zh in
                       (("operators", "运营商"), ("touchpoints", "触点"), ("regions", "地区"), ("platforms", "平台"))
                       if getattr(sub, n))
    return {
        "day": local(end).strftime("%Y-%m-%d"), "period": _period(start, end), "filters": filters,
        "total": total, "negative": negative, "prev_negative": prev, "change": change,
        "share": f"{negative / total:.0%}" if total else "0%",
        "by_operator": list(index.facet(neg, "operator", size=5).items()),
        "by_touchpoint": list(index.facet(neg, "touchpoint", size=6).items()),
        "keywords": list(index.facet(neg, "keyword", size=12)),
        "events": _events_in(index, sub, q, start, end),
        "alerts": alert_rows(alerts, settings, start), "samples": sample_rows(top),
        "hourly_text": " ".join(f"{local(h):%H}时{n}" for h, n in zip(hours, negatives, strict=True) if n) or "无",
        "chart_cid": CHART, "chart_png": bar_chart(totals, negatives),
    }
