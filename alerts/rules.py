"""Pure rule types, registered by name: each turns a Window into Matches. No I/O here (import-linter checks)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from statistics import mean
from typing import Any, ClassVar

from alerts.window import (
    Match,
    Scope,
    Window,
    by_influence,
    derived_scope,
    in_scope,
    post_operators,
    raise_severity,
    top_keywords,
)
from yuqing.records import StoredPost
from yuqing.timefmt import local_str
from yuqing.vocab import PLATFORM_ZH, PLATFORMS, SEVERITIES

RULE_TYPES: dict[str, type[Rule]] = {}
ESCALATION_WORDS = ("工信部", "12300", "12315", "315", "媒体", "记者", "律师", "集体投诉", "起诉", "消协", "曝光", "通管局")


class RuleError(ValueError):
    """A rule's configuration is wrong; the message names the file, the rule and the field."""


@dataclass(frozen=True)
class Param:
    """One type-specific setting: its kind (int, float, bool, words, minutes_by_name, rank_bands), default and lower
    bound."""

    kind: str
    default: Any
    minimum: float | None = None

    def coerce(self, value: Any, where: str) -> Any:
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise RuleError(f"{where}: expected true or false, got {value!r}")
            return value
        if self.kind in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RuleError(f"{where}: expected a number, got {value!r}")
            if self.kind == "int" and value != int(value):
                raise RuleError(f"{where}: expected a whole number, got {value!r}")
            if self.minimum is not None and value < self.minimum:
                raise RuleError(f"{where}: must be at least {self.minimum:g}, got {value!r}")
            return int(value) if self.kind == "int" else float(value)
        if self.kind == "words":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not value or not all(isinstance(v, str | int) for v in value):
                raise RuleError(f"{where}: expected a non-empty list of words")
            return tuple(str(v) for v in value)
        if self.kind == "rank_bands":  # {severity: rank} (alerts.hotrule)
            from alerts.hotrule import rank_bands

            return rank_bands(value, where)
        if self.kind == "minutes_by_name":
            if not isinstance(value, dict):
                raise RuleError(f"{where}: expected a mapping of name to minutes")
            return {str(k): Param("float", 0, 1).coerce(v, f"{where}.{k}") for k, v in value.items()}
        raise RuleError(f"{where}: unsupported parameter kind {self.kind}")


def register(name: str) -> Callable[[type[Rule]], type[Rule]]:
    def add(cls: type[Rule]) -> type[Rule]:
        cls.type_name = name
        RULE_TYPES[name] = cls
        return cls
    return add


