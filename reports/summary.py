"""The written summary: template sentences, each stating a fact computed from the figures and nothing else.

A sentence whose figure is missing is left out, and thin data says so in words (no posts, no alerts, no replies).
"""

from __future__ import annotations

from reports.figures import Brief, Totals
from yuqing.timefmt import local_str
from yuqing.vocab import LABEL_ZH, SEVERITY_ZH


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def net(x: float | None) -> str:
    return "—" if x is None else f"{x:+.2f}"


def minutes(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.0f} 分钟" if x < 120 else f"{x / 60:.1f} 小时"


def change(now: int, before: int) -> str:
    """"增加 12 条（+25.0%）", "减少 3 条", "持平"."""
    if now == before:
        return "持平"
    word = "增加" if now > before else "减少"
    rel = f"（{(now - before) / before:+.1%}）" if before else ""
    return f"{word} {abs(now - before)} 条{rel}"


def points(now: float | None, before: float | None) -> str:
    """Change of a share in percentage points: "上升 3.2 个百分点"."""
    if now is None or before is None:
        return ""
    d = (now - before) * 100
    if abs(d) < 0.05:
        return "持平"
    return f"{'上升' if d > 0 else '下降'} {abs(d):.1f} 个百分点"


def _volume(b: Brief) -> list[str]:
    t = b.totals
    what = "该事件" if b.kind == "event" else "本期"
    if not t.posts:
        out = [f"{what}未监测到相关帖子。"]
        if b.before is not None and b.before.posts:
            out.append(f"上期有 {b.before.posts} 条。")
        return out
    s = f"{what}共监测到相关帖子 {t.posts} 条"
    if b.before is not None:
        s += f"，较上期（{b.before.posts} 条）{change(t.posts, b.before.posts)}"
    out = [s + "。"]
    s = f"其中负面 {t.negative} 条，负面占比 {pct(t.negative_share)}"
    if b.before is not None and b.before.posts:
        moved = points(t.negative_share, b.before.negative_share)
        s += f"，较上期{moved}" if moved != "持平" else "，与上期持平"
    out.append(s + "。")
    out.append(f"正面 {t.positive} 条，中性 {t.neutral} 条，净情感值 {net(t.net_sentiment)}。")
    return out


def _leaders(b: Brief) -> list[str]:
    out = []
    ops = [o for o in b.operators if o.now.posts]
    mentions = sum(o.now.posts for o in ops)
    if ops and b.kind != "event":
        top = max(ops, key=lambda o: o.now.posts)
        out.append(f"声量最高的运营商是{top.operator}（{top.now.posts} 条，声量占比 {pct(top.now.posts / mentions)}）。")
    tps = [tp for tp in b.touchpoints if tp[1]]
    if tps:
        tp = max(tps, key=lambda r: r[1])
        out.append(f"负面最集中的触点是{tp[0]}（{tp[1]} 条）。")
    regions = [r for r in b.regions if r[2]]
    if regions:
        r = max(regions, key=lambda x: x[2])
        out.append(f"负面帖子最多的地区是{r[0]}（{r[2]} 条）。")
    if b.kind != "event" and b.events:
        e = b.events[0]
        out.append(f"期内帖子最多的事件是「{e.title}」（{e.posts} 条，负面 {e.negative} 条）。")
    return out


def _alerts(b: Brief) -> list[str]:
    a = b.alerts
    if not a.opened:
        return ["期内没有新开预警。" if b.kind != "event" else "该事件没有关联的预警。"]
    worst = max(a.opened, key=lambda x: ("blue", "yellow", "orange", "red").index(x.severity))
    s = (f"{'期内新开' if b.kind != 'event' else '关联'}预警 {len(a.opened)} 条（最高{SEVERITY_ZH[worst.severity]}），"
         f"已解决 {a.resolved} 条")
    if a.median_response_minutes is not None:
        s += f"，中位响应时长 {minutes(a.median_response_minutes)}"
    return [s + "。"]


def _replies(b: Brief) -> list[str]:
    r = b.replies
    if not r.replied and not r.waiting:
        return ["期内没有回复队列数据。"]
    s = f"回复队列期内回复 {r.replied} 条"
    if r.median_reply_minutes is not None:
        s += f"，发帖到首次回复的中位时长 {minutes(r.median_reply_minutes)}"
    s += f"；截至期末待回复 {r.waiting} 条，其中超时（超过 {r.due_minutes} 分钟）{r.overdue} 条"
    follow = "、".join(f"{LABEL_ZH.get(k, k)} {v} 条" for k, v in r.followup.items() if v)
    if follow:
        s += f"；回访情感：{follow}"
    return [s + "。"]


def _event(b: Brief) -> list[str]:
    e = b.subject
    if e is None:
        return []
    s = f"事件「{e.title}」首见于 {local_str(e.first_seen)}，最近一次出现于 {local_str(e.last_seen)}"
    if e.city:
        s += f"，发生地{e.city}"
    out = [s + "。"]
    if e.posts == 1:
        out.append("该事件目前仅有 1 条帖子，数据较少，以下数字仅供参考。")
    return out


def sentences(b: Brief) -> list[str]:
    """The summary of a brief, one sentence per fact, in order."""
    return _event(b) + _volume(b) + _leaders(b) + _alerts(b) + _replies(b)


def headline_rows(now: Totals, before: Totals | None) -> list[list[str]]:
    """The 核心数据 table: 指标, 本期, 上期, 变化."""
    rows = [["帖子数", str(now.posts)], ["负面数", str(now.negative)], ["负面占比", pct(now.negative_share)],
            ["净情感值", net(now.net_sentiment)]]
    if before is None:
        return [r + ["—", "—"] for r in rows]
    prev = [str(before.posts), str(before.negative), pct(before.negative_share), net(before.net_sentiment)]
    moves = [change(now.posts, before.posts), change(now.negative, before.negative),
             points(now.negative_share, before.negative_share) or "—",
             "—" if now.net_sentiment is None or before.net_sentiment is None
             else f"{now.net_sentiment - before.net_sentiment:+.2f}"]
    return [r + [p, m] for r, p, m in zip(rows, prev, moves, strict=True)]
