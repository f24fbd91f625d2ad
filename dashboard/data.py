"""The only dashboard module that touches the stores: cached reads of the post index and the OpsDB, and writes
through the shared operations of yuqing.ops (alert lifecycle, reply queue, subscribers, logins), each audited.
The stores are opened once per dashboard process by yuqing.wiring."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import streamlit as st

from yuqing.config import Settings, load_settings
from yuqing.index import Bucket, PostIndex, PostQuery
from yuqing.ops import OpsDB, lifecycle, queue
from yuqing.ops import subscribers as subscriber_ops
from yuqing.records import Alert, AuditEntry, Case, Event, Silence, StoredPost, Subscriber, User, now_utc
from yuqing.wiring import Stores

from . import sessions, throttle, triage

TTL = 30  # seconds a cached read may be stale
BANNER_TTL = 5
_LOCK = threading.RLock()  # one post index instance is used by one thread at a time
_SYNC_EVERY = 30.0
_last_sync: dict[str, float] = {}
T = TypeVar("T")


def now() -> datetime:
    return now_utc()


def settings() -> Settings:
    return load_settings()


def rules_doc() -> Any:
    """The configured alert rules file, parsed; {} when it cannot be read, in which case the alert job reports it."""
    from pathlib import Path

    import yaml

    configured = Path(settings().alerts.rules)
    path = configured if configured.exists() else Path(__file__).resolve().parents[1] / configured
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}


def alert_rule_names() -> list[str]:
    """Names of the rules in the configured rules file (what a subscriber may pick); [] when it cannot be read."""
    from yuqing import catalog

    try:
        return list(catalog.rule_names(settings()))
    except catalog.CatalogError:
        return []


def store_key() -> str:
    """Identity of the configured stores; every cache entry is keyed by it."""
    from yuqing.wiring import index_key

    s = settings()
    return f"{index_key(s)}|{s.database_url}"


def _release(s: Stores) -> None:
    s.close()


@st.cache_resource(show_spinner=False, on_release=_release)
def _open(key: str) -> Stores:
    from yuqing.wiring import open_stores

    return open_stores(settings())


def close_stores() -> None:
    """Close the stores this process opened (tests, shutdown)."""
    with _LOCK:
        _open.clear()


def stores() -> Stores:
    return _open(store_key())


def index() -> PostIndex:
    return stores().index


def ops() -> OpsDB:
    return stores().ops


def _call(fn: Callable[[OpsDB], T]) -> T:
    return fn(ops())


def _target(key: str, which: str) -> Any:
    return getattr(_open(key), which)


@st.cache_data(ttl=TTL, show_spinner=False)
def _read(key: str, which: str, method: str, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> Any:
    with _LOCK:
        return getattr(_target(key, which), method)(*args, **dict(kwargs))


@st.cache_data(ttl=BANNER_TTL, show_spinner=False)
def _read_fresh(key: str, which: str, method: str, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> Any:
    with _LOCK:
        return getattr(_target(key, which), method)(*args, **dict(kwargs))


def _cached(method: str, *args: Any, fresh: bool = False, which: str = "index", **kwargs: Any) -> Any:
    """A cached read of the post index (which="index") or the OpsDB (which="ops")."""
    reader = _read_fresh if fresh else _read
    return reader(store_key(), which, method, args, tuple(sorted(kwargs.items())))


def _changed() -> None:
    """After a write: drop cached reads so every page shows the new state."""
    _read.clear()
    _read_fresh.clear()


# ---- reads (cached)

def run_spec(spec: Any) -> Any:
    """One named read of the overview (see dashboard.overview.Spec)."""
    return _cached(spec.method, *spec.args, **spec.kwargs)


def volume(q: PostQuery, bucket_seconds: int, by: str = "label") -> list[Bucket]:
    return _cached("volume", q, bucket_seconds=bucket_seconds, by=by)


def facet(q: PostQuery, field: str, size: int = 20) -> dict[str, int]:
    return _cached("facet", q, field, size=size)


def count(q: PostQuery) -> int:
    return _cached("count_posts", q)


def search(q: PostQuery, limit: int = 50, offset: int = 0, order: str = "published_at_desc") -> list[StoredPost]:
    return _cached("search_posts", q, limit=limit, offset=offset, order=order)


def events(since: datetime | None, limit: int = 10) -> list[Event]:
    return _cached("list_events", since=since, limit=limit)


def event(event_id: str) -> Event | None:
    return _cached("get_event", event_id)


def alerts(statuses: tuple[str, ...] = (), limit: int = 100) -> list[Alert]:
    return _cached("list_alerts", statuses=statuses, limit=limit, fresh=True, which="ops")


def crisis_alerts() -> list[Alert]:
    """Orange and red alerts not yet resolved, worst first: what the banner shows."""
    found = [a for a in alerts(("open", "acknowledged"), 200) if a.severity in ("orange", "red")]
    return sorted(found, key=lambda a: (a.status != "open", a.severity != "red", -a.opened_at.timestamp()))


def cases(statuses: tuple[str, ...] = (), assignee: str = "", limit: int = 500) -> list[Case]:
    return _cached("list_cases", statuses=statuses, assignee=assignee, limit=limit, fresh=True, which="ops")


def audit(target: str = "", limit: int = 200) -> list[AuditEntry]:
    return _cached("list_audit", target=target, limit=limit, fresh=True, which="ops")


def outbox(limit: int = 200) -> list[Any]:
    """The newest outbox messages (sent or waiting, with their last error), for the delivery section of 预警."""
    return _cached("list_outbox", limit=limit, fresh=True, which="ops")


def source_health() -> list[Any]:
    """Each source's health, with crawl failures still waiting in the local run log (OpsDB unavailable) counted."""
    from yuqing.ops import runlog

    stored = _cached("source_health", which="ops")
    return runlog.merged_health(stored, runlog.pending(settings().store.spool_dir))


