"""The reply queue's rules, pure: which posts are flagged, their priority, the reply clock, the template.

Named triage (not queue) so that Streamlit, which puts dashboard/ on sys.path, cannot shadow stdlib `queue`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from yuqing.records import Alert, Case, StoredPost
from yuqing.vocab import OPEN_CASE_STATUSES

from .labels import ARRIVING_ZH as ARRIVING_ZH  # re-exported: the queue's reason for an arriving customer
from .labels import RISK_ZH as RISK_ZH
from .labels import risks_text

TEMPLATES_FILE = Path(__file__).with_name("reply_templates.toml")
RISK_WEIGHT = {"escalation": 4.0, "churn": 3.0}
MAX_AGE_PENALTY = 3.0  # freshness: a day old loses one point, at most this many
# A positive post flagged churn is someone arriving: never above this priority, which is below the lowest any
# other post can score (no influence, no risk, not negative, MAX_AGE_PENALTY days old).
ARRIVING_MAX = -MAX_AGE_PENALTY - 0.5
INFLUENCE_PER_POINT = 10.0  # influence is 0-100 (sentiment.topics.influence): 100 reach = 10 priority points
ALERT_WEIGHT = {"blue": 1.0, "yellow": 2.0, "orange": 4.0, "red": 6.0}  # a post in an unresolved alert
OPEN_STATUSES = OPEN_CASE_STATUSES


@dataclass(frozen=True)
class Template:
    template_id: str
    title: str
    text: str
    touchpoints: tuple[str, ...] = ()  # empty = the fallback for any touchpoint
    words: tuple[str, ...] = ()  # when set, the post's text must also contain one of these


@dataclass(frozen=True)
class QueueRules:
    """What gets flagged; read from the [queue] table of reply_templates.toml."""

    negative_min_influence: float = 1.0
    lookback_days: int = 14
    scan_limit: int = 500


@dataclass(frozen=True)
class Library:
    rules: QueueRules
    templates: tuple[Template, ...]


def load_library(path: Path = TEMPLATES_FILE) -> Library:
    """Read the reply templates (统一口径) and queue rules; errors name the file and entry."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: cannot read reply templates: {exc}") from None
    q = raw.get("queue", {})
    rules = QueueRules(negative_min_influence=float(q.get("negative_min_influence", 1.0)),
                       lookback_days=int(q.get("lookback_days", 14)), scan_limit=int(q.get("scan_limit", 500)))
    templates = []
    for i, t in enumerate(raw.get("templates", [])):
        if not t.get("id") or not t.get("text"):
            raise ValueError(f"{path}: templates[{i}] needs id and text")
        templates.append(Template(template_id=str(t["id"]), title=str(t.get("title", t["id"])), text=str(t["text"]),
                                  touchpoints=tuple(t.get("touchpoints", ())), words=tuple(t.get("words", ()))))
    if not any(not t.touchpoints for t in templates):
        raise ValueError(f"{path}: one template must have no touchpoints (the fallback)")
    return Library(rules=rules, templates=tuple(templates))


def mentions(sp: StoredPost, ours: str) -> bool:
    """Whether the post mentions our operator (any watched operator when `ours` is empty)."""
    ops = set(sp.post.operators) | set(sp.analysis.operators if sp.analysis else ())
    return bool(ops) if not ours else ours in ops


def flag_reason(sp: StoredPost, ours: str, rules: QueueRules) -> str:
    """Why this post needs a reply, in Chinese; "" when it does not."""
    reasons = []
    a = sp.analysis
    if a and a.risk_flags:
        reasons.append(risks_text(a.risk_flags, sp.label))
    if sp.label == "negative" and a and a.influence >= rules.negative_min_influence:
        reasons.append(f"负面且有影响力({a.influence:.1f})")
    p = sp.post
    if p.platform == "zhidao" and p.kind == "question" and p.comments == 0 and mentions(sp, ours):
        reasons.append("知道提问未获回答")
    return "；".join(reasons)


def arriving(sp: StoredPost) -> bool:
    """A positive post flagged churn: someone happily switching operator, most likely to the one praised."""
    return sp.label == "positive" and bool(sp.analysis) and "churn" in sp.analysis.risk_flags


def priority(sp: StoredPost, now: datetime) -> float:
    """Higher first: influence (0-100, one point per 10), risk, negativity, and freshness (a day old loses one
    point, at most three). Churn on a positive post adds nothing and caps the post at ARRIVING_MAX."""
    a = sp.analysis
    score = a.influence / INFLUENCE_PER_POINT if a else 0.0
    score += sum(0.0 if f == "churn" and sp.label == "positive" else RISK_WEIGHT.get(f, 2.0)
                 for f in (a.risk_flags if a else ()))
    score += 2.0 if sp.label == "negative" else 0.0
    age_h = max((now - sp.post.published_at).total_seconds() / 3600, 0.0)
    score -= min(age_h / 24, MAX_AGE_PENALTY)
    return round(min(score, ARRIVING_MAX) if arriving(sp) else score, 3)


def post_alert(sp: StoredPost, alerts: list[Alert]) -> Alert | None:
    """The most severe unresolved alert the post belongs to (a sample post, or a post of the alert's event)."""
    event_id = sp.analysis.event_id if sp.analysis else ""
    mine = [a for a in alerts if a.status != "resolved"
            and (sp.post.key in a.sample_keys or (event_id and a.event_id == event_id))]
    return max(mine, key=lambda a: (ALERT_WEIGHT[a.severity], a.status == "open"), default=None)


def queue_priority(sp: StoredPost, now: datetime, alerts: list[Alert]) -> float:
    """The priority the queue sorts by: the post's priority now, plus the weight of its worst unresolved alert."""
    alert = post_alert(sp, alerts)
    return round(priority(sp, now) + (ALERT_WEIGHT[alert.severity] if alert else 0.0), 3)


def queue_order(rows: list[tuple[float, bool, datetime]]) -> list[int]:
    """Indexes of (priority, overdue, published_at) rows, highest priority first; ties: overdue, then oldest."""
    return sorted(range(len(rows)), key=lambda i: (-rows[i][0], not rows[i][1], rows[i][2]))


def reply_clock(published_at: datetime, case: Case, now: datetime) -> timedelta:
    """Time from the post to our first reply, or to now while unanswered."""
    return (case.first_reply_at or now) - published_at


def is_overdue(published_at: datetime, case: Case, now: datetime, due_minutes: int) -> bool:
    """Unanswered (new or assigned) for longer than the due time."""
    return case.status in OPEN_STATUSES and reply_clock(published_at, case, now) > timedelta(minutes=due_minutes)


def choose_template(templates: tuple[Template, ...], touchpoints: tuple[str, ...], text: str = "") -> Template:
    """The first template, in file order (specific first), sharing a touchpoint with the post and, when it lists
    words, found in the post's text; else the fallback."""
    for t in templates:
        if set(t.touchpoints) & set(touchpoints) and (not t.words or any(w in text for w in t.words)):
            return t
    return next(t for t in templates if not t.touchpoints)


def fill_template(template: Template, operator: str) -> str:
    return template.text.replace("{operator}", operator or "我们")


def format_clock(delta: timedelta) -> str:
    """"3小时25分" style, for the queue's clock column."""
    minutes = int(delta.total_seconds() // 60)
    days, rem = divmod(max(minutes, 0), 1440)
    hours, mins = divmod(rem, 60)
    if days:
        return f"{days}天{hours}小时"
    return f"{hours}小时{mins}分" if hours else f"{mins}分"