class Rule:
    """A configured rule: name, base severity, scope, window, and its type's parameters."""

    type_name: ClassVar[str] = ""
    needs: ClassVar[frozenset[str]] = frozenset()  # counts baselines posts keywords events sources
    labels: tuple[str, ...] = ("negative",)  # which posts the engine puts in window.posts ("()" = all)
    labels_configurable: ClassVar[bool] = True  # False where the rule is about negative posts by definition
    default_severity: ClassVar[str] = "yellow"
    default_window: ClassVar[int] = 60
    default_raise_at: ClassVar[tuple[float, ...]] = (2.0, 4.0)
    PARAMS: ClassVar[dict[str, Param]] = {}

    def __init__(self, name: str, *, severity: str = "", scope: Scope = Scope(), window_minutes: int = 0,
                 raise_at: tuple[float, ...] | None = None, realert_minutes: int | None = None,
                 labels: tuple[str, ...] | None = None, **params: Any) -> None:
        unknown = set(params) - set(self.PARAMS)
        if unknown:
            raise RuleError(f"{name}: unknown parameter(s) {', '.join(sorted(unknown))} for {self.type_name}")
        self.name = name
        self.severity = severity or self.default_severity
        if self.severity not in SEVERITIES:
            raise RuleError(f"{name}: unknown severity {self.severity!r}")
        self.scope = scope
        self.window_minutes = window_minutes or self.default_window
        self.raise_at = tuple(raise_at) if raise_at is not None else self.default_raise_at
        self.realert_minutes = realert_minutes
        if labels is not None:
            if not self.labels_configurable:
                raise RuleError(f"{name}: {self.type_name} counts negative posts by definition; labels cannot be set")
            self.labels = tuple(labels)
        self.p = {k: spec.default for k, spec in self.PARAMS.items()}
        self.p.update(params)

    def search_terms(self) -> tuple[str, ...]:
        """Words whose posts the engine must fetch by full-text search, beyond the most influential ones."""
        return ()

    def search_flags(self) -> tuple[str, ...]:
        """Risk flags whose posts the engine must fetch whatever their label."""
        return ()

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)

    def evaluate(self, window: Window) -> list[Match]:
        raise TypeError(f"{type(self).__name__} is a rule type without evaluate()")

    def match(self, key: str, ratio: float, title: str, reason: str, posts: list[StoredPost], **kw: Any) -> Match:
        """A Match at the rule's severity raised by how far `ratio` (value / threshold) goes past its steps."""
        posts = by_influence(posts)
        return Match(
            rule=self.name, rule_type=self.type_name, key=key,
            severity=raise_severity(self.severity, ratio, self.raise_at), title=title, reason=reason,
            keywords=kw.pop("keywords", None) or top_keywords(posts),
            sample_keys=kw.pop("sample_keys", None) or tuple(sp.post.key for sp in posts[:5]),
            scope=derived_scope(self.scope, posts, kw.pop("extra_scope", {})), **kw)

    def specificity(self, key: str) -> int:
        """How many scope dimensions a match with this key pins down (a city outage beats an operator spike beats
        an all-operator spike); the engine lets the most specific match of an event name its alert."""
        return len(self.scope.as_dict())

    def scope_title(self, what: str) -> str:
        """A title naming the scope: "中国移动负面声量激增", or "负面声量激增（全部运营商）" for an unscoped rule."""
        return f"{self.scope.label}{what}" if self.scope.as_dict() else f"{what}（全部运营商）"

    def scoped(self, window: Window) -> list[StoredPost]:
        """The window's posts in this rule's scope and of its labels (the engine filters too; this keeps rules exact)."""
        return [sp for sp in window.posts if in_scope(sp, self.scope) and (not self.labels or sp.label in self.labels)]


def _dominant_event(posts: list[StoredPost]) -> str:
    """The event that drives these posts: more than half of them are in it, or at least a third are and no other
    event has half as many (a negative surge of 45 posts, 18 of them the 郑州 outage and the rest scattered, is the
    outage's alert, not a second one)."""
    events = Counter(sp.analysis.event_id for sp in posts if sp.analysis and sp.analysis.event_id)
    if not events:
        return ""
    (eid, n), *rest = events.most_common(2)
    if n * 2 > len(posts) or (n * 3 >= len(posts) and (not rest or rest[0][1] * 2 <= n)):
        return eid
    return ""


def _mentions(text: str, word: str) -> bool:
    """Whether text contains word; a number counts only on its own (315 is not found in 12315 or 3150)."""
    if not word.isdigit():
        return word in text
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        if (start == 0 or not text[start - 1].isdigit()) and (end == len(text) or not text[end].isdigit()):
            return True
        start = text.find(word, start + 1)
    return False


@register("volume_spike")
class VolumeSpike(Rule):
    """Negative posts in this window against the same window on previous days, with a minimum count."""

    needs = frozenset({"counts", "baselines", "posts", "keywords"})
    labels_configurable = False
    PARAMS = {"min_count": Param("int", 10, 1), "ratio": Param("float", 3.0, 1.0),
              "baseline_days": Param("int", 7, 1), "baseline_floor": Param("float", 1.0, 0.1)}

    def evaluate(self, window: Window) -> list[Match]:
        count = window.negative
        mean_before = mean(window.baselines) if window.baselines else 0.0
        base = max(mean_before, self.p["baseline_floor"])  # the baseline used, stored and printed: count / base = ratio
        ratio = count / base
        if count < self.p["min_count"] or ratio < self.p["ratio"]:
            return []
        posts = self.scoped(window)
        kw = tuple(window.keywords)[:8] or top_keywords(posts)
        floored = "" if base == mean_before else f"，按基线下限 {base:g} 条计"
        before = (f"前{len(window.baselines)}天同时段平均 {mean_before:.1f} 条" if window.baselines
                  else "尚无往日同时段数据")
        against = f"{before}{floored}，为基线的 {ratio:.1f} 倍"
        reason = (f"近{self.window_minutes}分钟负面帖 {count} 条，{against}"
                  f"（阈值 {self.p['ratio']:g} 倍，至少 {self.p['min_count']} 条）。")
        grade = min(ratio / self.p["ratio"], count / self.p["min_count"])  # grows only when both grow
        return [self.match(self.scope.key, grade, self.scope_title("负面声量激增"), reason, posts,
                           count=count, baseline=base, keywords=kw, event_id=_dominant_event(posts))]


