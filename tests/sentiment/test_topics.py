"""Touchpoints, operators, risk flags, influence and keywords on real complaint phrasing."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment.segment import cut
from sentiment.text import normalize
from sentiment.topics import OTHER, detect_operators, influence, keywords, load_taxonomy, risk_flags

TAXONOMY = load_taxonomy()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("家里电信宽带又断网了，光猫红灯一直闪", {"宽带"}),  # 断网 in a broadband post is the home line
        ("手机4G信号满格就是上不了网", {"网络信号"}),
        ("在地下室一格信号都没有，电话都打不出去", {"网络信号"}),
        ("这个月话费莫名其妙多扣了30块，账单上全是增值业务", {"资费账单", "套餐与合约"}),  # a service nobody ordered
        ("打10086转人工排了二十分钟", {"客服热线"}),
        ("营业厅的营业员态度极差", {"营业厅"}),
        ("装维师傅约好上午上门，结果下午才来", {"装维上门"}),
        ("每天三条营销短信，退订了还发", {"营销短信与骚扰"}),
        ("合约期没到，改套餐要交违约金", {"套餐与合约"}),
        ("5G信号时有时无，还不如4G", {"5G", "网络信号"}),
        ("我要携号转网，联通不给授权码", {"携号转网与销户"}),
        ("掌上营业厅App一直闪退，登录不了", {"App与线上渠道"}),
        ("出国前没开国际漫游，到了日本用不了", {"国际漫游"}),
        ("今天天气真好，出去玩了", {OTHER}),
        # China Mobile call-centre phrasing (SereTOD MobileCS turns)
        ("我想问一下我那个周末流量还剩多少", {"套餐与合约"}),
        ("我不是刚刚充了五十块钱,怎么变成四十五", {"资费账单"}),
        ("十八的这个包含一百兆流量的", {"套餐与合约"}),
        ("我想办那个半年六个G那个包,那个不是属于全国漫游嘛", {"套餐与合约"}),
        ("实名的话是必须要本人携身份证亲自到营业厅办理", {"营业厅", "套餐与合约"}),
    ],
)
def test_touchpoints(text: str, expected: set[str]) -> None:
    assert set(TAXONOMY.match(normalize(text))) == expected


def test_touchpoints_follow_taxonomy_order() -> None:
    assert TAXONOMY.match("宽带和信号都不行") == ("网络信号", "宽带")
    assert TAXONOMY.names[-1] == OTHER
    assert len(TAXONOMY.names) == 13


def test_taxonomy_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "tp.toml"
    bad.write_text('[touchpoints."宽带"]\nwords = []\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"tp\.toml.*宽带"):
        load_taxonomy(bad)
    bad.write_text("not = [toml", encoding="utf-8")
    with pytest.raises(ValueError, match=r"tp\.toml"):
        load_taxonomy(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("中国电信的宽带太坑了", ("中国电信",)),
        ("移动的5G套餐真划算", ("中国移动",)),
        ("打10086没人理", ("中国移动",)),
        ("联通和电信哪个信号好", ("中国电信", "中国联通")),
        ("天翼云盘又扣费", ("中国电信",)),
        ("买了个移动硬盘，用移动支付付的款", ()),
        ("警惕电信诈骗，不要转账", ()),
        ("China Mobile roaming is expensive", ("中国移动",)),
    ],
)
def test_operators(text: str, expected: tuple[str, ...]) -> None:
    assert detect_operators(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("再不解决我就投诉到工信部", ("escalation",)),
        ("已经打了12300申诉", ("escalation",)),
        ("等着315曝光你们吧", ("escalation",)),
        ("我已经找了律师", ("escalation",)),
        ("这事我要找媒体曝光", ("escalation",)),
        ("明天就去携号转网", ("churn",)),
        ("受够了，准备销户换运营商", ("churn",)),
        ("投诉到工信部然后销户", ("escalation", "churn")),
        ("我的手机号是13152001234", ()),
        ("网速有点慢", ()),
        # the writer leaving, in phrasing without a porting word (paraphrased from the written training posts)
        ("合约一到期就走人，这信号谁受得了", ("churn",)),
        ("宽带到期马上退，一年几百块买个卡成PPT", ("churn",)),
        ("预存的话费莫名清零，不给说法这号就不要了", ("churn",)),
        ("三番五次扣费，逼着我换电信吗？", ("churn",)),
        ("全家四个号都转走了，你们自己反思", ("churn",)),
        ("下次打死我都不在你们这办业务了", ("churn",)),
        # hard negatives: how-to questions, someone else, relief, a customer kept, praise, money moved
        ("请问携号转网需要满足什么条件？", ()),
        ("销户后号码多久会重新放号？", ()),
        ("我朋友想携号转网到电信，需要先办什么吗？", ()),
        ("手机营业厅查流量很方便，再也不用打电话问了", ()),
        ("本来想转网的，客服给我降了月租，那就再用两年吧", ()),
        ("5G套餐打完折挺划算，升级不后悔", ()),
        ("营业厅门口挂着横幅：携号转网，移动欢迎您", ()),
        ("手机被盗的话卡里的钱早就被转走了", ()),
        ("营销电话一天三个，拒接了还换号码打，已向12321举报", ("escalation",)),
        ("投诉到10086三次都没人管", ()),  # the operator's own hotline is not escalation
        # round 3, real phrasing from the dev set (sentiment/dev/telecom_dev_labels.jsonl), generalised
        ("歌华马上到期了,如果这周装不好,我就继续歌华了,人服务最起码比你好", ("churn",)),  # a conditional threat
        ("再不修好我就换别的宽带", ("churn",)),
        ("心灰意冷的联通老用户开了电信的无限流量套餐后,想把原来昂贵的套餐降级", ("churn",)),  # took a rival's plan
        ("质量这样烂客服说不能退钱,我能差评退货退款么", ("churn",)),
        ("宽带一个月没修好,昨天客服让我注销账号", ()),  # someone else told the writer to cancel
        ("办了移动的家庭套餐 全家四个号加宽带一个月才一百多", ()),  # the operator's own plan, praised
        ("10086转人工等了十五分钟 接通了又给我转走了", ()),  # a call transferred, not a customer leaving
        ("移动宽带的师傅装完就走了 线拉得乱七八糟", ()),  # the technician left
        ("成都高新区5G覆盖了没？在考虑换5G手机", ()),  # a new phone, not another operator
    ],
)
def test_risk_flags(text: str, expected: tuple[str, ...]) -> None:
    assert risk_flags(text) == expected


def test_switched_operator_reads_mentions() -> None:
    """A writer who took another operator's plan: the operator they are leaving may be named only by @-mention."""
    assert risk_flags("用了八年,上个月办了电信的卡,这边的套餐还降不了", ("中国联通客服",)) == ("churn",)
    assert risk_flags("上个月办了电信的卡,套餐挺划算") == ()


