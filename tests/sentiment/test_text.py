"""Normalisation of real Weibo phrasing: HTML, emoticons, mentions, links, topics, widths, repeats."""

from __future__ import annotations

import pytest

from sentiment.segment import content_words, cut
from sentiment.text import emoticons, mentions, normalize
from tests.conftest import shared_path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('宽带又断了<img alt="[怒]" src="//h5.sinaimg.cn/m/emoticon/icon/default/d_nu-48f5.png">',
         "宽带又断了[怒]"),
        ('<a href="https://m.weibo.cn/n/中国电信">@中国电信</a> 你们的光猫能不能修一下', "你们的光猫能不能修一下"),
        ("回复@小王同学:我也是移动的，信号一格都没有。", "我也是移动的,信号一格都没有。"),
        ("#携号转网# 终于转走了 http://t.cn/A6xyzAbc", "携号转网 终于转走了"),
        ("{%#静下心来听音乐#%} 书中自有黄金屋", "静下心来听音乐 书中自有黄金屋"),
        ("５Ｇ套餐１９９元　太贵了", "5G套餐199元 太贵了"),
        ("气死我了！！！！！！哈哈哈哈哈哈哈", "气死我了!!!哈哈哈"),
        ("联通客服&amp;10010热线&lt;打不通&gt;", "联通客服&10010热线"),
        ("第一行<br/>第二行", "第一行 第二行"),
        ("   ", ""),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_emoticons_are_kept_as_tokens() -> None:
    text = normalize('服务太差<img alt="[怒]"><img alt="[抓狂]">还是[哈哈]吧')
    assert emoticons(text) == ["[怒]", "[抓狂]", "[哈哈]"]


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("我要携号转网了", "携号转网"),
        ("家里光猫一直闪红灯", "光猫"),
        ("办了个5G套餐结果信号更差", "5G套餐"),
        ("打10000号半天没人接", "10000号"),
        ("去营业厅销户", "销户"),
        ("流量用完了", "流量"),
    ],
)
def test_telecom_words_stay_whole(text: str, word: str) -> None:
    assert word in cut(text)


def test_emoticon_is_one_token_and_not_a_keyword() -> None:
    words = cut("宽带断网三天了[怒][怒]")
    assert words.count("[怒]") == 2
    assert "[怒]" not in content_words(words)
    assert "了" not in content_words(words)


def test_mentions_are_kept_aside() -> None:
    raw = '回复@复读机:<a href="/n/中国电信客服">@中国电信客服</a> 你好 @联通 '
    assert mentions(raw) == ["复读机", "中国电信客服", "联通"]
    assert mentions("") == []


def _jieba_reference(text: str) -> list[str]:
    from sentiment.segment import tokenizer

    return [w for w in tokenizer().lcut(text, HMM=False) if not w.isspace()]


@pytest.mark.parametrize("text", [
    "电信宽带又断网了!!!光猫坏了,我要携号转网,5G套餐太贵,10000号打不通",
    "iPhone15用移动卡信号差 abc123 +86 #&._%- 在 2026-11-24",
    "结婚的和尚未结婚的", "", "   ", "南京市长江大桥",
])
def test_segmenter_matches_jieba(text: str) -> None:
    from sentiment.segment import segmenter

    assert segmenter().cut(text) == _jieba_reference(text)


def test_segmenter_matches_jieba_on_real_posts() -> None:
    import csv

    from sentiment.segment import segmenter

    path = shared_path("sentiment", "weibo2018_train.csv")
    with path.open(encoding="utf-8") as fh:
        texts = [normalize(row["text"]) for _, row in zip(range(1500), csv.DictReader(fh), strict=False)]
    seg = segmenter()
    assert [seg.cut(t) for t in texts] == [_jieba_reference(t) for t in texts]
