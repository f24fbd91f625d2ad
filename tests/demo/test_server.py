"""The demo site: scenario loading, the m.weibo.cn shapes, time compression, timescope, faults, loopback HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from demo.scenario import Faults, ScenarioError, load_scenario, parse_offset
from demo.server import DemoSite

START = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def search_path(q: str, search_type: str = "61", page: int = 1, timescope: str = "") -> str:
    path = (f"/api/container/getIndex?containerid={quote(f'100103type={search_type}&q={q}', safe='')}"
            f"&page_type=searchall&page={page}")
    return path + (f"&timescope={quote(timescope)}" if timescope else "")


def body(site: DemoSite, path: str, platform: str = "weibo") -> dict:
    resp = site.respond(platform, path)
    assert resp.status == 200
    return json.loads(resp.body)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def site(clock: Clock) -> DemoSite:
    return DemoSite(load_scenario(), start=START, clock=clock)


def test_offsets() -> None:
    assert parse_offset("-3h", "x") == timedelta(hours=-3)
    assert parse_offset("1h30m", "x") == timedelta(minutes=90)
    assert parse_offset(45, "x") == timedelta(seconds=45)
    with pytest.raises(ScenarioError, match="bad offset"):
        parse_offset("soon", "x")


def test_default_scenario_has_chatter_and_a_crisis() -> None:
    scenario = load_scenario()
    posts = [sp.post for sp in scenario.posts]
    assert {p.platform for p in posts} == {"weibo", "zhihu", "zhidao", "heimao", "tieba", "bilibili"}
    crisis = [p for p in posts if "crisis" in p.tags and p.platform == "weibo" and p.kind == "post"]
    assert len(crisis) >= 10
    assert any(p.verified and p.followers > 1_000_000 for p in crisis)
    assert sum("工信部" in (p.long_text or p.text) for p in crisis) >= 3
    texts = {p.text for p in posts if "chatter" in p.tags}
    assert len(texts) >= 30 and all(any(op in t for op in ("电信", "移动", "联通")) for t in texts)


def test_crisis_arrives_compressed(site: DemoSite, clock: Clock) -> None:
    """At speed 60 the crisis (20 scenario minutes) is published 20 real seconds after start."""
    assert not [p for p in site.visible("weibo", START) if "crisis" in p.tags]
    clock.now = START + timedelta(seconds=60)
    crisis = [p for p in site.visible("weibo", clock.now) if "crisis" in p.tags]
    assert crisis and min(p.at for p in crisis) == START + timedelta(seconds=20)
    history = [p for p in site.posts if p.at < START - timedelta(hours=1)]
    assert history, "two days of history keep their real spacing"


def test_search_shape_and_paging(site: DemoSite, clock: Clock) -> None:
    clock.now = START + timedelta(minutes=2)
    first = body(site, search_path("郑州"))
    assert first["ok"] == 1
    cards = first["data"]["cards"]
    assert cards and all(c["card_type"] == 9 for c in cards)
    mblog = cards[0]["mblog"]
    for key in ("id", "mid", "text", "created_at", "user", "reposts_count", "comments_count", "attitudes_count",
                "region_name", "isLongText"):
        assert key in mblog
    assert {"id", "screen_name", "verified", "followers_count"} <= set(mblog["user"])
    datetime.strptime(mblog["created_at"], "%a %b %d %H:%M:%S %z %Y")
    times = [datetime.strptime(c["mblog"]["created_at"], "%a %b %d %H:%M:%S %z %Y") for c in cards]
    assert times == sorted(times, reverse=True), "type=61 is newest first"
    total = first["data"]["cardlistInfo"]["total"]
    pages = -(-total // 10)
    last = body(site, search_path("郑州", page=pages))
    assert last["ok"] == 1 and "page" not in last["data"]["cardlistInfo"]
    assert body(site, search_path("郑州", page=pages + 1))["ok"] == 0


def test_long_text_is_truncated_and_extended(site: DemoSite, clock: Clock) -> None:
    clock.now = START + timedelta(minutes=2)
    cards = body(site, search_path("河南都市频道 OR", "61"))  # no hit: words are ANDed
    assert cards["ok"] == 0
    hits = [c["mblog"] for c in body(site, search_path("记者"))["data"]["cards"] if c["mblog"]["isLongText"]]
    assert hits and "全文" in hits[0]["text"]
    full = body(site, f"/statuses/extend?id={hits[0]['id']}")
    assert "本台将持续关注" in full["data"]["longTextContent"]
    comments = body(site, f"/comments/hotflow?id={hits[0]['id']}&mid={hits[0]['id']}&max_id_type=0")
    assert comments["ok"] == 1 and len(comments["data"]["data"]) == 2


def test_timescope_filters_by_shanghai_hours(site: DemoSite, clock: Clock) -> None:
    clock.now = START + timedelta(minutes=2)
    everything = body(site, search_path("电信"))["data"]["cardlistInfo"]["total"]
    # START is 10:00 in Shanghai; the crisis hour only
    crisis_hour = body(site, search_path("电信", timescope="custom:2026-11-24-10:2026-11-24-10"))
    assert 0 < crisis_hour["data"]["cardlistInfo"]["total"] < everything
    for card in crisis_hour["data"]["cards"]:
        assert " 10:" in card["mblog"]["created_at"]
    assert body(site, search_path("电信", timescope="yesterday"))["ok"] == 0


def test_page_cap_is_honoured(clock: Clock) -> None:
    scenario = load_scenario()
    scenario.options["weibo"] = {"page_size": 10, "page_cap": 2}
    site = DemoSite(scenario, start=START, clock=clock)
    assert body(site, search_path("电信", page=2))["ok"] == 1
    assert body(site, search_path("电信", page=3))["ok"] == 0


def test_faults_are_injected_then_recover(clock: Clock) -> None:
    scenario = load_scenario().with_faults(Faults({"http_418": 1.0}, max_per_url=2))
    site = DemoSite(scenario, start=START, clock=clock)
    path = search_path("电信")
    assert [site.serve("weibo", path).status for _ in range(3)] == [418, 418, 200]
    assert site.serve("weibo", "/robots.txt").status == 200
    trunc = DemoSite(load_scenario().with_faults(Faults({"truncated": 1.0}, max_per_url=1)), start=START, clock=clock)
    with pytest.raises(json.JSONDecodeError):
        json.loads(trunc.serve("weibo", path).body)
    layout = DemoSite(load_scenario().with_faults(Faults({"layout": 1.0}, max_per_url=1)), start=START, clock=clock)
    assert "cards" not in layout.serve("weibo", path).body.decode()


def test_unknown_fault_kind_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("faults: {rates: {http_999: 0.5}}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="http_999"):
        load_scenario(bad)


def test_serves_over_loopback() -> None:
    with DemoSite(load_scenario()) as site:
        url = site.base_urls["weibo"]
        assert set(site.base_urls) == {"weibo", "zhihu", "zhidao", "heimao", "tieba", "bilibili"}
        robots = urllib.request.urlopen(url + "/robots.txt", timeout=10).read().decode()
        assert "Disallow: /private/" in robots
        data = json.loads(urllib.request.urlopen(url + search_path("移动"), timeout=10).read())
        assert data["ok"] == 1
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url + "/nope", timeout=10)
        assert err.value.code == 404


def test_a_scenario_can_extend_another() -> None:
    faulty = load_scenario("faulty")
    default = load_scenario()
    assert faulty.name == "faulty" and faulty.faults.rates["http_432"] > 0
    assert len(faulty.posts) == len(default.posts) and faulty.speed == default.speed
