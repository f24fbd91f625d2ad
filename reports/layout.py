"""A brief as a list of blocks (headings, paragraphs, tables, pictures, linked posts) that every writer renders the
same way: the order, the headings and the numbers are decided once, here."""

from __future__ import annotations

from dataclasses import dataclass

from reports import charts
from reports.figures import KIND_ZH, Brief, EventFigures, PostLine
from reports.summary import headline_rows, minutes, net, pct, sentences
from yuqing.timefmt import local, local_str
from yuqing.vocab import ALERT_STATUS_ZH, LABEL_ZH, PLATFORM_ZH, SEVERITY_ZH

NO_POSTS = "本期没有帖子数据。"


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str
    note: bool = False  # a remark about thin data, set apart


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Picture:
    name: str
    png: bytes
    caption: str


@dataclass(frozen=True)
class Link:
    """A representative post: a line of text and its link (empty when the platform gave none)."""

    text: str
    url: str


Block = Heading | Para | Table | Picture | Link


def period_text(b: Brief) -> str:
    if b.kind == "daily":
        return local(b.start).strftime("%Y-%m-%d")
    return f"{local_str(b.start)} 至 {local_str(b.end)}"


def title_of(b: Brief) -> str:
    return b.title or f"{KIND_ZH[b.kind]}（{period_text(b)}）"


def _table(columns: list[str], rows: list[list[object]]) -> Table:
    return Table(tuple(columns), tuple(tuple(str(c) for c in r) for r in rows))


def post_line(p: PostLine) -> Link:
    text = " ".join(p.text.split())
    text = text if len(text) <= 80 else text[:80] + "…"
    who = f" @{p.author}" if p.author else ""
    return Link(f"[{PLATFORM_ZH.get(p.platform, p.platform)} {local_str(p.published_at)}{who} "
                f"{LABEL_ZH.get(p.label, p.label)}] {text}", p.url)


def _event_blocks(e: EventFigures, level: int, hourly: bool = True) -> list[Block]:
    out: list[Block] = [Para(f"首见 {local_str(e.first_seen)}，最近 {local_str(e.last_seen)}；期内帖子 {e.posts} 条，"
                             f"负面 {e.negative} 条"
                             + (f"；地点：{e.city}" if e.city else "")
                             + (f"；关键词：{'、'.join(e.keywords[:8])}" if e.keywords else "") + "。")]
    if e.timeline:
        out.append(Heading(level, "时间线"))
        out.append(_table(["时间", "帖子数", "负面数"],
                          [[local_str(p.start, "%m-%d %H:%M" if hourly else "%m-%d"), p.posts, p.negative]
                           for p in e.timeline if p.posts]))
    out.append(Heading(level, "代表性帖子"))
    out += [post_line(p) for p in e.samples] or [Para("没有可展示的帖子。", note=True)]
    return out


def _headline(b: Brief) -> list[Block]:
    out: list[Block] = [Heading(1, "一、核心数据"),
                        _table(["指标", "本期", "上期", "变化"], [list(r) for r in headline_rows(b.totals, b.before)])]
    if b.before is None and b.kind == "event":
        out.append(Para("专报统计事件本身的帖子，不与上一周期比较。", note=True))
    total = sum(o.now.posts for o in b.operators)  # mentions: a post naming two operators counts for each
    before_total = sum(o.before.posts for o in b.operators if o.before) if b.before is not None else 0
    rows = []
    for o in b.operators:
        row: list[object] = [o.operator, o.now.posts, pct(o.now.posts / total) if total else "—",
                             pct(o.now.negative_share), net(o.now.net_sentiment)]
        if b.before is not None:
            prev = o.before.posts if o.before else 0
            row.append(pct(prev / before_total) if before_total else "—")
        rows.append(row)
    if rows:
        out.append(Heading(2, "各运营商声量占比与情感"))
        out.append(Para("声量占比按提及计：同时提及两家运营商的帖子各计一次。", note=True))
        cols = ["运营商", "帖子数", "声量占比", "负面占比", "净情感值"] + (["上期声量占比"] if b.before is not None else [])
        out.append(_table(cols, rows))
    return out


