"""Alerts, silences, subscribers and their digest marks in SQL (mixed into SqlOps)."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update

from yuqing.ops import tables as T
from yuqing.ops.engine import Transactions
from yuqing.ops.protocol import AlertChange
from yuqing.records import Alert, AuditEntry, Silence, Subscriber


def _found(result: Any, what: str, ident: Any) -> None:
    """Saving a record under an id the database never gave out is an error, not a silent no-op."""
    if result.rowcount == 0:
        raise KeyError(f"no {what} with id {ident}")


class AlertsMixin(Transactions):
    # ------------------------------------------------------------------ alerts
    def save_alert(self, alert: Alert) -> Alert:
        with self._write("save alert") as conn:
            return self._save_alert(conn, alert)

    @staticmethod
    def _save_alert(conn: Any, alert: Alert) -> Alert:
        row = T.to_row(alert, T.alerts)
        row.pop("alert_id")
        if alert.alert_id is None:
            new_id = conn.execute(insert(T.alerts).values(row).returning(T.alerts.c.alert_id)).scalar_one()
            return dataclasses.replace(alert, alert_id=new_id)
        _found(conn.execute(update(T.alerts).where(T.alerts.c.alert_id == alert.alert_id).values(row)), "alert",
               alert.alert_id)
        return alert

    def relink_alerts(self, event_ids: Sequence[str], to_event: str) -> int:
        ids = [e for e in event_ids if e and e != to_event]
        if not ids:
            return 0
        with self._write("relink alerts") as conn:
            return int(conn.execute(update(T.alerts).where(T.alerts.c.event_id.in_(ids))
                                    .values(event_id=to_event)).rowcount)

    def get_alert(self, alert_id: int) -> Alert | None:
        with self._tx() as conn:
            row = conn.execute(select(T.alerts).where(T.alerts.c.alert_id == alert_id)).first()
        return T.from_row(Alert, row) if row else None

    def find_alert(self, rule: str, key: str) -> Alert | None:
        q = (select(T.alerts).where(T.alerts.c.rule == rule, T.alerts.c.key == key)
             .order_by(T.alerts.c.alert_id.desc()).limit(1))
        with self._tx() as conn:
            row = conn.execute(q).first()
        return T.from_row(Alert, row) if row else None

    def list_alerts(self, *, statuses: tuple[str, ...] = (), since: datetime | None = None,
                    limit: int = 100) -> list[Alert]:
        touched = func.coalesce(T.alerts.c.updated_at, T.alerts.c.opened_at)
        q = select(T.alerts)
        if statuses:
            q = q.where(T.alerts.c.status.in_(statuses))
        if since is not None:
            q = q.where(touched >= since)
        q = q.order_by(touched.desc(), T.alerts.c.alert_id.desc()).limit(limit)
        with self._tx() as conn:
            return [T.from_row(Alert, r) for r in conn.execute(q)]

    def update_alert(self, alert_id: int, change: AlertChange) -> Alert:
        with self._write("update alert") as conn:
            row = conn.execute(select(T.alerts).where(T.alerts.c.alert_id == alert_id).with_for_update()).first()
            if row is None:
                raise KeyError(f"no alert with id {alert_id}")
            alert, entries = change(T.from_row(Alert, row))
            saved = self._save_alert(conn, dataclasses.replace(alert, alert_id=alert_id))
            T.insert_audit(conn, entries)
        return saved

    def add_silence(self, silence: Silence) -> None:
        with self._write("add silence") as conn:
            conn.execute(insert(T.silences).values(T.to_row(silence, T.silences)))

    def active_silences(self, now: datetime) -> list[Silence]:
        q = select(T.silences).where(T.silences.c.until > now).order_by(T.silences.c.until, T.silences.c.id)
        with self._tx() as conn:
            return [T.from_row(Silence, r) for r in conn.execute(q)]

    # ------------------------------------------------------------------ subscribers
    def save_subscriber(self, sub: Subscriber) -> Subscriber:
        if not sub.token:
            sub = dataclasses.replace(sub, token=secrets.token_urlsafe(24))
        row = T.to_row(sub, T.subscribers)
        row.pop("subscriber_id")
        with self._write("save subscriber") as conn:
            if sub.subscriber_id is None:
                new_id = conn.execute(insert(T.subscribers).values(row).returning(T.subscribers.c.subscriber_id))
                return dataclasses.replace(sub, subscriber_id=new_id.scalar_one())
            _found(conn.execute(update(T.subscribers).where(T.subscribers.c.subscriber_id == sub.subscriber_id)
                                .values(row)), "subscriber", sub.subscriber_id)
        return sub

    def get_subscriber(self, subscriber_id: int) -> Subscriber | None:
        with self._tx() as conn:
            row = conn.execute(select(T.subscribers).where(T.subscribers.c.subscriber_id == subscriber_id)).first()
        return T.from_row(Subscriber, row) if row else None

    def list_subscribers(self, *, active_only: bool = False) -> list[Subscriber]:
        q = select(T.subscribers).order_by(T.subscribers.c.subscriber_id)
        if active_only:
            q = q.where(T.subscribers.c.active.is_(True))
        with self._tx() as conn:
            return [T.from_row(Subscriber, r) for r in conn.execute(q)]

    def delete_subscriber(self, subscriber_id: int) -> None:
        with self._write("delete subscriber") as conn:
            conn.execute(delete(T.digest_marks).where(T.digest_marks.c.subscriber_id == subscriber_id))
            conn.execute(delete(T.subscribers).where(T.subscribers.c.subscriber_id == subscriber_id))

    def unsubscribe(self, token: str) -> bool:
        if not token:
            return False
        with self._write("unsubscribe") as conn:
            done = conn.execute(update(T.subscribers).where(T.subscribers.c.token == token).values(active=False))
        return bool(done.rowcount)

    def get_mark(self, subscriber_id: int, kind: str) -> str:
        q = select(T.digest_marks.c.value).where(T.digest_marks.c.subscriber_id == subscriber_id,
                                                 T.digest_marks.c.kind == kind)
        with self._tx() as conn:
            return conn.execute(q).scalar() or ""

    def set_mark(self, subscriber_id: int, kind: str, value: str, now: datetime) -> None:
        stmt = self._insert(T.digest_marks).values(subscriber_id=subscriber_id, kind=kind, value=value, updated_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=["subscriber_id", "kind"],
                                          set_={"value": value, "updated_at": now})
        with self._write("set digest mark") as conn:
            if conn.execute(select(T.subscribers.c.subscriber_id).where(
                    and_(T.subscribers.c.subscriber_id == subscriber_id))).first() is not None:
                conn.execute(stmt)

    # ------------------------------------------------------------------ audit
    def add_audit(self, entry: AuditEntry) -> None:
        with self._write("add audit") as conn:
            T.insert_audit(conn, [entry])

    def list_audit(self, *, target: str = "", limit: int = 200) -> list[AuditEntry]:
        q = select(T.audit).order_by(T.audit.c.id.desc()).limit(limit)
        if target:
            q = q.where(T.audit.c.target == target)
        with self._tx() as conn:
            return [T.from_row(AuditEntry, r) for r in conn.execute(q)]