def hot_tracks(since: datetime | None, limit: int = 200) -> list[Any]:
    """Watched hot-list entries seen since `since`, each with its rank at every poll since then (热榜 page)."""
    return _cached("list_hot_tracks", since=since, with_ranks=True, limit=limit, which="ops")


def rejected_counts(since: datetime | None = None) -> dict[tuple[str, str, str], int]:
    return _cached("rejected_counts", since=since, which="ops")


def rejected(limit: int = 100) -> list[Any]:
    return _cached("list_rejected", limit=limit, which="ops")


def subscribers() -> list[Subscriber]:
    return _cached("list_subscribers", fresh=True, which="ops")


def user_list() -> list[User]:
    return _cached("list_users", fresh=True, which="ops")


def posts_by_keys(keys: tuple[str, ...]) -> dict[str, StoredPost]:
    """Posts for "platform:post_id" keys, by key."""
    if not keys:
        return {}
    found = search(PostQuery(keys=tuple(sorted(set(keys)))), limit=len(set(keys)))
    return {sp.post.key: sp for sp in found}


def replies_since(since: datetime | None) -> list[tuple[Case, datetime]]:
    """Replied cases whose first reply is at or after `since`, each with its post's publication time."""
    replied = [c for c in cases(("replied", "resolved"), limit=100_000)
               if c.first_reply_at is not None and (since is None or c.first_reply_at >= since)]
    posts = posts_by_keys(tuple(c.key for c in replied))
    return [(c, posts[c.key].post.published_at) for c in replied if c.key in posts]


def login(username: str, password: str) -> throttle.Attempt:
    """Check a password, counting failures per username (dashboard.throttle): the user or the message to show."""
    result = _call(lambda s: throttle.attempt(s, username, password, now(), throttle.Limits.from_settings(settings())))
    if result.locked_now:
        _changed()  # the lock's audit entry shows at once
    return result


def start_session(username: str) -> str:
    return _call(lambda s: sessions.start(s, username, now()))


def resume_session(token: str) -> dict[str, Any] | None:
    return _call(lambda s: sessions.resume(s, token, now()))


def end_session(token: str) -> None:
    _call(lambda s: sessions.end(s, token, now()))


def active_user(username: str) -> dict[str, Any] | None:
    """The user as the store holds it now, None when removed or disabled (a session without a cookie token)."""
    user = _call(lambda s: s.get_user(username)) if username else None
    if user is None or user.disabled:
        return None
    return {"username": user.username, "role": user.role, "display_name": user.display_name or user.username}


def issue_grant(username: str) -> str:
    """A one-time code the browser exchanges for its HttpOnly session cookie (dashboard/web.py)."""
    return _call(lambda s: sessions.issue_grant(s, username, now()))


def redeem_grant(grant: str) -> str | None:
    """The new session token for a live grant, else None."""
    return _call(lambda s: sessions.redeem_grant(s, grant, now()))


# ---- writes (uncached; each leaves an audit entry)

def _write(fn: Callable[[OpsDB], T]) -> T:
    try:
        return _call(fn)
    finally:
        _changed()


def unsubscribe(token: str) -> bool:
    """The unsubscribe link of an email: deactivate the subscriber holding this token (no login needed)."""
    return _write(lambda s: subscriber_ops.unsubscribe(s, token))


