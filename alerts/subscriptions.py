"""Who wants which alert: subscriber filters, quiet hours, and adding or removing subscribers."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, time, timedelta

from alerts.window import severity_rank
from yuqing.post import SEVERITY_ZH, Alert, Subscriber
from yuqing.store.base import Store
from yuqing.timefmt import SHANGHAI

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


def subscribe(store: Store, email: str, **fields: object) -> Subscriber:
    """Add a subscriber, or update (and reactivate) the one with this address."""
    fields = {k: v for k, v in fields.items() if v is not None}
    for existing in store.list_subscribers():
        if existing.email.lower() == email.lower():
            return store.save_subscriber(dataclasses.replace(existing, active=True, **fields))  # type: ignore[arg-type]
    return store.save_subscriber(Subscriber(email=email, **fields))  # type: ignore[arg-type]


def unsubscribe(store: Store, email_or_token: str) -> bool:
    """Deactivate by unsubscribe token or by address; False when nobody matched."""
    if "@" not in email_or_token:
        return store.unsubscribe(email_or_token)
    found = False
    for sub in store.list_subscribers(active_only=True):
        if sub.email.lower() == email_or_token.lower():
            store.save_subscriber(dataclasses.replace(sub, active=False))
            found = True
    return found


def describe(sub: Subscriber) -> str:
    parts = [f"最低{SEVERITY_ZH[sub.min_severity]}", {"immediate": "即时", "hourly": "每小时汇总", "daily": f"日报 {sub.daily_at}"}[sub.mode]]
    for name, zh in (("operators", "运营商"), ("touchpoints", "触点"), ("regions", "地区"), ("platforms", "平台"),
                     ("rules", "规则")):
        values = getattr(sub, name)
        if values:
            parts.append(f"{zh}={'、'.join(values)}")
    return "，".join(parts)

