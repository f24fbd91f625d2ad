"""A known data set for the briefs: one local day (2026-11-23, Asia/Shanghai) and the day before, with an event,
an alert and reply cases, in a fresh SQLite post index and OpsDB; the figures each brief must show."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import Both, make_both
from yuqing.config import Settings
from yuqing.records import Alert, Analysis, Case, Event, Post

DAY = date(2026, 11, 23)
DAY_START = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # 2026-11-23 00:00 in Shanghai
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 the next morning
EVENT = "ev-zz-outage"

# (operator, label, local hour on DAY (negative: the day before), touchpoint, province, city, event, keyword)
POSTS = [
    ("中国电信", "negative", 9, "宽带", "河南", "郑州", EVENT, "断网"),
    ("中国电信", "negative", 9, "宽带", "河南", "郑州", EVENT, "断网"),
    ("中国电信", "negative", 10, "宽带", "河南", "郑州", EVENT, "断网"),
    ("中国电信", "negative", 11, "宽带", "河南", "郑州", EVENT, "抢修"),
    ("中国电信", "neutral", 12, "资费账单", "广东", "深圳", "", "话费"),
    ("中国电信", "positive", 13, "客服热线", "广东", "广州", "", "客服"),
    ("中国移动", "negative", 14, "网络信号", "北京", "北京", "", "信号"),
    ("中国移动", "neutral", 15, "资费账单", "上海", "上海", "", "套餐"),
    ("中国移动", "neutral", 16, "营业厅", "上海", "上海", "", "排队"),
    ("中国移动", "positive", 17, "网络信号", "江苏", "南京", "", "5G"),
    ("中国电信", "negative", -10, "宽带", "广东", "深圳", "", "宽带"),
    ("中国电信", "negative", -11, "客服热线", "广东", "深圳", "", "客服"),
    ("中国移动", "positive", -12, "网络信号", "北京", "北京", "", "信号"),
    ("中国移动", "positive", -13, "网络信号", "北京", "北京", "", "信号"),
    ("中国移动", "positive", -14, "5G", "北京", "北京", "", "5G"),
]

# What the daily brief of DAY must say.
EXPECTED = {"posts": 10, "negative": 5, "neutral": 3, "positive": 2, "share": "50.0%", "net": "-0.30",
            "before_posts": 5, "before_negative": 2, "before_share": "40.0%", "before_net": "+0.20",
            "telecom": 6, "mobile": 4, "event_posts": 4, "alert_response_min": 30.0, "alert_resolve_min": 120.0,
            "reply_min": 45.0, "overdue": 1}


def at_local(hour: int) -> datetime:
    """A post time: `hour` on DAY (Shanghai), or on the day before when negative."""
    return DAY_START + timedelta(hours=hour) if hour >= 0 else DAY_START - timedelta(days=1) + timedelta(hours=-hour)


def fill(both: Both) -> None:
    items = []
    for i, (op, label, hour, tp, prov, city, ev, kw) in enumerate(POSTS):
        post = Post(platform="weibo" if i % 2 else "heimao", post_id=f"k{i}",
                    text=f"{op}{tp}问题第{i}条，{city}用户反映{kw}", published_at=at_local(hour) + timedelta(minutes=5),
                    url=f"https://example.test/p/k{i}", author_name=f"用户{i}", operators=(op,), ip_region=prov,
                    kind="complaint" if i % 2 == 0 else "post")
        items.append((post, Analysis(label=label, score={"negative": 0.1, "neutral": 0.5, "positive": 0.9}[label],
                                     touchpoints=(tp,), operators=(op,), province=prov, city=city,
                                     influence=float(10 - i % 10), keywords=(kw,), event_id=ev)))
    both.index.upsert_posts(items)
    both.index.upsert_events([Event(event_id=EVENT, title="郑州电信宽带大面积断网", first_seen=at_local(9),
                                    last_seen=at_local(11) + timedelta(minutes=5), size=4, negative=4,
                                    keywords=("断网", "抢修"), operators=("中国电信",), touchpoints=("宽带",),
                                    sample_key="heimao:k0", city="郑州")])
    opened = at_local(10) + timedelta(minutes=10)
    both.ops.save_alert(Alert(rule="outage_city", key="中国电信:郑州", severity="red", title="郑州中国电信宽带故障",
                              reason="测试", opened_at=opened, rule_type="outage_city", count=4, baseline=0.5,
                              scope={"operators": ["中国电信"], "regions": ["郑州"]}, event_id=EVENT,
                              status="resolved", acknowledged_by="a", acknowledged_at=opened + timedelta(minutes=30),
                              resolved_by="a", resolved_at=opened + timedelta(minutes=120), updated_at=opened
                              + timedelta(minutes=120)))
    p0 = at_local(9) + timedelta(minutes=5)
    both.ops.save_case(Case(platform="heimao", post_id="k0", status="replied", reason="负面", created_at=p0,
                            updated_at=p0 + timedelta(minutes=45), first_reply_at=p0 + timedelta(minutes=45),
                            followup_label="positive"))
    p6 = at_local(14) + timedelta(minutes=5)
    both.ops.save_case(Case(platform="heimao", post_id="k6", status="new", reason="负面", created_at=p6,
                            updated_at=p6))


@pytest.fixture
def known(tmp_path: Path) -> Iterator[Both]:
    for both in make_both(tmp_path):
        fill(both)
        yield both


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Both]:
    yield from make_both(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings().replace(store={"path": str(tmp_path / "yuqing.db")},
                              dashboard={"base_url": "http://127.0.0.1:8501", "reply_due_minutes": 60})


def poppler(tool: str) -> str:
    """The path of a poppler tool (pdftotext, pdftoppm), or skip: `make test` installs Debian's poppler-utils."""
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (Debian poppler-utils; `make poppler` installs it as root)")
    return path


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    src = tmp_path / "brief.pdf"
    src.write_bytes(pdf)
    out = subprocess.run([poppler("pdftotext"), "-layout", str(src), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")