def alert_action(alert_id: int, action: str, actor: str, note: str = "") -> Alert:
    """Acknowledge ("ack") or resolve ("resolve", a note required) an alert (yuqing.lifecycle, audited)."""
    if action == "ack":
        return _write(lambda s: lifecycle.acknowledge(s, alert_id, actor, now(), note))
    if action == "resolve":
        return _write(lambda s: lifecycle.resolve(s, alert_id, actor, note, now()))
    raise ValueError(f"unknown alert action {action!r}")


def silence_alert(alert_id: int, hours: float, actor: str, reason: str = "") -> Silence:
    """Silence the alert's rule and key for `hours`: alerts are still recorded, no email is sent until then."""
    return _write(lambda s: lifecycle.silence_alert(s, alert_id, now() + timedelta(hours=hours), actor, reason, now()))


def silences() -> list[Silence]:
    return _cached("active_silences", now().replace(second=0, microsecond=0), fresh=True, which="ops")


def sync_queue(ours: str, force: bool = False) -> int:
    """Turn newly flagged posts into cases (idempotent); runs at most every 30 s per store. Returns cases created."""
    key = store_key()
    t = now()
    if not force and t.timestamp() - _last_sync.get(key, 0.0) < _SYNC_EVERY:
        return 0
    idx = index()
    _last_sync[key] = t.timestamp()
    rules = triage.load_library().rules
    since = t - timedelta(days=rules.lookback_days)
    queries = [
        (PostQuery(since=since, labels=("negative",), min_influence=rules.negative_min_influence), "influence_desc"),
        (PostQuery(since=since, risk_flags=("escalation", "churn")), "influence_desc"),
        (PostQuery(since=since, platforms=("zhidao",), kinds=("question",), operators=(ours,) if ours else ()),
         "published_at_desc"),
    ]

    def run(s: OpsDB) -> int:
        created = 0
        seen: set[str] = set()
        for q, order in queries:
            with _LOCK:
                found = idx.search_posts(q, limit=rules.scan_limit, order=order)
            for sp in found:
                if sp.post.key in seen:
                    continue
                seen.add(sp.post.key)
                reason = triage.flag_reason(sp, ours, rules)
                if not reason or s.find_case(sp.post.platform, sp.post.post_id) is not None:
                    continue
                s.save_case(Case(platform=sp.post.platform, post_id=sp.post.post_id, status="new",
                                 priority=triage.priority(sp, t), reason=reason, created_at=t, updated_at=t))
                created += 1
        return created
    return _write(run)


def case_action(case_id: int, action: str, actor: str, *, assignee: str = "", reply_text: str = "",
                reply_url: str = "", note: str = "") -> Case:
    """Move a case along new -> assigned -> replied -> resolved | ignored (yuqing.ops.queue), audited."""
    return _write(lambda s: queue.act(s, case_id, action, actor, now(), assignee=assignee, reply_text=reply_text,
                                      reply_url=reply_url, note=note))


def correct_label(platform: str, post_id: str, label: str, actor: str) -> None:
    def run(s: OpsDB) -> None:
        with _LOCK:
            index().correct_label(platform, post_id, label, by=actor)
        s.add_audit(AuditEntry(at=now(), actor=actor, action="correct_label", target=f"post:{platform}:{post_id}",
                               detail=label))
    _write(run)


def save_subscriber(sub: Subscriber, actor: str) -> Subscriber:
    """Add (one subscriber per address: an existing one is updated) or change a subscriber, checked against the
    configured names like `yuqing alerts subscribe` (yuqing.ops.subscribers); ValueError in Chinese."""
    return _write(lambda s: subscriber_ops.save(s, settings(), sub, actor=actor))


def set_subscriber_active(subscriber_id: int, active: bool, actor: str) -> Subscriber:
    return _write(lambda s: subscriber_ops.set_active(s, subscriber_id, active, actor=actor))


def delete_subscriber(subscriber_id: int, actor: str) -> None:
    _write(lambda s: subscriber_ops.delete(s, subscriber_id, actor=actor))


def brief(kind: str, *, day: Any = None, operator: str = "", event_id: str = "", alert_id: int | None = None) -> Any:
    """The figures of a brief (日报/周报/专报) as `yuqing report` gathers them (yuqing.briefs.build); built on demand,
    not cached. KeyError for an unknown event or alert."""
    from yuqing.briefs import build

    with _LOCK:
        return build(index(), ops(), settings(), kind, now(), event_id=event_id, alert_id=alert_id, day=day,
                     operator=operator)
