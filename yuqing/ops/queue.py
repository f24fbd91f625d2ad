"""The reply queue's state machine: new -> assigned -> replied -> resolved | ignored (and reopen).

`transition` is pure (the move, the new case, the audit detail); `act` applies it in one OpsDB transaction
with the case's row locked (OpsDB.update_case), so two responders acting at once never lose a move or an
audit entry. The dashboard calls it; which posts become cases is the dashboard's triage.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from yuqing.ops.protocol import OpsDB
from yuqing.records import AuditEntry, Case, utc

ACTIONS = ("claim", "assign", "reply", "resolve", "ignore", "reopen")


class QueueError(ValueError):
    """The move is not possible (unknown case, missing assignee or reply); the message is Chinese."""


def transition(c: Case, action: str, actor: str, now: datetime, *, assignee: str = "", reply_text: str = "",
               reply_url: str = "", note: str = "") -> tuple[Case, str]:
    """The case after `action` by `actor`, and the audit detail."""
    if action == "claim":
        return dataclasses.replace(c, status="assigned" if c.status == "new" else c.status, assignee=actor), actor
    if action == "assign":
        if not assignee:
            raise QueueError("请选择处理人")
        return dataclasses.replace(c, status="assigned" if c.status == "new" else c.status, assignee=assignee), assignee
    if action == "reply":
        if not reply_text.strip() and not reply_url.strip():
            raise QueueError("请填写回复内容或回复链接")
        replied = dataclasses.replace(c, status="replied", reply_text=reply_text.strip(), reply_url=reply_url.strip(),
                                      assignee=c.assignee or actor, first_reply_at=c.first_reply_at or now)
        return replied, reply_url.strip() or reply_text.strip()[:200]
    if action in ("resolve", "ignore"):
        return dataclasses.replace(c, status="resolved" if action == "resolve" else "ignored"), note
    if action == "reopen":
        return dataclasses.replace(c, status="assigned" if c.assignee else "new"), note
    raise QueueError(f"unknown case action {action!r}")


def act(ops: OpsDB, case_id: int, action: str, actor: str, now: datetime, **details: str) -> Case:
    """Apply one move to a case and record it in the audit trail, atomically."""
    now = utc(now)

    def change(c: Case) -> tuple[Case, list[AuditEntry]]:
        moved, detail = transition(c, action, actor, now, **details)
        return (dataclasses.replace(moved, updated_at=now),
                [AuditEntry(at=now, actor=actor, action=action, target=f"case:{case_id}", detail=detail)])

    try:
        return ops.update_case(case_id, change)
    except KeyError:
        raise QueueError(f"工单 {case_id} 不存在") from None
