"""Alert lifecycle for people (dashboard, CLI): acknowledge, resolve, silence; each leaves an audit entry.

In the foundation so that the dashboard and the alerts app, which may not import each other, share one
implementation. Plain store operations: no rule evaluation, no email."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from yuqing.post import Alert, now_utc, utc
from yuqing.store.base import AuditEntry, Silence, Store


class LifecycleError(ValueError):
    """The alert does not exist or cannot make that move."""


def _get(store: Store, alert_id: int) -> Alert:
    alert = store.get_alert(alert_id)
    if alert is None:
        raise LifecycleError(f"预警 {alert_id} 不存在")
    return alert


def acknowledge(store: Store, alert_id: int, by: str, now: datetime | None = None, note: str = "") -> Alert:
    """open -> acknowledged (who, when). Acknowledging twice keeps the first acknowledgement."""
    now = utc(now or now_utc())
    alert = _get(store, alert_id)
    if alert.status == "resolved":
        raise LifecycleError(f"预警 {alert_id} 已解决，不能再确认")
    if alert.status == "acknowledged":
        return alert
    saved = store.save_alert(replace(alert, status="acknowledged", acknowledged_by=by, acknowledged_at=now,
                                     updated_at=now))
    store.add_audit(AuditEntry(at=now, actor=by, action="ack", target=f"alert:{alert_id}", detail=note))
    return saved


def resolve(store: Store, alert_id: int, by: str, note: str, now: datetime | None = None) -> Alert:
    """open/acknowledged -> resolved with a note; it reopens if the same fire flares again after the realert window."""
    now = utc(now or now_utc())
    if not note.strip():
        raise LifecycleError("请填写解决说明")
    alert = _get(store, alert_id)
    if alert.status == "resolved":
        raise LifecycleError(f"预警 {alert_id} 已解决")
    saved = store.save_alert(replace(alert, status="resolved", resolved_by=by, resolved_at=now,
                                     resolution_note=note.strip(), updated_at=now,
                                     acknowledged_by=alert.acknowledged_by or by,
                                     acknowledged_at=alert.acknowledged_at or now))
    store.add_audit(AuditEntry(at=now, actor=by, action="resolve", target=f"alert:{alert_id}", detail=note.strip()))
    return saved


def silence(store: Store, rule: str, key: str, until: datetime, by: str, reason: str = "",
            now: datetime | None = None) -> Silence:
    """Mute a rule (key "") or one key of it until a time; alerts are still recorded, no email is sent."""
    now = utc(now or now_utc())
    until = utc(until)
    if until <= now:
        raise LifecycleError("静默截止时间必须晚于现在")
    if not rule:
        raise LifecycleError("请指定规则名（或 * 表示所有规则）")
    s = Silence(rule=rule, key=key, until=until, by=by, reason=reason)
    store.add_silence(s)
    store.add_audit(AuditEntry(at=now, actor=by, action="silence", target=f"rule:{rule}" + (f":{key}" if key else ""),
                               detail=f"至 {until.isoformat()} {reason}".strip()))
    return s


def silence_alert(store: Store, alert_id: int, until: datetime, by: str, reason: str = "",
                  now: datetime | None = None) -> Silence:
    """Silence the (rule, key) of an existing alert; the alert's own audit trail records it too."""
    alert = _get(store, alert_id)
    s = silence(store, alert.rule, alert.key, until, by, reason, now)
    store.add_audit(AuditEntry(at=utc(now or now_utc()), actor=by, action="silence", target=f"alert:{alert_id}",
                               detail=f"至 {s.until.isoformat()} {reason}".strip()))
    return s