def test_influence_grows_with_reach_and_is_bounded() -> None:
    nobody = influence(0, False, 0, 0, 0)
    small = influence(100, False, 1, 2, 3)
    big_v = influence(2_000_000, True, 5000, 3000, 20000)
    assert nobody == 0.0
    assert 0 < small < big_v <= 100.0
    assert influence(1000, True, 0, 0, 0) > influence(1000, False, 0, 0, 0)
    assert influence(10**12, True, 10**9, 10**9, 10**9) == 100.0


def test_keywords_are_telecom_terms_not_stopwords() -> None:
    text = normalize("电信宽带又断网了，光猫一直闪红灯，打10000号也没用，我们真的很无奈[怒]")
    kws = keywords(cut(text))
    assert "光猫" in kws and "断网" in kws
    assert not {"我们", "真的", "[怒]", "了"} & set(kws)
    assert len(kws) <= 5
    assert keywords([]) == ()


def test_keywords_leave_out_operator_names() -> None:
    words = cut(normalize("中国电信宽带断网了，中国电信客服10000号打不通，电信太差"))
    kws = keywords(words, k=5)
    assert kws and not set(kws) & {"中国电信", "电信", "10000号"}
    assert "断网" in kws or "宽带" in kws


@pytest.mark.parametrize(("text", "wanted", "unwanted"), [
    ("这是第六个月了，宽带越来越慢，好多次打不通客服", {"宽带"}, {"第六个", "越来越", "好多", "多次"}),
    ("三天两头断网，光猫红灯，5G套餐白交了", {"断网", "光猫", "5G套餐"}, set()),
    ("信号不了了之，好像三次都没修好", set(), {"不了", "好像", "三次"}),
])
def test_keywords_leave_out_vague_words_and_counts(text: str, wanted: set[str], unwanted: set[str]) -> None:
    kws = set(keywords(cut(normalize(text))))
    assert wanted <= kws and not unwanted & kws


def test_the_idf_table_is_cached_and_a_bad_cache_is_rebuilt(tmp_path, monkeypatch) -> None:
    from sentiment import topics

    monkeypatch.setenv("YUQING_CACHE_DIR", str(tmp_path))
    topics.idf_table.cache_clear()
    try:
        parsed = topics.idf_table()
        (cache,) = tmp_path.glob("jieba-idf-*.marshal")
        topics.idf_table.cache_clear()
        assert topics.idf_table() == parsed  # read from the cache
        cache.write_bytes(b"\x00garbage")
        topics.idf_table.cache_clear()
        assert topics.idf_table() == parsed and cache.read_bytes() != b"\x00garbage"
        assert parsed[1] > 0 and len(parsed[0]) > 100_000
    finally:
        topics.idf_table.cache_clear()


def test_the_rules_version_follows_the_words(tmp_path) -> None:
    """An analysis records the rules' version: a changed touchpoint file gives another, so `reanalyze` relabels."""
    from sentiment.topics import DEFAULT_TOUCHPOINTS

    shipped = load_taxonomy()
    assert shipped.version.startswith("rules-") and load_taxonomy().version == shipped.version
    edited = tmp_path / "touchpoints.toml"
    edited.write_text(DEFAULT_TOUCHPOINTS.read_text(encoding="utf-8").replace('"光猫", ', ""), encoding="utf-8")
    assert load_taxonomy(edited).version != shipped.version
