"""The dashboard's filters, kept in the URL (st.query_params) so a view can be shared. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from yuqing.index import PostQuery

RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
          "90d": timedelta(days=90), "all": None}
RANGE_ZH = {"24h": "最近24小时", "7d": "最近7天", "30d": "最近30天", "90d": "最近90天", "all": "全部"}
BUCKETS = {"24h": 3600, "7d": 3 * 3600, "30d": 86400, "90d": 86400, "all": 86400}
LIST_PARAMS = ("operator", "platform", "touchpoint", "region")


@dataclass(frozen=True)
class Filters:
    """Time range, operator, platform, touchpoint and region; empty tuple = all."""

    range: str = "7d"
    operators: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    touchpoints: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    @property
    def bucket_seconds(self) -> int:
        return BUCKETS[self.range]

    def since(self, now: datetime) -> datetime | None:
        """Start of the range; `now` is floored to the minute so cached reads share keys."""
        span = RANGES[self.range]
        if span is None:
            return None
        return now.replace(second=0, microsecond=0) - span

    def query(self, now: datetime, **extra: object) -> PostQuery:
        """The store query for these filters, plus any extra PostQuery fields."""
        return PostQuery(since=self.since(now), operators=self.operators, platforms=self.platforms,
                         touchpoints=self.touchpoints, provinces=self.regions, **extra)  # type: ignore[arg-type]


def _values(params: Mapping[str, object], name: str) -> tuple[str, ...]:
    raw = params.get(name)
    if raw is None:
        return ()
    items = raw if isinstance(raw, list | tuple) else [raw]
    out: list[str] = []
    for item in items:
        out.extend(v.strip() for v in str(item).split(",") if v.strip())
    return tuple(dict.fromkeys(out))


def from_params(params: Mapping[str, object]) -> Filters:
    """Filters from URL query parameters; unknown ranges fall back to 7 days."""
    rng = str(params.get("range") or "7d")
    return Filters(range=rng if rng in RANGES else "7d", operators=_values(params, "operator"),
                   platforms=_values(params, "platform"), touchpoints=_values(params, "touchpoint"),
                   regions=_values(params, "region"))


def to_params(f: Filters) -> dict[str, str]:
    """Query parameters for `f`: lists joined by commas, defaults left out."""
    out: dict[str, str] = {}
    if f.range != "7d":
        out["range"] = f.range
    for name, values in zip(LIST_PARAMS, (f.operators, f.platforms, f.touchpoints, f.regions), strict=True):
        if values:
            out[name] = ",".join(values)
    return out
