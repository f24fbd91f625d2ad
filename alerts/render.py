"""Render alert emails, digests and the daily report (Jinja2, HTML + plain text, in Chinese)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from alerts.subscriptions import describe
from alerts.window import SCOPE_FIELDS
from yuqing.config import Settings
from yuqing.records import Alert, StoredPost, Subscriber
from yuqing.timefmt import local_str
from yuqing.vocab import ALERT_STATUS_ZH, PLATFORM_ZH, SEVERITY_ZH

_escaped = select_autoescape(["j2", "html"])  # the email templates; chat Markdown escapes with its `md` filter
COLORS = {"blue": "#1f77b4", "yellow": "#d4a017", "orange": "#ff7f0e", "red": "#d62728"}
ACTION_ZH = {"new": "新预警", "raise": "级别升级", "reopen": "再次出现", "test": "测试"}
SCOPE_ZH = {"operators": "运营商", "platforms": "平台", "touchpoints": "触点", "regions": "地区"}


@dataclass(frozen=True)
class Rendered:
    """A message in every form a channel takes: email (text + HTML) and chat (Markdown, with the link to the
    dashboard page a cut message points to)."""

    subject: str
    text: str
    html: str
    markdown: str = ""
    link: str = ""


MD_SPECIAL = str.maketrans({"*": "＊", "_": "＿", "`": "｀", "[": "［", "]": "］", "<": "＜", ">": "＞", "#": "＃",
                            "\n": " ", "\r": " "})


def md_text(value: Any) -> str:
    """Text from posts and rules shown as text in chat Markdown: the characters that would format or link are
    replaced by their full-width forms, and line breaks by spaces."""
    return str(value).translate(MD_SPECIAL)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("alerts", "templates"),
                      autoescape=lambda name: not (name or "").endswith(".md.j2") and _escaped(name),
                      undefined=StrictUndefined, trim_blocks=False, keep_trailing_newline=True)
    env.filters["md"] = md_text
    return env


def _render(name: str, ctx: dict[str, Any]) -> tuple[str, str, str]:
    """(text, HTML, Markdown) of one template."""
    env = environment()
    return tuple(env.get_template(f"{name}.{kind}.j2").render(ctx) for kind in ("txt", "html", "md"))  # type: ignore[return-value]


def _common(settings: Settings, sub: Subscriber, subject: str) -> dict[str, Any]:
    base = settings.dashboard.base_url.rstrip("/")
    return {"subject": subject, "sub_desc": describe(sub), "dashboard_url": base + "/",
            "unsubscribe_url": f"{base}/?unsubscribe={quote(sub.token)}"}


def alert_url(settings: Settings, alert: Alert) -> str:
    return f"{settings.dashboard.base_url.rstrip('/')}/alerts?alert={alert.alert_id}"


def scope_text(alert: Alert) -> str:
    def names(n: str) -> str:
        return "、".join(PLATFORM_ZH.get(v, v) if n == "platforms" else v for v in alert.scope[n])
    parts = [f"{SCOPE_ZH[n]}：{names(n)}" for n in SCOPE_FIELDS if alert.scope.get(n)]
    return "；".join(parts) or "全部"


def sample_rows(posts: list[StoredPost], limit: int = 5) -> list[dict[str, Any]]:
    rows = []
    for sp in posts[:limit]:
        p = sp.post
        text = (p.title + "：" if p.title else "") + p.text
        rows.append({"platform": PLATFORM_ZH.get(p.platform, p.platform), "author": p.author_name or p.author_id or "匿名",
                     "verified": p.author_verified, "when": local_str(p.published_at), "reposts": p.reposts,
                     "comments": p.comments, "text": text[:140] + ("…" if len(text) > 140 else ""), "url": p.url})
    return rows


def alert_subject(alert: Alert, action: str) -> str:
    tag = {"raise": "·升级", "reopen": "·再次出现", "test": "·测试"}.get(action, "")
    return f"【{SEVERITY_ZH[alert.severity]}预警{tag}】{alert.title}"


def render_alert(alert: Alert, action: str, posts: list[StoredPost], sub: Subscriber, settings: Settings) -> Rendered:
    """One alert for one subscriber: why (counts against baseline), keywords, sample posts with links."""
    subject = alert_subject(alert, action)
    ctx = {**_common(settings, sub, subject), "alert": alert, "severity_zh": SEVERITY_ZH[alert.severity],
           "color": COLORS[alert.severity], "action_zh": ACTION_ZH.get(action, action), "scope": scope_text(alert),
           "opened": local_str(alert.opened_at), "updated": local_str(alert.updated_at or alert.opened_at),
           "samples": sample_rows(posts), "alert_url": alert_url(settings, alert)}
    text, html, markdown = _render("alert", ctx)
    return Rendered(subject, text, html, markdown, ctx["alert_url"])


def alert_rows(alerts: list[Alert], settings: Settings, since: Any = None) -> list[dict[str, Any]]:
    return [{"title": a.title, "reason": a.reason, "severity_zh": SEVERITY_ZH[a.severity], "color": COLORS[a.severity],
             "when": local_str(a.updated_at or a.opened_at), "status_zh": ALERT_STATUS_ZH[a.status],
             "is_new": since is not None and a.opened_at >= since, "url": alert_url(settings, a)} for a in alerts]


def render_digest(heading: str, period: str, alerts: list[Alert], since: Any, sub: Subscriber,
                  settings: Settings) -> Rendered:
    """Several alerts in one message: the hourly digest, or low-severity alerts held during quiet hours."""
    rows = alert_rows(alerts, settings, since)
    worst = max(alerts, key=lambda a: ("blue", "yellow", "orange", "red").index(a.severity))
    subject = f"【{heading}】{period} 共 {len(alerts)} 条预警，最高{SEVERITY_ZH[worst.severity]}"
    ctx = {**_common(settings, sub, subject), "heading": heading, "period": period, "alerts": rows,
           "new_count": sum(1 for r in rows if r["is_new"])}
    text, html, markdown = _render("digest", ctx)
    return Rendered(subject, text, html, markdown, ctx["dashboard_url"])


def render_daily(data: dict[str, Any], sub: Subscriber, settings: Settings) -> Rendered:
    """The 日报: totals against the day before, an hourly chart (inline image), operators, keywords, events, alerts."""
    subject = f"【舆情日报】{data['day']} 负面 {data['negative']} 条（{data['change']}），预警 {len(data['alerts'])} 条"
    ctx = {**_common(settings, sub, subject), **data}
    text, html, markdown = _render("daily", ctx)
    return Rendered(subject, text, html, markdown, ctx["dashboard_url"])
