"""What an alert's chart shows: the posts of its rule's own scope (from the rules file), not only its event.

Pure: the rules file is passed in as parsed YAML. The dashboard never imports alerts/, so the few rule fields
it needs (scope, window_minutes) are read here as data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from yuqing.index import PostQuery
from yuqing.records import Alert

from .labels import scope_text

SCOPE_FIELDS = ("operators", "platforms", "touchpoints", "regions")
DEFAULT_WINDOW = 60  # minutes, alerts.rules.Rule.default_window
COUNTS_NEGATIVE = frozenset({"volume_spike"})  # rule types whose 触发数量 is the negative posts in scope and window
EVENT_RULES = frozenset({"event_growth"})  # rule types whose 触发数量 is the posts of one event


@dataclass(frozen=True)
class AlertScope:
    chart: PostQuery  # posts drawn on the chart, every label
    caption: str  # what the chart shows, in Chinese
    window: PostQuery | None  # the negative posts the rule counted when the alert opened; None when not reproducible
    window_minutes: int


def rule_config(doc: Any, name: str) -> Mapping[str, Any] | None:
    """The rule called `name` in a parsed rules file, or None."""
    rules = doc.get("rules") if isinstance(doc, Mapping) else None
    for r in rules or ():
        if isinstance(r, Mapping) and str(r.get("name", "")) == name:
            return r
    return None


def _values(value: object) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else (str(value),)


def _scope(raw: object) -> dict[str, tuple[str, ...]]:
    """A scope mapping with plural field names (rules may write operator or operators)."""
    m = raw if isinstance(raw, Mapping) else {}
    out = {}
    for name in SCOPE_FIELDS:
        values = _values(m.get(name) or m.get(name[:-1]))
        if values:
            out[name] = values
    return out


def _query(scope: Mapping[str, tuple[str, ...]], provinces: frozenset[str], since: datetime, until: datetime,
           **extra: Any) -> PostQuery:
    regions = scope.get("regions", ())
    return PostQuery(since=since, until=until, operators=scope.get("operators", ()),
                     platforms=scope.get("platforms", ()), touchpoints=scope.get("touchpoints", ()),
                     provinces=tuple(r for r in regions if r in provinces),
                     cities=tuple(r for r in regions if r not in provinces), **extra)


def alert_scope(a: Alert, rule: Mapping[str, Any] | None, now: datetime, provinces: frozenset[str]) -> AlertScope:
    """The chart's query (24 h before the alert to now), and the query reproducing its count where one exists.

    With the rule in the rules file, its own scope is used (the alert's stored scope is widened by the posts that
    triggered it); without it, the alert's scope. An event rule's chart shows that event's posts."""
    scope = _scope(rule.get("scope")) if rule is not None else _scope(a.scope)
    minutes = int(rule.get("window_minutes") or DEFAULT_WINDOW) if rule is not None else DEFAULT_WINDOW
    since, until = a.opened_at - timedelta(hours=24), max(now, a.opened_at + timedelta(hours=1))
    where = scope_text(scope)
    if a.rule_type in EVENT_RULES and a.event_id:
        return AlertScope(_query({}, provinces, since, until, event_id=a.event_id),
                          "图表：该事件的帖子（触发数量为事件在规则窗口内新增的帖子）", None, minutes)
    window = None
    if rule is not None and a.rule_type in COUNTS_NEGATIVE:
        window = _query(scope, provinces, a.opened_at - timedelta(minutes=minutes), a.opened_at,
                        labels=("negative",))
    return AlertScope(_query(scope, provinces, since, until),
                      f"图表：规则范围（{where}）内的全部帖子，按小时；触发数量统计该范围近{minutes}分钟的帖子", window,
                      minutes)
