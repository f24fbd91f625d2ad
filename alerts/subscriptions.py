"""Who wants which alert: subscriber filters, quiet hours, and adding or removing subscribers."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from datetime import datetime, time, timedelta

from alerts import catalog
from alerts.catalog import PLATFORM_ZH, CatalogError
from alerts.window import severity_rank
from yuqing.config import Settings
from yuqing.post import SEVERITY_ZH, Alert, Subscriber
from yuqing.store.base import Store
from yuqing.timefmt import SHANGHAI

LOW = ("blue", "yellow")  # held back in quiet hours and sent in the morning digest
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
DAILY_AT = re.compile(r"(\d{1,2}):(\d{2})")


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


def check_email(address: str) -> str:
    """The address stripped; ValueError (one Chinese line) when it is not name@domain."""
    address = address.strip()
    if not EMAIL.fullmatch(address):
        raise ValueError(f"不是有效的邮箱地址：{address or '（空）'}")
    return address


def daily_time(value: str) -> str:
    """A 日报 time "HH:MM" from 00:00 to 23:59 (Asia/Shanghai), hours zero-padded; ValueError otherwise."""
    m = DAILY_AT.fullmatch(value.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"日报时间 {value or '（空）'} 无效（应为 HH:MM，00:00 至 23:59）")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def schedule_problem(sub: Subscriber) -> str:
    """Why this subscriber's digests cannot be scheduled ("" when they can): a stored 日报 time that is not HH:MM."""
    if sub.mode != "daily":
        return ""
    try:
        daily_time(sub.daily_at)
    except ValueError as exc:
        return str(exc)
    return ""


def _known(values: tuple[str, ...], what: str, known: Callable[[], tuple[str, ...]],
           shown: Callable[[str], str] = str, also: str = "") -> str:
    """"" when every value is known, else the problem naming the unknown ones and listing the valid ones."""
    if not values:
        return ""
    try:
        names = known()
    except CatalogError as exc:
        return str(exc)
    bad = [v for v in values if v not in names]
    return f"未知{what} {'、'.join(bad)}（可选：{'、'.join(shown(n) for n in names)}{also}）" if bad else ""


def check_subscriber(sub: Subscriber, settings: Settings) -> Subscriber:
    """The subscriber with its 日报 time and platform names normalised; ValueError (one Chinese line) naming every
    unknown platform, operator, touchpoint or rule with the valid values, or a 日报 time that is not HH:MM."""
    problems: list[str] = []
    changes: dict[str, object] = {}
    try:
        changes["daily_at"] = daily_time(sub.daily_at)
    except ValueError as exc:
        problems.append(str(exc))
    by_zh = {zh: code for code, zh in PLATFORM_ZH.items()}
    platforms = tuple(dict.fromkeys(by_zh.get(p, p.lower()) for p in sub.platforms))
    changes["platforms"] = platforms
    problems.append(_known(platforms, "平台", lambda: catalog.platforms(settings),
                           lambda n: f"{n}（{PLATFORM_ZH[n]}）" if n in PLATFORM_ZH else n))
    if sub.operators:
        problems.append(_known(sub.operators, "运营商", lambda: catalog.operators(settings)))
    if sub.touchpoints:
        problems.append(_known(sub.touchpoints, "触点", lambda: catalog.touchpoints(settings)))
    if sub.rules:
        types = catalog.rule_types()
        problems.append(_known(tuple(r for r in sub.rules if r not in types), "规则", lambda: catalog.rule_names(settings),
                               also=f"；或规则类型：{'、'.join(types)}"))
    problems = [p for p in problems if p]
    if problems:
        raise ValueError("；".join(problems))
    return dataclasses.replace(sub, **changes)  # type: ignore[arg-type]


def subscribe(store: Store, settings: Settings, email: str, **fields: object) -> Subscriber:
    """Add a subscriber, or update (and reactivate) the one with this address, after check_subscriber."""
    email = check_email(email)
    fields = {k: v for k, v in fields.items() if v is not None}
    existing = next((s for s in store.list_subscribers() if s.email.lower() == email.lower()), None)
    if existing is not None:
        sub = dataclasses.replace(existing, active=True, **fields)  # type: ignore[arg-type]
    else:
        sub = Subscriber(email=email, **fields)  # type: ignore[arg-type]
    return store.save_subscriber(check_subscriber(sub, settings))


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

