"""Demo renderers for zhihu, zhidao and heimao: render -> the real parsers -> the same posts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from crawlers.parsers import PARSERS
from crawlers.parsers.base import Blocked
from demo.model import DemoPost
from demo.platforms import heimao, zhidao, zhihu

NOW = datetime(2026, 11, 24, 2, 0, 30, 123456, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return NOW - timedelta(minutes=minutes, seconds=7, microseconds=5)


def get(module, url: str, posts: list[DemoPost]):
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    response = module.handle(parts.path, query, posts, NOW)
    assert response is not None, url
    return response


def parse(key: str, response, url: str):
    assert response.status == 200, response.body[:200]
    return PARSERS[key](response.body, url, now=NOW)


# --- zhihu ---------------------------------------------------------------------------------------
ZHIHU = [
    DemoPost(platform="zhihu", post_id="640010001", kind="question", title="中国电信的宽带怎么样？",
             text="家里想装宽带，电信和移动选哪个？", at=at(600), author_id="asker-1", author_name="提问的人"),
    *[DemoPost(platform="zhihu", post_id=str(3301000000 + i), kind="answer", parent_id="640010001",
               title="中国电信的宽带怎么样？", text=f"<p>第{i}个回答：电信宽带晚上<b>很稳</b>。</p><p>第二段</p>",
               at=at(500 - i), author_id=f"user-{i}", author_name=f"答主{i}", likes=10 * i, comments=i,
               region="广东" if i % 2 else "", extra={"question_id": "640010001"}) for i in range(7)],
    DemoPost(platform="zhihu", post_id="701234567", kind="article", title="携号转网记录",
             text="从中国移动转到电信的全过程\n第二行", at=at(300), author_id="writer", author_name="写手", likes=5),
    DemoPost(platform="zhihu", post_id="3309999999", kind="answer", parent_id="640010001", title="未来的回答",
             text="<p>电信 还没发布</p>", at=NOW + timedelta(hours=1)),
    DemoPost(platform="weibo", post_id="4950000000000001", text="电信 微博上的帖子", at=at(5)),
]


def test_zhihu_search_round_trip() -> None:
    url = "https://www.zhihu.com/api/v4/search_v3?t=general&q=电信&offset=0&limit=20"
    result = parse("zhihu.search", get(zhihu, url, ZHIHU), url)
    by_id = {p.post_id: p for p in result.posts}
    assert set(by_id) == {"q640010001", "p701234567", *(str(3301000000 + i) for i in range(7))}
    answer = by_id["3301000003"]
    assert answer.text == "第3个回答：电信宽带晚上很稳。\n\n第二段" and answer.kind == "answer"
    assert answer.parent_id == "q640010001" and answer.title == "中国电信的宽带怎么样？"
    assert answer.published_at == at(497).replace(microsecond=0) and answer.ip_region == "广东"
    assert (answer.likes, answer.comments, answer.author_id, answer.author_name) == (30, 3, "user-3", "答主3")
    assert by_id["p701234567"].text == "从中国移动转到电信的全过程\n第二行"  # the search's plain excerpt
    assert by_id["p701234567"].extra["excerpt_only"] is True
    [article_request] = result.requests
    assert article_request.parser == "zhihu.article" and article_request.url.endswith("/api/v4/articles/701234567")
    [article] = parse("zhihu.article", get(zhihu, article_request.url, ZHIHU), article_request.url).posts
    assert article.post_id == "p701234567" and article.text == "从中国移动转到电信的全过程\n\n第二行"  # one <p> per line
    assert "excerpt_only" not in article.extra and article.title == "携号转网记录"
    assert by_id["q640010001"].text == "中国电信的宽带怎么样？\n家里想装宽带，电信和移动选哪个？"
    assert result.cursor["is_end"] is True


def test_zhihu_answers_cursor_paging_collects_every_answer() -> None:
    url = "https://www.zhihu.com/api/v4/questions/640010001/answers?limit=3&offset=0"
    seen: list[str] = []
    for _ in range(10):
        result = parse("zhihu.answers", get(zhihu, url, ZHIHU), url)
        seen += [p.post_id for p in result.posts]
        if result.cursor["is_end"]:
            break
        [nxt] = result.requests
        assert "cursor=" in nxt.url
        url = nxt.url
    assert seen == [str(3301000000 + i) for i in range(6, -1, -1)]  # newest first, no repeats, no future answer


def test_zhihu_not_ours_and_missing_question() -> None:
    assert zhihu.handle("/statuses/extend", {}, ZHIHU, NOW) is None
    missing = zhihu.handle("/api/v4/questions/1/answers", {}, ZHIHU, NOW)
    assert missing.status == 404 and json.loads(missing.body)["error"]["code"] == 404


# --- zhidao --------------------------------------------------------------------------------------
ZHIDAO = [
    *[DemoPost(platform="zhidao", post_id=str(1900000000 + i), kind="question", title=f"联通宽带问题{i}？",
               text=f"联通宽带第{i}次掉线了怎么办\n急 😡", at=at(1000 + i), author_id=f"u{i}", author_name=f"网友{i}")
      for i in range(12)],
    DemoPost(platform="zhidao", post_id="4400000001", kind="answer", parent_id="1900000000", text="打10010报修\n第二行",
             at=at(900), author_id="a1", author_name="老师傅", likes=36, extra={"best": True}),
    DemoPost(platform="zhidao", post_id="4400000002", kind="answer", parent_id="1900000000", text="换电信 <b>吧</b>",
             at=at(800), author_id="a2", author_name="路人", likes=2, region="江苏"),
]


def test_zhidao_question_page_is_gbk_and_round_trips() -> None:
    url = "https://zhidao.baidu.com/question/1900000000.html"
    response = get(zhidao, url, ZHIDAO)
    assert response.content_type == "text/html; charset=gbk"
    with pytest.raises(UnicodeDecodeError):
        response.body.decode("utf-8")
    question, best, other = parse("zhidao.question", response, url).posts
    assert question.post_id == "q1900000000" and question.title == "联通宽带问题0？"
    assert question.text == "联通宽带问题0？\n联通宽带第0次掉线了怎么办\n急 😡"  # emoji survives GBK as &#...;
    assert question.published_at == at(1000).replace(second=0, microsecond=0)
    assert question.author_name == "网友0"
    assert (best.post_id, best.text, best.likes, best.extra, best.author_name) == (
        "4400000001", "打10010报修\n第二行", 36, {"best": True}, "老师傅")
    assert best.parent_id == "q1900000000" and best.published_at == at(900).replace(second=0, microsecond=0)
    assert other.text == "换电信 吧" and other.extra == {}  # markup in a zhidao answer is not served
    assert other.ip_region == "江苏" and best.ip_region == "" and question.ip_region == ""


def test_zhidao_search_pages() -> None:
    url = "https://zhidao.baidu.com/search?word=联通宽带&pn=0"
    first = parse("zhidao.search", get(zhidao, url, ZHIDAO), url)
    assert [p.post_id for p in first.posts] == [f"q{1900000000 + i}" for i in range(10)]
    stub = first.posts[0]
    assert stub.comments == 2 and stub.author_name == "" and stub.extra["answerer"] == "老师傅"
    assert stub.extra["answer_likes"] == 36
    assert stub.published_at == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # the best answer's day, 2026-11-23 local
    assert first.cursor == {"pn": 0, "next_pn": 10}
    nxt = first.requests[-1]
    assert nxt.parser == "zhidao.search"
    second = parse("zhidao.search", get(zhidao, nxt.url, ZHIDAO), nxt.url)
    assert [p.post_id for p in second.posts] == ["q1900000010", "q1900000011"] and second.cursor["next_pn"] is None
    empty_url = "https://zhidao.baidu.com/search?word=没有的词&pn=0"
    assert parse("zhidao.search", get(zhidao, empty_url, ZHIDAO), empty_url).cursor["end"] is True


def test_zhidao_missing_question_is_the_info_page() -> None:
    url = "https://zhidao.baidu.com/question/1.html"
    result = parse("zhidao.question", get(zhidao, url, ZHIDAO), url)
    assert result.posts == [] and result.cursor["reason"].startswith("信息提示")


# --- heimao --------------------------------------------------------------------------------------
HEIMAO = [
    DemoPost(platform="heimao", post_id=str(17350000000 + i), kind="complaint", title=f"中国电信宽带断网{i}天无人处理",
             text=f"宽带断网{i}天，客服打不通。\n要求减免费用 <script>x</script>", at=at(100 + i),
             author_id=f"hm{i}", author_name=f"黑猫用户{i}", likes=i, comments=2 * i, region="河南",
             extra={"object": "中国电信", "demands": "恢复网络、减免费用", "status": "处理中", "issue": "网络故障"})
    for i in range(13)
]


def signed(url: str) -> str:
    """The URL as HeimaoSignMiddleware sends it."""
    import random

    from crawlers.heimao_sign import sign_url

    return sign_url(url, 1764000000000, random.Random(7))


def test_heimao_list_paging_round_trip() -> None:
    url = signed("https://tousu.sina.com.cn/api/index/s?keywords=中国电信&page=1&page_size=10")
    result = parse("heimao.list", get(heimao, url, HEIMAO), url)
    assert len(result.posts) == 10 and result.cursor["next_page"] == 2
    first = result.posts[0]
    assert first.post_id == "17350000000" and first.title == "中国电信宽带断网0天无人处理"
    assert first.text == "宽带断网0天，客服打不通。\n要求减免费用 <script>x</script>"
    assert first.published_at == at(100).replace(microsecond=0) and first.ip_region == "河南"
    assert first.extra == {"object": "中国电信", "demands": "恢复网络、减免费用", "status": "处理中", "sn": "17350000000",
                           "issue": "网络故障"}
    nxt = result.requests[-1]
    with pytest.raises(Blocked, match="签名错误"):  # the next page's URL still carries page 1's signature
        parse("heimao.list", get(heimao, nxt.url, HEIMAO), nxt.url)
    second = parse("heimao.list", get(heimao, signed(nxt.url), HEIMAO), nxt.url)
    assert len(second.posts) == 3 and second.cursor["next_page"] is None


@pytest.mark.parametrize("url", [
    "https://tousu.sina.com.cn/api/index/s?keywords=中国电信&page=1&page_size=10",  # unsigned
    "https://tousu.sina.com.cn/api/index/s?ts=1764000000000&rs=aaaaaaaaaaaaaaaa&signature=00&keywords=中国电信&page=1",
])
def test_heimao_search_refuses_requests_without_a_valid_signature(url: str) -> None:
    with pytest.raises(Blocked, match="签名错误"):
        parse("heimao.list", get(heimao, url, HEIMAO), url)
    tampered = signed(url).replace("keywords=%E4%B8%AD%E5%9B%BD%E7%94%B5%E4%BF%A1", "keywords=%E8%81%94%E9%80%9A")
    with pytest.raises(Blocked, match="签名错误"):
        parse("heimao.list", get(heimao, tampered, HEIMAO), tampered)


def test_heimao_complaint_page_round_trip() -> None:
    url = "https://tousu.sina.com.cn/complaint/view/17350000004/"
    [post] = parse("heimao.complaint", get(heimao, url, HEIMAO), url).posts
    source = HEIMAO[4]
    assert (post.post_id, post.title, post.author_name) == (source.post_id, source.title, source.author_name)
    assert post.text == "宽带断网4天，客服打不通。\n\n要求减免费用 <script>x</script>"
    assert post.published_at == source.at.replace(microsecond=0) and post.ip_region == "河南"
    assert post.extra == {"object": "中国电信", "demands": "恢复网络、减免费用", "status": "处理中", "sn": "17350000004",
                          "issue": "网络故障"}
    assert heimao.handle("/complaint/view/1/", {}, HEIMAO, NOW).status == 404
    assert heimao.handle("/api/container/getIndex", {}, HEIMAO, NOW) is None


def test_page_size_scenario_option() -> None:
    url = "https://zhidao.baidu.com/search?word=联通宽带&pn=0"
    response = zhidao.handle("/search", {"word": "联通宽带", "pn": "0"}, ZHIDAO, NOW, page_size=5)
    result = parse("zhidao.search", response, url)
    assert len(result.posts) == 5 and result.cursor["next_pn"] == 5
    response = heimao.handle("/api/index/s", {"keywords": "中国电信", "page": "1"}, HEIMAO, NOW, page_size=4,
                             require_signature=False)
    result = parse("heimao.list", response, "https://tousu.sina.com.cn/api/index/s?keywords=x&page=1")
    assert len(result.posts) == 4 and result.cursor["next_page"] == 2
