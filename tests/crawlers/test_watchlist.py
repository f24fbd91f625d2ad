"""The watchlist: operator matching on real phrasing, ambiguity and exclusion rules, file validation."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from crawlers.watchlist import DEFAULT_PATH, WatchlistError, load_watchlist
from tests.conftest import shared_path

W = load_watchlist()
T, M, U = "中国电信", "中国移动", "中国联通"


@pytest.mark.parametrize(("text", "expected"), [
    # real phrasing from Weibo posts (weibo2018 / weibo_senti_100k)
    ("中午办了一张电信宽带，登录一直显示账号不存在", (T,)),
    ("去。致电10000数次二十几分钟愣是打不进去@中国电信 到底什么情况啊？", (T,)),
    ("联通宽带这网速怎么这么慢？！看部电影的时间都够拍部电影了！[怒]", (U,)),
    ("中国移动行不行啊！昨儿晚上在营业厅办的从神州行转成动感地带的业务", (M,)),
    ("我辛辛苦苦攒的钱。全贡献给移动公司了，真的气死了，乱扣钱", (M,)),
    ("沿边公路这一路，移动、联通、电信除了大点的村镇基本没网络", (T, M, U)),
    ("上两年大学啥也没有不说了.用个大王卡还总无服务", (U,)),
    ("打10000号排队四十分钟", (T,)),
    ("天翼网关又掉线了", (T,)),
    ("和家亲摄像头离线", (M,)),
    ("我用的移动，信号很差", (M,)),
    ("移动的套餐太贵了", (M,)),
    ("移动这个月又多扣了我15块，说是开通了什么视频彩铃", (M,)),
    ("ＣＨＩＮＡ　ＭＯＢＩＬＥ客服", (M,)),  # full-width forms
    ("打１００８６投诉", (M,)),
    ("沃宽带续费", (U,)),
    # look-alikes that are not about an operator
    ("新买的移动硬盘坏了，数据全没了", ()),
    ("移动电源充不进电", ()),
    ("移动支付真方便", ()),
    ("把桌子往左移动一下", ()),
    ("警惕电信诈骗，保护好钱袋子", ()),
    ("公安机关严厉打击电信网络诈骗犯罪", ()),
    ("推动基础设施互联互通", ()),
    ("网络联通性测试", ()),
    ("沃尔玛周末打折", ()),
    ("大观沃尔玛拒换，什么大观沃家小票", ()),
    ("今天是亲吻节，此行为今天全球通行！", ()),
    ("全球通客户专享", (M,)),
    ("肥沃的土地", ()),
    ("会让我把这本书拿去给她：1001000", ()),  # a hotline number inside a longer number
    ("德国电信收购了一家公司", ()),
    ("中国电信提醒您：谨防电信诈骗", (T,)),  # the full name survives the exclusion
])
def test_match(text: str, expected: tuple[str, ...]) -> None:
    assert W.match(text) == expected


def test_ambiguous_word_needs_context_nearby() -> None:
    far = "移动" + "，今天天气不错我们去公园散步然后回家吃饭" + "套餐"
    assert W.match(far) == ()
    assert W.match("移动又乱扣费") == (M,)


def _column(path: Path, name: str) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [row[name] or "" for row in csv.DictReader(fh)]


def test_no_false_positives_for_storage_and_power_banks_in_real_reviews() -> None:
    reviews = _column(shared_path("sentiment", "online_shopping_10_cats.csv"), "review")
    lookalikes = [r for r in reviews if any(w in r for w in ("移动硬盘", "移动电源"))]
    assert len(lookalikes) >= 10
    wrong = [r for r in lookalikes if M in W.match(r) and not any(n in r for n in ("中国移动", "移动4G", "移动卡"))]
    assert wrong == []


def test_real_weibo_posts_rates() -> None:
    """Measured on the 10,000 hand-labelled weibo2018 posts: every match names an operator word."""
    texts = _column(shared_path("sentiment", "weibo2018_train.csv"), "text")
    matched = [t for t in texts if W.match(t)]
    assert 3 <= len(matched) <= 30
    words = ("电信", "移动", "联通", "10086", "10010", "10000", "天翼", "大王卡", "和家亲", "沃")
    assert all(any(w in t for w in words) for t in matched)


def test_telecom_customer_service_transcripts_mention_china_mobile() -> None:
    import json

    dialogs = json.loads(shared_path("telecom", "SereTOD2022_MobileCS_example.json").read_text(encoding="utf-8"))
    text = json.dumps(dialogs, ensure_ascii=False)
    assert M in W.match(text)


def test_sources_keywords_and_intervals() -> None:
    assert W.keywords_for("weibo")[:3] == (T, M, U)
    assert W.interval_for("zhidao") == 3600 and W.interval_for("nowhere", 42) == 42
    assert set(W.enabled_sources()) == {"weibo", "zhihu", "zhidao", "heimao", "tieba", "bilibili"}
    assert W.bars_for("tieba") == ("中国电信", "中国移动", "中国联通", "郑州") and W.bars_for("weibo") == ()
    assert set(W.hotlists.boards) == {"weibo", "baidu", "zhihu", "douyin"} and "断网" in W.hotlists.words
    assert load_watchlist("crawlers/watchlist.toml") == W == load_watchlist(DEFAULT_PATH)


@pytest.mark.parametrize(("content", "message"), [
    ("[operators]\n", "operators] is missing or empty"),
    ('[operators."X"]\nnames = "x"\n', "operators.X.names must be a list of strings"),
    ('[operators."X"]\nnmes = ["x"]\n', "unknown keys"),
    ('[operators."X"]\nnames = ["x"]\n[sources.weibo]\ninterval_seconds = 1\n', "interval_seconds must be"),
    ("not toml = = =", "not valid TOML"),
    ('[operators."X"]\nnames = ["x"]\n[sources.tieba]\nbar = ["郑州"]\n', "sources.tieba has unknown keys"),
    ('[operators."X"]\nnames = ["x"]\n[hotlists]\nboards = ["weibo", "toutiao"]\n', "unknown boards"),
    ('[operators."X"]\nnames = ["x"]\n[hotlists]\ninterval_seconds = 5\n', "hotlists.interval_seconds"),
    ('[operators."X"]\nnames = ["x"]\n[hotlists]\nwords = "断网"\n', "hotlists.words must be a list"),
])
def test_bad_files_name_the_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "watchlist.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(WatchlistError, match=message) as info:
        load_watchlist(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WatchlistError, match="not found"):
        load_watchlist(tmp_path / "nope.toml")
