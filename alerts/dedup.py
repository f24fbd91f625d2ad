"""Noise control, pure: what a match does to the alert already on file for its (rule, key) or event."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from alerts.window import Match
from yuqing.records import Alert, Silence
from yuqing.timefmt import local_str
from yuqing.vocab import severity_rank

ACTIONS = ("new", "raise", "reopen", "update", "suppressed")
MERGED = "；同一事件另有【"  # before another rule's reason added to an alert it raised


@dataclass(frozen=True)
class Decision:
    """new / raise / reopen notify (unless silenced); update refreshes the alert quietly; suppressed saves nothing."""

    action: str
    alert: Alert
    match: Match
    notify: bool
    silenced: bool = False
    why: str = ""


def is_silenced(match: Match, silences: list[Silence], now: datetime) -> Silence | None:
    """The silence covering this match: same rule (or "*"), and the same key or the whole rule."""
    for s in silences:
        if s.until > now and s.rule in (match.rule, "*", "") and s.key in ("", match.key):
            return s
    return None


def new_alert(match: Match, now: datetime) -> Alert:
    return Alert(rule=match.rule, key=match.key, severity=match.severity, title=match.title, reason=match.reason,
                 opened_at=now, updated_at=now, rule_type=match.rule_type, scope=dict(match.scope), count=match.count,
                 baseline=match.baseline, keywords=match.keywords, sample_keys=match.sample_keys,
                 event_id=match.event_id)


def _refreshed(alert: Alert, match: Match, now: datetime, takes_over: bool = False) -> Alert:
    """The alert with the match's latest numbers; severity never goes down while it is active. A match of another
    rule on the same event names the alert (title, scope, rule, samples, numbers) only when it `takes_over`
    (more specific); otherwise it can only raise the severity, its reason added to the alert's own."""
    severity = max(alert.severity, match.severity, key=severity_rank)
    if (alert.rule, alert.key) != (match.rule, match.key) and not takes_over:  # merged from a broader rule
        if severity_rank(match.severity) <= severity_rank(alert.severity):
            return replace(alert, updated_at=now)
        own = alert.reason.split(MERGED)[0]
        return replace(alert, severity=severity, updated_at=now, reason=f"{own}{MERGED}{match.rule}】{match.reason}")
    return replace(alert, rule=match.rule, key=match.key, rule_type=match.rule_type, severity=severity,
                   title=match.title, reason=match.reason, updated_at=now, count=match.count, baseline=match.baseline,
                   keywords=match.keywords or alert.keywords, sample_keys=match.sample_keys or alert.sample_keys,
                   scope=dict(match.scope) or alert.scope, event_id=match.event_id or alert.event_id)


def decide(match: Match, existing: Alert | None, now: datetime, realert: timedelta, silenced: bool = False, *,
           takes_over: bool = False) -> Decision:
    """One alert per (rule, key) or event: a new fire opens one, growth raises it, a resolved one reopens when the
    fire flares again after the realert window (or at a higher severity); anything else is a quiet update.
    `takes_over`: the match is more specific than the event's alert, so it names the alert from now on."""
    if existing is None:
        return Decision("new", new_alert(match, now), match, notify=not silenced, silenced=silenced, why="新预警")
    higher = severity_rank(match.severity) > severity_rank(existing.severity)
    if existing.status == "resolved":
        resolved_at = existing.resolved_at or existing.updated_at or existing.opened_at
        if now - resolved_at < realert and not higher:
            return Decision("suppressed", existing, match, notify=False, silenced=silenced,
                            why=f"已于 {local_str(resolved_at, '%H:%M')} 解决，{int(realert.total_seconds() // 60)} 分钟内不再提醒")
        alert = replace(_refreshed(existing, match, now, takes_over), status="open", severity=match.severity,
                        reopened=existing.reopened + 1, acknowledged_by="", acknowledged_at=None)
        return Decision("reopen", alert, match, notify=not silenced, silenced=silenced, why="已解决的预警再次出现")
    alert = _refreshed(existing, match, now, takes_over)
    if higher:
        return Decision("raise", alert, match, notify=not silenced, silenced=silenced,
                        why=f"级别由 {existing.severity} 升为 {alert.severity}")
    return Decision("update", alert, match, notify=False, silenced=silenced, why="同一预警持续中，不重复提醒")