def blocks(b: Brief) -> list[Block]:
    """The brief, top to bottom."""
    out: list[Block] = [Heading(0, title_of(b)),
                        Para(f"统计时段：{period_text(b)}（北京时间）　范围：{b.scope or '全部监测运营商'}　"
                             f"生成时间：{local_str(b.generated_at)}")]
    out += [Heading(1, "摘要"), Para("".join(sentences(b)))]
    out += _headline(b)
    if b.subject is not None:
        out.append(Heading(1, "二、事件经过"))
        out += _event_blocks(b.subject, 2)
    else:
        out.append(Heading(1, "二、主要事件"))
        if not b.events:
            out.append(Para("本期没有识别到事件。", note=True))
        for i, e in enumerate(b.events, 1):
            out.append(Heading(2, f"{i}. {e.title}"))
            out += _event_blocks(e, 3, b.bucket == "hour")
    out.append(Heading(1, "三、声量走势"))
    if any(p.posts for p in b.timeline):
        out.append(Picture("volume.png", charts.volume_chart(b.timeline, b.bucket),
                           "每小时帖子数（红色为负面）" if b.bucket == "hour" else "每日帖子数（红色为负面）"))
    else:
        out.append(Para(NO_POSTS, note=True))
    if b.platforms:
        out.append(_table(["平台", "帖子数"], [[PLATFORM_ZH.get(p, p), n] for p, n in b.platforms]))
    out.append(Heading(1, "四、触点与情感"))
    if b.touchpoints:
        out.append(_table(["触点", "负面", "中性", "正面", "负面占比"],
                          [[t, n, u, p, pct(n / (n + u + p)) if n + u + p else "—"] for t, n, u, p in b.touchpoints]))
        out.append(Picture("touchpoints.png", charts.stacked_bars(b.touchpoints[:12], "触点 × 情感"), "各触点帖子的情感构成"))
    else:
        out.append(Para(NO_POSTS, note=True))
    out.append(Heading(1, "五、地区分布"))
    out.append(_table(["地区", "帖子数", "负面数"], [list(r) for r in b.regions]) if b.regions
               else Para("本期没有可识别地区的帖子。", note=True))
    out.append(Heading(1, "六、热词"))
    if b.hot_words:
        out.append(Para("全部帖子：" + "、".join(f"{w}（{n}）" for w, n in b.hot_words)))
        if b.negative_words:
            out.append(Para("负面帖子：" + "、".join(f"{w}（{n}）" for w, n in b.negative_words)))
    else:
        out.append(Para("本期没有热词数据。", note=True))
    out += _alert_blocks(b) + _reply_blocks(b)
    out.append(Para("本简报由 yuqing 根据监测数据自动生成，摘要中的每个数字均来自上表统计。", note=True))
    return out


def _alert_blocks(b: Brief) -> list[Block]:
    a = b.alerts
    out: list[Block] = [Heading(1, "七、预警处置")]
    if not a.opened:
        return out + [Para("期内没有新开预警。", note=True)]
    out.append(Para(f"新开预警 {len(a.opened)} 条，已解决 {a.resolved} 条；中位响应时长 {minutes(a.median_response_minutes)}，"
                    f"中位解决时长 {minutes(a.median_resolve_minutes)}。"))
    out.append(_table(["编号", "级别", "标题", "触发时间", "响应时间", "解决时间", "状态"],
                      [[f"#{x.alert_id}", SEVERITY_ZH[x.severity], x.title, local_str(x.opened_at),
                        local_str(x.responded_at), local_str(x.resolved_at), ALERT_STATUS_ZH.get(x.status, x.status)]
                       for x in a.opened]))
    return out


def _reply_blocks(b: Brief) -> list[Block]:
    r = b.replies
    out: list[Block] = [Heading(1, "八、回复队列")]
    if not r.replied and not r.waiting:
        return out + [Para("期内没有回复数据。", note=True)]
    follow = "、".join(f"{LABEL_ZH.get(k, k)} {v}" for k, v in r.followup.items() if v) or "—"
    out.append(_table(["指标", "数值"], [["期内回复数", r.replied], ["回复中位时长", minutes(r.median_reply_minutes)],
                                       ["期末待回复", r.waiting], [f"超时未回复（>{r.due_minutes}分钟）", r.overdue],
                                       ["回访情感", follow]]))
    return out
