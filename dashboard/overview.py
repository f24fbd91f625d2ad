"""The overview's queries, named so the benchmark can time each one, and the figures built from them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from yuqing.index import Bucket
from yuqing.records import Event, StoredPost
from yuqing.timefmt import local_str
from yuqing.vocab import LABEL_ZH, LABELS

from .filters import Filters


@dataclass(frozen=True)
class Spec:
    """One store call: method name, positional and keyword arguments."""

    name: str
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def specs(f: Filters, now: datetime) -> list[Spec]:
    """Every store read the overview makes for filters `f`."""
    q = f.query(now)
    q_ops = dataclasses.replace(q, operators=())  # operators are compared against each other: no operator filter
    out = [
        Spec("total", "count_posts", (q,), {}),
        Spec("labels", "facet", (q, "label"), {"size": 5}),
        Spec("volume_by_label", "volume", (q,), {"bucket_seconds": f.bucket_seconds, "by": "label"}),
        Spec("volume_by_platform", "volume", (q,), {"bucket_seconds": f.bucket_seconds, "by": "platform"}),
        Spec("operators", "facet", (q_ops, "operator"), {"size": 20}),
        Spec("operators_negative", "facet", (dataclasses.replace(q_ops, labels=("negative",)), "operator"),
             {"size": 20}),
        Spec("operators_positive", "facet", (dataclasses.replace(q_ops, labels=("positive",)), "operator"),
             {"size": 20}),
        Spec("regions", "facet", (q, "province"), {"size": 34}),
        Spec("keywords", "facet", (q, "keyword"), {"size": 30}),
        Spec("events", "list_events", (), {"since": f.since(now), "limit": 10}),
        Spec("latest", "search_posts", (q,), {"limit": 20}),
    ]
    out += [Spec(f"touchpoints_{label}", "facet", (dataclasses.replace(q, labels=(label,)), "touchpoint"),
                 {"size": 30}) for label in LABELS]
    return out


@dataclass
class Overview:
    total: int
    labels: dict[str, int]
    by_label: list[Bucket]
    by_platform: list[Bucket]
    operators: dict[str, int]
    operators_negative: dict[str, int]
    operators_positive: dict[str, int]
    heat: pd.DataFrame
    regions: pd.DataFrame
    keywords: pd.DataFrame
    events: pd.DataFrame
    latest: list[StoredPost]

    @property
    def negative(self) -> int:
        return self.labels.get("negative", 0)

    @property
    def negative_share(self) -> float:
        return self.negative / self.total if self.total else 0.0

    @property
    def net_sentiment(self) -> float:
        return (self.labels.get("positive", 0) - self.negative) / self.total if self.total else 0.0

    def operators_frame(self, ours: str) -> pd.DataFrame:
        """Share of voice and net sentiment per operator, ours first and marked."""
        total = sum(self.operators.values())
        rows = []
        for op, n in self.operators.items():
            pos, neg = self.operators_positive.get(op, 0), self.operators_negative.get(op, 0)
            rows.append({"运营商": f"{op}（我方）" if op == ours else op, "声量": n,
                         "声量份额": f"{n / total:.1%}" if total else "-", "负面": neg, "正面": pos,
                         "净情感": f"{(pos - neg) / n:+.1%}" if n else "-", "_ours": op == ours})
        rows.sort(key=lambda r: (not r["_ours"], -r["声量"]))
        return pd.DataFrame(rows, columns=["运营商", "声量", "声量份额", "负面", "正面", "净情感", "_ours"]).drop(
            columns="_ours")


def _events_frame(events: list[Event]) -> pd.DataFrame:
    return pd.DataFrame([{"事件": e.title, "帖子数": e.size, "负面": e.negative, "关键词": "、".join(e.keywords[:5]),
                          "运营商": "、".join(e.operators), "首次出现": local_str(e.first_seen),
                          "最近": local_str(e.last_seen)} for e in events],
                        columns=["事件", "帖子数", "负面", "关键词", "运营商", "首次出现", "最近"])


def build(results: dict[str, Any]) -> Overview:
    """Figures from the results of `specs`, by spec name."""
    heat = [{"触点": tp, "情感": LABEL_ZH[label], "数量": n}
            for label in LABELS for tp, n in results[f"touchpoints_{label}"].items()]
    return Overview(
        total=results["total"], labels=results["labels"], by_label=results["volume_by_label"],
        by_platform=results["volume_by_platform"], operators=results["operators"],
        operators_negative=results["operators_negative"], operators_positive=results["operators_positive"],
        heat=pd.DataFrame(heat, columns=["触点", "情感", "数量"]),
        regions=pd.DataFrame(list(results["regions"].items()), columns=["地区", "数量"]),
        keywords=pd.DataFrame(list(results["keywords"].items()), columns=["热词", "数量"]),
        events=_events_frame(results["events"]), latest=results["latest"])


def load(f: Filters, now: datetime, run: Callable[[Spec], Any]) -> Overview:
    """Run every spec through `run` (the dashboard's cached reader, or a timed store call) and build."""
    return build({s.name: run(s) for s in specs(f, now)})