@register("negative_share")
class NegativeShare(Rule):
    """The share of negative posts above a percentage, with a minimum volume."""

    needs = frozenset({"counts", "posts", "keywords"})
    labels_configurable = False
    default_raise_at = (1.5, 2.0)
    PARAMS = {"threshold_pct": Param("float", 40.0, 1.0), "min_volume": Param("int", 20, 1)}

    def evaluate(self, window: Window) -> list[Match]:
        if window.total < self.p["min_volume"] or window.total == 0:
            return []
        share = 100.0 * window.negative / window.total
        if share < self.p["threshold_pct"]:
            return []
        posts = self.scoped(window)
        reason = (f"近{self.window_minutes}分钟共 {window.total} 条，其中负面 {window.negative} 条，占 {share:.0f}%"
                  f"（阈值 {self.p['threshold_pct']:g}%，至少 {self.p['min_volume']} 条）。")
        return [self.match(self.scope.key, share / self.p["threshold_pct"], self.scope_title("负面占比过高"), reason,
                           posts, count=window.negative, baseline=self.p["threshold_pct"],
                           keywords=tuple(window.keywords)[:8] or None, event_id=_dominant_event(posts))]


@register("escalation")
class Escalation(Rule):
    """Escalation words (工信部, 12300, 315, 媒体, 律师, 集体投诉…) in more than N posts in the window."""

    needs = frozenset({"posts"})
    labels = ("negative", "neutral")
    default_severity = "orange"
    PARAMS = {"words": Param("words", ESCALATION_WORDS), "more_than": Param("int", 2, 0),
              "use_risk_flag": Param("bool", True)}

    def search_terms(self) -> tuple[str, ...]:
        return tuple(self.p["words"])

    def search_flags(self) -> tuple[str, ...]:
        return ("escalation",) if self.p["use_risk_flag"] else ()

    def evaluate(self, window: Window) -> list[Match]:
        hits: list[StoredPost] = []
        words: Counter[str] = Counter()
        for sp in window.posts:
            if not in_scope(sp, self.scope):
                continue
            text = f"{sp.post.title} {sp.post.text}"
            found = [w for w in self.p["words"] if _mentions(text, w)] if sp.label in self.labels else []
            # the analysis's escalation flag counts whatever the sentiment label says
            flagged = self.p["use_risk_flag"] and sp.analysis is not None and "escalation" in sp.analysis.risk_flags
            if found or flagged:
                hits.append(sp)
                words.update(found)
        if len(hits) <= self.p["more_than"]:
            return []
        said = "、".join(f"{w}×{n}" for w, n in words.most_common(6)) or "风险标记"
        reason = (f"近{self.window_minutes}分钟有 {len(hits)} 条帖子提到升级投诉（{said}），"
                  f"阈值为多于 {self.p['more_than']} 条。")
        return [self.match(self.scope.key, len(hits) / (self.p["more_than"] + 1), self.scope_title("出现升级投诉苗头"),
                           reason, hits, count=len(hits), baseline=float(self.p["more_than"]),
                           keywords=tuple(w for w, _ in words.most_common(8)) or None,
                           event_id=_dominant_event(hits))]


