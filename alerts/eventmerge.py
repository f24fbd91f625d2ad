"""Events that concurrent crawls told apart, merged before the rules run, so one outage is one alert.

Each crawl process groups its own posts into events; when Weibo, Tieba and Zhidao are crawled at the same moment,
one outage becomes three events and its alerts no longer fold by event. The alert job runs alone (its lease),
so it merges them: the alerts are pointed at the surviving event first, then the index moves the posts; a run that
stops half way is finished by the next one.

Two alerts may already be open on the events merged (a rule fired on each part before the merge); after the
relink they share one event, and the event's later alert is folded into its first: resolved by the system with
"并入预警 #N", the first keeping the higher severity. Nobody is notified again for the fold."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

from sentiment.events import consolidate
from yuqing.errors import StoreError
from yuqing.index import PostIndex
from yuqing.ops import OpsDB
from yuqing.records import Alert, AuditEntry
from yuqing.vocab import ACTIVE_ALERT_STATUSES, severity_rank

log = logging.getLogger(__name__)
MEMORY = timedelta(days=3)  # events still growing (as yuqing.ingest.EVENT_MEMORY)
LIMIT = 2000


def merge_split_events(index: PostIndex, ops: OpsDB, now: datetime) -> int:
    """Merge the recent events that are one; the number of events absorbed. A store that is down merges nothing
    now (logged); the rules still run on the events as they are."""
    try:
        events = index.list_events(since=now - MEMORY, limit=LIMIT, order="last_seen_desc")
        absorbed = 0
        for survivor, others in consolidate(events):
            ops.relink_alerts(others, survivor.event_id)
            moved = index.merge_events(survivor, others)
            absorbed += len(others)
            log.info("events %s merged into %s (%s, %d posts moved)", ", ".join(others), survivor.event_id,
                     survivor.title, moved)
        fold_alerts(ops, now)
        return absorbed
    except StoreError as exc:
        log.warning("split events not merged this run: %s", exc)
        return 0


def fold_alerts(ops: OpsDB, now: datetime) -> list[tuple[int, int]]:
    """Fold every active alert that shares its event with an earlier active alert into that one; the
    (folded, into) pairs. Each side is one locked update with its audit entry (OpsDB.update_alert)."""
    by_event: dict[str, list[Alert]] = defaultdict(list)
    for alert in ops.list_alerts(statuses=ACTIVE_ALERT_STATUSES, since=now - MEMORY, limit=LIMIT):
        if alert.event_id and alert.alert_id is not None:
            by_event[alert.event_id].append(alert)
    folded = []
    for alerts in by_event.values():
        if len(alerts) < 2:
            continue
        first, *later = sorted(alerts, key=lambda a: (a.opened_at, a.alert_id))
        for alert in later:
            try:
                _fold(ops, alert, first, now)
            except KeyError:  # deleted meanwhile
                continue
            folded.append((alert.alert_id, first.alert_id))
            log.info("alert #%s folded into #%s (same event %s)", alert.alert_id, first.alert_id, first.event_id)
    return folded


def _fold(ops: OpsDB, alert: Alert, into: Alert, now: datetime) -> None:
    note = f"并入预警 #{into.alert_id}（同一事件）"

    def close(a: Alert) -> tuple[Alert, list[AuditEntry]]:
        if a.status not in ACTIVE_ALERT_STATUSES:
            return a, []
        return (replace(a, status="resolved", resolved_by="system", resolved_at=now, resolution_note=note,
                        updated_at=now),
                [AuditEntry(at=now, actor="system", action="merge", target=f"alert:{a.alert_id}", detail=note)])

    def absorb(a: Alert) -> tuple[Alert, list[AuditEntry]]:
        higher = severity_rank(alert.severity) > severity_rank(a.severity)
        merged = replace(a, severity=alert.severity if higher else a.severity, count=max(a.count, alert.count),
                         updated_at=now)
        return merged, [AuditEntry(at=now, actor="system", action="merge", target=f"alert:{a.alert_id}",
                                   detail=f"预警 #{alert.alert_id}（{alert.title}）并入本预警")]

    ops.update_alert(alert.alert_id, close)  # type: ignore[arg-type]
    ops.update_alert(into.alert_id, absorb)  # type: ignore[arg-type]
