"""Who wants which alert: subscriber filters, quiet hours, descriptions. Adding, changing and removing subscribers
is yuqing.ops.subscribers (shared with the dashboard)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta

from yuqing.ops.subscribers import daily_time, mentions_text
from yuqing.records import Alert, Subscriber
from yuqing.timefmt import SHANGHAI
from yuqing.vocab import SEVERITY_ZH, severity_rank

LOW = ("blue", "yellow")  # held back in quiet hours and sent in the morning digest


def _overlaps(wanted: tuple[str, ...], have: Iterable[str]) -> bool:
    """Empty filter = everything; an alert without that dimension (e.g. a source flatline) matches any filter."""
    have = tuple(have)
    return not wanted or not have or bool(set(wanted) & set(have))


def wants(sub: Subscriber, alert: Alert) -> bool:
    """Whether this subscriber's filters (severity, rules, operators, touchpoints, regions, platforms) take the alert."""
    if not sub.active or severity_rank(alert.severity) < severity_rank(sub.min_severity):
        return False
    if sub.rules and alert.rule not in sub.rules and alert.rule_type not in sub.rules:
        return False
    scope = alert.scope or {}
    return all(_overlaps(getattr(sub, name), scope.get(name, ()))
               for name in ("operators", "touchpoints", "regions", "platforms"))


def mentions_for(sub: Subscriber, severity: str) -> tuple[str, ...]:
    """Who a chat subscription's robot @s in a message of this severity: its mentions when the severity is at
    least its mention_min_severity (default orange: red and orange mention, yellow and blue do not), else none."""
    if sub.channel == "email" or severity_rank(severity) < severity_rank(sub.mention_min_severity):
        return ()
    return sub.mentions


def quiet_period(spec: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The quiet period ("23:00-07:00", Asia/Shanghai) that contains `now` or ended most recently; None if unset."""
    if not spec:
        return None
    a, b = (time.fromisoformat(p.strip()) for p in spec.split("-"))
    local = now.astimezone(SHANGHAI)
    for days_back in (0, 1, 2):
        day = local.date() - timedelta(days=days_back)
        start = datetime.combine(day, a, SHANGHAI)
        end = datetime.combine(day + timedelta(days=1) if b <= a else day, b, SHANGHAI)
        if start <= local:
            return start, end
    return None


def in_quiet_hours(spec: str, now: datetime) -> bool:
    period = quiet_period(spec, now)
    return period is not None and period[0] <= now < period[1]


def schedule_problem(sub: Subscriber) -> str:
    """Why this subscriber's digests cannot be scheduled ("" when they can): a stored 日报 time that is not HH:MM."""
    if sub.mode != "daily":
        return ""
    try:
        daily_time(sub.daily_at)
    except ValueError as exc:
        return str(exc)
    return ""


def address(sub: Subscriber) -> str:
    """Where a subscriber's messages go: the email address, or the chat channel's name."""
    return sub.email if sub.channel == "email" else f"{sub.channel}（{CHANNEL_KIND}）"


CHANNEL_KIND = "群机器人渠道"


def channel_problem(sub: Subscriber, settings: object) -> str:
    """Why a subscriber's channel cannot be used ("" when it can): a chat channel no longer configured."""
    if sub.channel == "email" or any(c.name == sub.channel for c in getattr(settings, "channels", ())):
        return ""
    return f"渠道 {sub.channel} 未在配置文件中定义（[channels.{sub.channel}]）"


def describe(sub: Subscriber) -> str:
    parts = [f"最低{SEVERITY_ZH[sub.min_severity]}", {"immediate": "即时", "hourly": "每小时汇总", "daily": f"日报 {sub.daily_at}"}[sub.mode]]
    for name, zh in (("operators", "运营商"), ("touchpoints", "触点"), ("regions", "地区"), ("platforms", "平台"),
                     ("rules", "规则")):
        values = getattr(sub, name)
        if values:
            parts.append(f"{zh}={'、'.join(values)}")
    if sub.mentions:
        parts.append(mentions_text(sub))
    return "，".join(parts)

