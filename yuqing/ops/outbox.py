"""The outbox in SQL (mixed into SqlOps): a message is stored before it is sent, claimed by one deliverer at a
time with a row lock (FOR UPDATE SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite), and marked sent once.

Generic for every channel: `channel` says how it goes out ("email" or a configured chat channel), `recipients`
and a JSON `payload` what. The claimer's "host:pid" is recorded, so a restart on the same host takes back a dead
process's messages at once instead of waiting out the lease.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update

from yuqing.ops import tables as T
from yuqing.ops.engine import Transactions, holder_is_dead
from yuqing.ops.protocol import MESSAGE_LEASE
from yuqing.records import OutboxMessage, now_utc

OB = T.outbox


def _payload(msg: OutboxMessage) -> dict[str, Any]:
    return {"text": msg.text, "html": msg.html,
            "attachments": [[n, t, base64.b64encode(b).decode("ascii")] for n, t, b in msg.attachments],
            **({"link": msg.link} if msg.link else {}), **({"mentions": list(msg.mentions)} if msg.mentions else {})}


def message_from_row(row: Any) -> OutboxMessage:
    r = row._mapping
    payload = r["payload"] or {}
    return OutboxMessage(
        to=tuple(r["recipients"]), subject=r["subject"], text=payload.get("text", ""), html=payload.get("html", ""),
        dedup_key=r["dedup_key"] or "", channel=r["channel"],
        attachments=tuple((n, t, base64.b64decode(b)) for n, t, b in payload.get("attachments", [])),
        created_at=r["created_at"], attempts=r["attempts"], next_attempt_at=r["next_attempt_at"],
        sent_at=r["sent_at"], last_error=r["last_error"], owner=r["owner"], message_id=r["message_id"],
        link=payload.get("link", ""), mentions=tuple(payload.get("mentions", ())))


def _due(now: datetime, channel: str) -> Any:
    cond = and_(OB.c.sent_at.is_(None), OB.c.next_attempt_at <= now)
    return and_(cond, OB.c.channel == channel) if channel else cond


class OutboxMixin(Transactions):
    def enqueue(self, msg: OutboxMessage) -> int | None:
        created = msg.created_at or now_utc()
        row = {"channel": msg.channel, "dedup_key": msg.dedup_key or None, "recipients": list(msg.to),
               "subject": msg.subject, "payload": _payload(msg), "created_at": created,
               "next_attempt_at": msg.next_attempt_at or created, "attempts": 0, "last_error": "", "owner": ""}
        stmt = self._insert(OB).values(row).on_conflict_do_nothing(index_elements=["dedup_key"]).returning(OB.c.message_id)
        with self._write("enqueue") as conn:
            return conn.execute(stmt).scalar()

    def due_messages(self, now: datetime, *, limit: int = 50, channel: str = "") -> list[OutboxMessage]:
        q = select(OB).where(_due(now, channel)).order_by(OB.c.message_id).limit(limit)
        with self._tx() as conn:
            return [message_from_row(r) for r in conn.execute(q)]

    def claim_messages(self, now: datetime, owner: str, *, limit: int = 50, lease: timedelta = MESSAGE_LEASE,
                       channel: str = "") -> list[OutboxMessage]:
        self._release_dead(now)
        with self._write("claim messages") as conn:
            picked = select(OB.c.message_id).where(_due(now, channel)).order_by(OB.c.message_id).limit(limit)
            if self.postgres:
                picked = picked.with_for_update(skip_locked=True)
            ids = [r[0] for r in conn.execute(picked)]
            if not ids:
                return []
            rows = conn.execute(update(OB).where(OB.c.message_id.in_(ids))
                                .values(owner=owner, next_attempt_at=now + lease).returning(OB)).all()
        # returned with the values seen before the lease (the attempts so far, due now)
        return sorted((message_from_row(r) for r in rows), key=lambda m: m.message_id or 0)

    def _release_dead(self, now: datetime) -> None:
        """Messages leased by processes of this host that are gone are due again."""
        q = select(OB.c.owner).distinct().where(OB.c.sent_at.is_(None), OB.c.owner != "", OB.c.next_attempt_at > now)
        with self._tx() as conn:
            dead = [o for (o,) in conn.execute(q) if holder_is_dead(o)]
        if dead:
            with self._write("release dead leases") as conn:
                conn.execute(update(OB).where(OB.c.owner.in_(dead), OB.c.sent_at.is_(None))
                             .values(owner="", next_attempt_at=now))

    def mark_sent(self, message_id: int, at: datetime) -> None:
        with self._write("mark sent") as conn:
            conn.execute(update(OB).where(OB.c.message_id == message_id, OB.c.sent_at.is_(None))
                         .values(sent_at=at, attempts=OB.c.attempts + 1, last_error="", owner=""))

    def mark_failed(self, message_id: int, error: str, next_attempt_at: datetime) -> None:
        with self._write("mark failed") as conn:
            conn.execute(update(OB).where(OB.c.message_id == message_id)
                         .values(attempts=OB.c.attempts + 1, last_error=error[:2000], next_attempt_at=next_attempt_at,
                                 owner=""))

    def count_sent(self, channel: str, since: datetime) -> int:
        q = select(func.count()).select_from(OB).where(OB.c.channel == channel, OB.c.sent_at >= since)
        with self._tx() as conn:
            return int(conn.execute(q).scalar_one())

    def list_outbox(self, *, limit: int = 100) -> list[OutboxMessage]:
        with self._tx() as conn:
            return [message_from_row(r) for r in conn.execute(select(OB).order_by(OB.c.message_id.desc()).limit(limit))]