@register("influential")
class Influential(Rule):
    """An influential negative post: verified author, or followers, reposts or comments above thresholds."""

    needs = frozenset({"posts"})
    default_severity = "orange"
    default_raise_at = (5.0, 20.0)
    PARAMS = {"verified": Param("bool", True), "verified_min_engagement": Param("int", 0, 0),
              "min_followers": Param("int", 100_000, 1), "min_reposts": Param("int", 500, 1),
              "min_comments": Param("int", 500, 1)}

    def _ratio(self, sp: StoredPost) -> float:
        p = sp.post
        ratio = max(p.author_followers / self.p["min_followers"], p.reposts / self.p["min_reposts"],
                    p.comments / self.p["min_comments"])
        if self.p["verified"] and p.author_verified and p.reposts + p.comments >= self.p["verified_min_engagement"]:
            ratio = max(ratio, 1.0)
        return ratio

    def evaluate(self, window: Window) -> list[Match]:
        groups: dict[str, list[StoredPost]] = defaultdict(list)
        for sp in self.scoped(window):
            if self._ratio(sp) >= 1.0:
                eid = sp.analysis.event_id if sp.analysis else ""
                groups[f"event:{eid}" if eid else sp.post.key].append(sp)
        out = []
        for key, posts in groups.items():
            top = max(posts, key=self._ratio)
            p = top.post
            who = f"{p.author_name or p.author_id}{'（认证）' if p.author_verified else ''}"
            reason = (f"{who} 发布负面内容，粉丝 {p.author_followers}、转发 {p.reposts}、评论 {p.comments}"
                      f"（阈值：粉丝 {self.p['min_followers']}、转发 {self.p['min_reposts']}、评论 {self.p['min_comments']}"
                      f"{'，或认证账号且转评达 ' + str(self.p['verified_min_engagement']) if self.p['verified'] else ''}）；同组高影响力负面帖 {len(posts)} 条。")
            title = f"高影响力负面帖：{(p.title or p.text)[:30]}"
            out.append(self.match(key, self._ratio(top), title, reason, posts, count=len(posts),
                                  event_id=top.analysis.event_id if top.analysis else ""))
        return out


@register("event_growth")
class EventGrowth(Rule):
    """A new event growing fast: many posts this window, several times the window before."""

    needs = frozenset({"events", "posts"})
    labels = ()
    default_window = 30
    PARAMS = {"min_count": Param("int", 10, 1), "growth": Param("float", 3.0, 1.0),
              "max_age_minutes": Param("int", 360, 1)}

    def evaluate(self, window: Window) -> list[Match]:
        out = []
        for eid, count in window.event_counts.items():
            ev = window.events.get(eid)
            if not eid or ev is None or count < self.p["min_count"]:
                continue
            if ev.first_seen < window.now - timedelta(minutes=self.p["max_age_minutes"]):
                continue
            prev = window.previous_event_counts.get(eid, 0)
            growth = count / max(prev, 1)
            if growth < self.p["growth"]:
                continue
            posts = [sp for sp in self.scoped(window) if sp.analysis and sp.analysis.event_id == eid]
            reason = (f"事件「{ev.title}」近{self.window_minutes}分钟新增 {count} 条，此前{self.window_minutes}分钟 {prev} 条，"
                      f"增长 {growth:.1f} 倍（阈值 {self.p['growth']:g} 倍，至少 {self.p['min_count']} 条）；"
                      f"首次出现于 {local_str(ev.first_seen)}，累计 {ev.size} 条，其中负面 {ev.negative} 条。")
            samples = tuple(sp.post.key for sp in by_influence(posts)[:5]) or ((ev.sample_key,) if ev.sample_key else ())
            out.append(self.match(eid, min(growth / self.p["growth"], count / self.p["min_count"]),
                                  f"新事件快速发酵：{ev.title[:30]}", reason, posts, count=count, baseline=float(prev),
                                  keywords=ev.keywords[:8] or None, sample_keys=samples or None, event_id=eid,
                                  extra_scope={"operators": ev.operators, "touchpoints": ev.touchpoints}))
        return out


