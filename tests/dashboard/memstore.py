"""An in-memory Store for dashboard tests that need no SQLite: filtering done in Python, same protocol."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import datetime

from yuqing.post import Alert, Analysis, Case, Event, Post, StoredPost, Subscriber, User
from yuqing.store.base import AuditEntry, Bucket, PostQuery, Silence, WriteResult


class MemStore:
    def __init__(self) -> None:
        self.posts: dict[str, StoredPost] = {}
        self.events: dict[str, Event] = {}
        self.alerts: dict[int, Alert] = {}
        self.cases: dict[int, Case] = {}
        self.audit: list[AuditEntry] = []
        self.silences: list[Silence] = []
        self.users: dict[str, User] = {}
        self.subs: dict[int, Subscriber] = {}

    def close(self) -> None:
        pass

    def upsert_posts(self, items):
        for post, analysis in items:
            self.posts[post.key] = StoredPost(post=post, analysis=analysis)
        return WriteResult(inserted=len(items))

    def get_post(self, platform, post_id):
        return self.posts.get(f"{platform}:{post_id}")

    def _match(self, sp: StoredPost, q: PostQuery) -> bool:
        p, a = sp.post, sp.analysis or Analysis(label="neutral", score=0.5)
        ops = set(p.operators) | set(a.operators)
        checks = [
            not q.text or all(w in p.title + p.text for w in q.text.split()),
            q.since is None or p.published_at >= q.since, q.until is None or p.published_at < q.until,
            not q.platforms or p.platform in q.platforms, not q.operators or bool(ops & set(q.operators)),
            not q.touchpoints or bool(set(a.touchpoints) & set(q.touchpoints)),
            not q.provinces or a.province in q.provinces, not q.labels or sp.label in q.labels,
            not q.risk_flags or bool(set(a.risk_flags) & set(q.risk_flags)), not q.kinds or p.kind in q.kinds,
            not q.event_id or a.event_id == q.event_id, q.min_influence is None or a.influence >= q.min_influence,
            not q.keys or p.key in q.keys,
        ]
        return all(checks)

    def _found(self, q):
        return [sp for sp in self.posts.values() if self._match(sp, q)]

    def search_posts(self, query, *, limit=50, offset=0, order="published_at_desc"):
        found = self._found(query)
        if order == "influence_desc":
            found.sort(key=lambda sp: -(sp.analysis.influence if sp.analysis else 0))
        else:
            found.sort(key=lambda sp: sp.post.published_at, reverse=order != "published_at_asc")
        return found[offset:offset + limit]

    def count_posts(self, query):
        return len(self._found(query))

    def _keys(self, sp, field):
        a = sp.analysis
        return {"label": [sp.label], "platform": [sp.post.platform], "operator": list(sp.post.operators),
                "touchpoint": list(a.touchpoints if a else ()), "province": [a.province] if a and a.province else [],
                "keyword": list(a.keywords if a else ()), "kind": [sp.post.kind],
                "risk_flag": list(a.risk_flags if a else ())}[field]

    def volume(self, query, *, bucket_seconds, by="label"):
        c: Counter = Counter()
        for sp in self._found(query):
            ts = int(sp.post.published_at.timestamp()) // bucket_seconds * bucket_seconds
            for k in self._keys(sp, by):
                c[(ts, k)] += 1
        from datetime import UTC
        return [Bucket(start=datetime.fromtimestamp(ts, UTC), key=k, count=n) for (ts, k), n in sorted(c.items())]

    def facet(self, query, field, *, size=20):
        c: Counter = Counter()
        for sp in self._found(query):
            c.update(self._keys(sp, field))
        return dict(c.most_common(size))

    def correct_label(self, platform, post_id, label, *, by):
        key = f"{platform}:{post_id}"
        self.posts[key] = dataclasses.replace(self.posts[key], corrected_label=label)

    def upsert_events(self, events):
        self.events.update({e.event_id: e for e in events})

    def get_event(self, event_id):
        return self.events.get(event_id)

    def list_events(self, *, since=None, limit=20, order="size_desc"):
        found = [e for e in self.events.values() if since is None or e.last_seen >= since]
        return sorted(found, key=lambda e: -e.size)[:limit]

    def save_alert(self, alert):
        if alert.alert_id is None:
            alert = dataclasses.replace(alert, alert_id=len(self.alerts) + 1)
        self.alerts[alert.alert_id] = alert
        return alert

    def get_alert(self, alert_id):
        return self.alerts.get(alert_id)

    def list_alerts(self, *, statuses=(), since=None, limit=100):
        found = [a for a in self.alerts.values() if not statuses or a.status in statuses]
        return sorted(found, key=lambda a: a.opened_at, reverse=True)[:limit]

    def add_silence(self, silence):
        self.silences.append(silence)

    def active_silences(self, now):
        return [s for s in self.silences if s.until > now]

    def save_case(self, case):
        if case.case_id is None:
            case = dataclasses.replace(case, case_id=len(self.cases) + 1)
        self.cases[case.case_id] = case
        return case

    def get_case(self, case_id):
        return self.cases.get(case_id)

    def find_case(self, platform, post_id):
        return next((c for c in self.cases.values() if c.platform == platform and c.post_id == post_id), None)

    def list_cases(self, *, statuses=(), assignee="", limit=200):
        found = [c for c in self.cases.values() if (not statuses or c.status in statuses)
                 and (not assignee or c.assignee == assignee)]
        return sorted(found, key=lambda c: -c.priority)[:limit]

    def add_audit(self, entry):
        self.audit.append(entry)

    def list_audit(self, *, target="", limit=200):
        return [e for e in reversed(self.audit) if not target or e.target == target][:limit]

    def source_health(self):
        return []

    def rejected_counts(self, *, since=None):
        return {}

    def list_rejected(self, *, limit=100):
        return []

    def save_subscriber(self, sub):
        if sub.subscriber_id is None:
            sub = dataclasses.replace(sub, subscriber_id=len(self.subs) + 1)
        self.subs[sub.subscriber_id] = sub
        return sub

    def list_subscribers(self, *, active_only=False):
        return list(self.subs.values())

    def delete_subscriber(self, subscriber_id):
        self.subs.pop(subscriber_id, None)

    def save_user(self, user):
        self.users[user.username] = user

    def get_user(self, username):
        return self.users.get(username)

    def list_users(self):
        return list(self.users.values())


__all__ = ["MemStore", "Post", "Analysis", "Case", "Alert", "Subscriber"]
