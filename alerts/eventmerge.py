"""Events that concurrent crawls told apart, merged before the rules run, so one outage is one alert.

Each crawl process groups its own posts into events; when Weibo, Tieba and Zhidao are crawled at the same moment,
one outage becomes three events and its alerts no longer fold by event. The alert job runs alone (its lease),
so it merges them: the alerts are pointed at the surviving event first, then the index moves the posts; a run that
stops half way is finished by the next one."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sentiment.events import consolidate
from yuqing.errors import StoreError
from yuqing.index import PostIndex
from yuqing.ops import OpsDB

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
        return absorbed
    except StoreError as exc:
        log.warning("split events not merged this run: %s", exc)
        return 0