@register("outage_city")
class OutageCity(Rule):
    """An outage concentrated in one city: many 网络信号 or 宽带 complaints from one place within minutes."""

    needs = frozenset({"posts"})
    labels = ("negative", "neutral")  # outage reports are often matter-of-fact ("断网了"), not angry
    default_severity = "orange"
    default_window = 15
    PARAMS = {"touchpoints": Param("words", ("网络信号", "宽带")), "min_count": Param("int", 8, 1),
              "min_share": Param("float", 0.0, 0.0), "per_operator": Param("bool", True)}

    def __init__(self, name: str, **kw: Any) -> None:
        super().__init__(name, **kw)
        if not self.scope.touchpoints:  # fetch only the touchpoints this rule is about
            s = self.scope
            self.scope = Scope(s.operators, s.platforms, tuple(self.p["touchpoints"]), s.regions)

    def specificity(self, key: str) -> int:
        """The rule's scope plus the region, and the operator when per operator (the key is "operator:city")."""
        pinned = set(self.scope.as_dict()) | {"regions"} | ({"operators"} if ":" in key else set())
        return len(pinned)

    def evaluate(self, window: Window) -> list[Match]:
        groups: dict[tuple[str, str], list[StoredPost]] = defaultdict(list)
        posts = [sp for sp in self.scoped(window) if sp.analysis and sp.analysis.city]
        for sp in posts:
            ops = post_operators(sp) if self.p["per_operator"] else ()
            groups[(ops[0] if len(ops) == 1 else "", sp.analysis.city)].append(sp)  # type: ignore[union-attr]
        out = []
        for (op, city), group in groups.items():
            share = len(group) / len(posts)
            if len(group) < self.p["min_count"] or share < self.p["min_share"]:
                continue
            province = Counter(sp.analysis.province for sp in group if sp.analysis).most_common(1)[0][0]
            tps = Counter(t for sp in group if sp.analysis for t in sp.analysis.touchpoints
                          if t in self.scope.touchpoints)
            place = f"{province}{city}" if province and province != city else city
            reason = (f"近{self.window_minutes}分钟来自{place}的{'、'.join(t for t, _ in tps.most_common())}投诉 {len(group)} 条，"
                      f"占同类投诉的 {share:.0%}（阈值至少 {self.p['min_count']} 条），疑似局部故障。")
            extra = {"regions": tuple(r for r in (province, city) if r), **({"operators": (op,)} if op else {})}
            out.append(self.match(f"{op}:{city}" if op else city, len(group) / self.p["min_count"],
                                  f"{op}{place}疑似网络故障", reason, group, count=len(group),
                                  extra_scope=extra, event_id=_dominant_event(group)))
        return out


@register("flatline")
class Flatline(Rule):
    """A source that has delivered nothing for too long (for the operations subscribers)."""

    needs = frozenset({"sources"})
    labels = ()
    labels_configurable = False
    default_severity = "yellow"
    PARAMS = {"max_silence_minutes": Param("float", 120.0, 1.0), "per_source": Param("minutes_by_name", {})}

    def specificity(self, key: str) -> int:
        return len(set(self.scope.as_dict()) | {"platforms"})

    def evaluate(self, window: Window) -> list[Match]:
        out = []
        for h in window.sources:
            if h.source not in PLATFORMS:  # the hot-list poll delivers no posts; its health is shown, not silence
                continue
            if self.scope.platforms and h.source not in self.scope.platforms:
                continue
            limit = self.p["per_source"].get(h.source, self.p["max_silence_minutes"])
            if h.last_post_at is None:
                first = window.source_since.get(h.source)
                if not h.runs or first is None:
                    continue
                silent = (window.now - first).total_seconds() / 60
                since = f"自 {local_str(first)} 起从未交付新帖"
                if silent < limit:
                    continue
            else:
                silent = (window.now - h.last_post_at).total_seconds() / 60
                since = f"最近一条新帖在 {local_str(h.last_post_at)}"
                if silent < limit:
                    continue
            state = "正常" if h.healthy else f"异常：{h.reason or '未知原因'}"
            errors = "、".join(f"{k}×{v}" for k, v in sorted(h.errors.items()))
            name = PLATFORM_ZH.get(h.source, h.source)
            reason = (f"数据源 {name} 已 {silent:.0f} 分钟没有交付新帖（阈值 {limit:g} 分钟），{since}；"
                      f"最近一次抓取 {local_str(h.last_run_at)}，状态{state}" + (f"，错误 {errors}" if errors else "") + "。")
            m = self.match(h.source, silent / limit, f"数据源断流：{name}", reason, [], count=int(silent),
                           baseline=limit, keywords=(), extra_scope={"platforms": (h.source,)})
            out.append(m)
        return out


def build_rule(type_name: str, name: str, **kw: Any) -> Rule:
    """A rule of a registered type; RuleError for an unknown type."""
    try:
        cls = RULE_TYPES[type_name]
    except KeyError:
        raise RuleError(f"{name}: unknown rule type {type_name!r} (known: {', '.join(sorted(RULE_TYPES))})") from None
    return cls(name, **kw)


def describe_types() -> Mapping[str, str]:
    return {name: (cls.__doc__ or "").strip() for name, cls in sorted(RULE_TYPES.items())}


from alerts import hotrule  # noqa: E402, F401  (registers hot_list; it builds on the classes above)
