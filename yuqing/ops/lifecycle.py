"""Alert lifecycle for people (dashboard, CLI): acknowledge, resolve, silence; each leaves an audit entry.

Beside the OpsDB so that the dashboard and the alerts app, which may not import each other, share one
implementation. Each move is one OpsDB transaction with the alert's row locked (OpsDB.update_alert): two
people acknowledging at once leave one acknowledgement. No rule evaluation, no email."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from yuqing.ops.protocol import OpsDB
from yuqing.records import Alert, AuditEntry, Silence, now_utc, utc


class LifecycleError(ValueError):
    """The alert does not exist or cannot make that move."""


class NoSuchAlert(LifecycleError):
    """The alert named does not exist (the CLI's usage-level exit 2, like any other unknown name)."""


def _update(ops: OpsDB, alert_id: int, change: object) -> Alert:
    try:
        return ops.update_alert(alert_id, change)  # type: ignore[arg-type]
    except KeyError:
        raise NoSuchAlert(f"预警 {alert_id} 不存在") from None


def acknowledge(ops: OpsDB, alert_id: int, by: str, now: datetime | None = None, note: str = "") -> Alert:
    """open -> acknowledged (who, when). Acknowledging twice keeps the first acknowledgement."""
    now = utc(now or now_utc())

    def change(alert: Alert) -> tuple[Alert, list[AuditEntry]]:
        if alert.status == "resolved":
            raise LifecycleError(f"预警 {alert_id} 已解决，不能再确认")
        if alert.status == "acknowledged":
            return alert, []
        return (replace(alert, status="acknowledged", acknowledged_by=by, acknowledged_at=now, updated_at=now),
                [AuditEntry(at=now, actor=by, action="ack", target=f"alert:{alert_id}", detail=note)])

    return _update(ops, alert_id, change)


def resolve(ops: OpsDB, alert_id: int, by: str, note: str, now: datetime | None = None) -> Alert:
    """open/acknowledged -> resolved with a note; it reopens if the same fire flares again after the realert window."""
    now = utc(now or now_utc())
    if not note.strip():
        raise LifecycleError("请填写解决说明")

    def change(alert: Alert) -> tuple[Alert, list[AuditEntry]]:
        if alert.status == "resolved":
            raise LifecycleError(f"预警 {alert_id} 已解决")
        return (replace(alert, status="resolved", resolved_by=by, resolved_at=now, resolution_note=note.strip(),
                        updated_at=now, acknowledged_by=alert.acknowledged_by or by,
                        acknowledged_at=alert.acknowledged_at or now),
                [AuditEntry(at=now, actor=by, action="resolve", target=f"alert:{alert_id}", detail=note.strip())])

    return _update(ops, alert_id, change)


def silence(ops: OpsDB, rule: str, key: str, until: datetime, by: str, reason: str = "",
            now: datetime | None = None) -> Silence:
    """Mute a rule (key "") or one key of it until a time; alerts are still recorded, no email is sent."""
    now = utc(now or now_utc())
    until = utc(until)
    if until <= now:
        raise LifecycleError("静默截止时间必须晚于现在")
    if not rule:
        raise LifecycleError("请指定规则名（或 * 表示所有规则）")
    s = Silence(rule=rule, key=key, until=until, by=by, reason=reason)
    ops.add_silence(s)
    ops.add_audit(AuditEntry(at=now, actor=by, action="silence", target=f"rule:{rule}" + (f":{key}" if key else ""),
                             detail=f"至 {until.isoformat()} {reason}".strip()))
    return s


def silence_alert(ops: OpsDB, alert_id: int, until: datetime, by: str, reason: str = "",
                  now: datetime | None = None) -> Silence:
    """Silence the (rule, key) of an existing alert; the alert's own audit trail records it too."""
    alert = ops.get_alert(alert_id)
    if alert is None:
        raise NoSuchAlert(f"预警 {alert_id} 不存在")
    s = silence(ops, alert.rule, alert.key, until, by, reason, now)
    ops.add_audit(AuditEntry(at=utc(now or now_utc()), actor=by, action="silence", target=f"alert:{alert_id}",
                             detail=f"至 {s.until.isoformat()} {reason}".strip()))
    return s
