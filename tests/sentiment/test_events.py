"""Near-duplicates, reposts and bursts become one event; known events grow instead of being duplicated."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sentiment.events import Item, consolidate, group, hamming, simhash, title
from yuqing.records import Event, Post

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
COMPLAINT = "广州电信宽带又断网了，光猫一直闪红灯，打10000号也没用，再不修就投诉到工信部"


def item(i: int, text: str, *, parent: str = "", kind: str = "post", keywords=(), operators=("中国电信",),
         city: str = "广州", negative: bool = True) -> Item:
    post = Post("weibo", str(i), text, T0 + timedelta(minutes=i), parent_id=parent, kind=kind)
    return Item(post, simhash(text), tuple(keywords), tuple(operators), ("宽带",), city, negative)


def test_simhash_near_copies_are_close_and_different_posts_far() -> None:
    a = simhash(COMPLAINT + "[怒]")
    b = simhash(COMPLAINT + "!!")
    c = simhash("今天去西湖边散步，天气特别好，拍了好多照片")
    assert hamming(a, b) <= 5
    assert hamming(a, c) > 15
    assert 0 <= a < 2**63
    assert simhash("") == 0
    assert simhash(COMPLAINT) == simhash(COMPLAINT)


def test_copies_form_one_event_and_singletons_none() -> None:
    items = [item(i, COMPLAINT + "!" * (i % 3)) for i in range(5)]
    items.append(item(9, "联通的营业厅今天排队的人好多啊，等了一个小时", operators=("中国联通",), city="北京"))
    ids, events = group(items)
    assert len(set(ids[:5])) == 1 and ids[0]
    assert ids[5] == ""
    assert len(events) == 1
    ev = events[0]
    assert ev.size == 5 and ev.negative == 5
    assert ev.sample_key == "weibo:0"
    assert ev.first_seen == T0 and ev.last_seen == T0 + timedelta(minutes=4)


def test_reposts_join_their_root_post() -> None:
    root = item(1, COMPLAINT)
    repost = item(2, "转发微博", parent="1", kind="repost")
    ids, events = group([root, repost])
    assert ids[0] == ids[1] != ""
    assert events[0].size == 2


def test_burst_of_similar_posts_with_shared_keywords() -> None:
    texts = ["天河这边电信宽带断网一下午了", "电信宽带断网，在家办公全耽误了", "又断网！电信宽带什么情况", "我家宽带也断网了"]
    items = [item(i, t, keywords=("断网", "宽带", "电信")) for i, t in enumerate(texts)]
    ids, events = group(items)
    assert len(set(ids)) == 1 and ids[0]
    assert events[0].title == "中国电信·广州：断网 宽带"


def test_known_event_is_updated_not_duplicated() -> None:
    ids, events = group([item(0, COMPLAINT), item(1, COMPLAINT + "!")])
    known = events[0]
    ids2, events2 = group([item(5, COMPLAINT + "[怒]")], known=[known])
    assert ids2 == [known.event_id]
    assert len(events2) == 1
    grown = events2[0]
    assert grown.event_id == known.event_id and grown.size == 3
    assert grown.first_seen == known.first_seen and grown.last_seen == T0 + timedelta(minutes=5)
    assert grown.sample_key == known.sample_key


def test_title_is_short_and_names_operator_and_city() -> None:
    assert title(("中国电信",), "广州", ("宽带", "断网", "光猫", "维修")) == "中国电信·广州：宽带 断网 光猫"
    assert title((), "", ()) == "相似帖子"


def test_a_post_joins_a_known_event_by_shared_keywords_and_operator() -> None:
    from yuqing.records import Event

    known = Event("ev1", "中国电信·广州：断网 光猫 宽带", T0, T0, size=10, negative=9,
                  keywords=("断网", "光猫", "宽带", "维修"), operators=("中国电信",), simhash=1)
    same = item(1, "我家也是，光猫红灯，宽带断网到现在", keywords=("光猫", "断网", "宽带"))
    other_operator = item(2, "移动的光猫也坏了，宽带断网", keywords=("光猫", "断网", "宽带"), operators=("中国移动",))
    unrelated = item(3, "电信营业厅排队好久", keywords=("营业厅", "排队"))
    ids, events = group([same, other_operator, unrelated], known=[known])
    assert ids == ["ev1", "", ""]
    assert len(events) == 1 and events[0].size == 11 and events[0].negative == 10


def test_same_complaint_words_in_another_city_are_another_event() -> None:
    from yuqing.records import Event

    known = Event("ev1", "中国电信·郑州：断网 光猫 宽带", T0, T0, size=10, negative=9,
                  keywords=("断网", "光猫", "宽带", "维修"), operators=("中国电信",), simhash=1, city="郑州")
    words = ("光猫", "断网", "宽带")
    zhengzhou = item(1, "郑州这边光猫红灯，宽带断网到现在", keywords=words, city="郑州")
    nowhere = item(2, "光猫又红灯了，宽带断网", keywords=words, city="")  # names no city: may be the same outage
    ids, _ = group([zhengzhou, nowhere], known=[known])
    assert ids == ["ev1", "ev1"]
    texts = ["广州天河电信宽带断网，光猫红灯", "广州这边宽带也断网了，光猫闪红灯", "广州番禺光猫红灯，宽带断网一晚上"]
    guangzhou = [item(10 + i, t, keywords=words, city="广州") for i, t in enumerate(texts)]
    ids, events = group(guangzhou, known=[known])
    assert len(set(ids)) == 1 and ids[0] not in ("", "ev1")
    assert [(e.city, e.title) for e in events] == [("广州", "中国电信·广州：光猫 断网 宽带")]
    legacy = Event("ev0", "中国电信：断网 光猫 宽带", T0, T0, keywords=known.keywords, operators=("中国电信",), simhash=1)
    assert group(guangzhou[:1], known=[legacy])[0] == ["ev0"]  # an event stored before cities were kept


def test_in_the_same_city_two_shared_keywords_join_a_known_event() -> None:
    from yuqing.records import Event

    known = Event("ev1", "中国电信·郑州：断网 宽带 工信部", T0, T0, size=7, negative=6,
                  keywords=("断网", "宽带", "工信部", "抢修", "光猫"), operators=("中国电信",), simhash=1, city="郑州")
    same_city = item(1, "郑州电信宽带断网第六个小时，老人看不了电视", keywords=("断网", "宽带", "老人", "电视"), city="郑州")
    no_city = item(2, "宽带断网好几个小时了，在家办公全歇菜", keywords=("断网", "宽带", "办公"), city="")
    other_operator = item(3, "郑州移动宽带断网了", keywords=("断网", "宽带"), operators=("中国移动",), city="郑州")
    ids, events = group([same_city, no_city, other_operator], known=[known])
    assert ids == ["ev1", "", ""]
    assert events[0].size == 8


def test_one_outage_told_with_the_city_and_with_only_the_province_is_one_event() -> None:
    from dataclasses import replace

    from yuqing.records import Event

    words = ("断网", "宽带", "光猫")
    with_city = [item(i, t, keywords=words, city="郑州") for i, t in enumerate(
        ["郑州电信宽带断网，光猫红灯", "郑州这边宽带也断网了，光猫闪红灯", "郑州金水区光猫红灯，宽带断网一晚上"])]
    copy = "电信宽带断网到现在，光猫一直红灯，要去工信部投诉"
    province_only = [replace(item(10 + i, copy + "!" * i, keywords=("断网", "宽带", "工信部"), city=""),
                             province="河南") for i in range(2)]
    elsewhere = [replace(item(20 + i, "洛阳电信宽带断网了，光猫红灯，维修师傅说要等到明天", keywords=("断网", "宽带", "光猫"),
                              city="洛阳"), province="河南") for i in range(2)]
    ids, events = group(with_city + province_only + elsewhere)
    assert len(set(ids[:5])) == 1 and ids[0]  # 郑州 and 河南-without-a-city: one event
    assert ids[5] == ids[6] and ids[5] not in ("", ids[0])  # 洛阳 is another outage, even through the 河南 group
    assert sorted((e.city, e.size) for e in events) == [("洛阳", 2), ("郑州", 5)]
    known = Event("ev1", "中国电信·郑州：断网 宽带 光猫", T0, T0, size=7, keywords=words, operators=("中国电信",),
                  simhash=1, city="郑州")
    henan = replace(item(30, "宽带断网了，光猫也红了", keywords=("断网", "宽带"), city=""), province="河南")
    guangdong = replace(item(31, "家里的宽带又断网，客服说正在排查", keywords=("断网", "宽带"), city=""), province="广东")
    assert group([henan, guangdong], known=[known])[0] == ["ev1", ""]


def test_an_event_is_a_city_s_only_when_half_its_posts_name_it() -> None:
    from dataclasses import replace

    text = "移动的彩云备份好省心，照片自动同步"
    posts = [replace(item(i, text, keywords=("彩云", "备份", "省心"), operators=("中国移动",), city=c), province=p)
             for i, (c, p) in enumerate([("上海", "上海"), ("", "辽宁"), ("", "辽宁"), ("", "云南"), ("", "河南")])]
    _, events = group(posts)
    assert [(e.city, e.title) for e in events] == [("", "中国移动：彩云 备份 省心")]
    _, events = group(posts[:2])
    assert [e.city for e in events] == ["上海"]  # one of two: half


def ev(eid: str, city: str, keywords: tuple[str, ...], *, minutes: int = 0, size: int = 4, operators=("中国电信",),
       hours: int = 1) -> Event:
    start = T0 + timedelta(minutes=minutes)
    return Event(eid, title(operators, city, keywords), start, start + timedelta(hours=hours), size=size,
                 negative=size - 1, keywords=keywords, operators=operators, city=city)


def test_one_outage_told_apart_by_concurrent_crawls_is_merged_into_the_oldest_event() -> None:
    """The demo's 郑州 outage as four processes grouped it (Tieba, Weibo, Bilibili, Zhidao)."""
    tieba = ev("ev65c", "郑州", ("断网", "宽带", "大面积", "电信宽带", "工信部"), size=10)
    weibo = ev("evdcf", "郑州", ("电信宽带", "断网", "工信部", "郑州", "影响面"), minutes=18, size=12)
    bili = ev("ev78c", "郑州", ("断网", "郑州", "二七区", "光猫", "电信宽带"), minutes=20, size=8)
    zhidao = ev("ev719", "郑州", ("断网", "电信宽带", "要求", "赔偿", "郑州"), size=2)
    wuhan = ev("ev52a", "武汉", ("5G", "高铁", "覆盖", "武汉", "郑州"), size=4)
    guangzhou = ev("evgz", "广州", ("断网", "电信宽带", "光猫"), size=5)
    mobile = ev("evmob", "郑州", ("断网", "宽带", "大面积"), operators=("中国移动",))
    [(merged, absorbed)] = consolidate([weibo, bili, wuhan, zhidao, tieba, guangzhou, mobile])
    assert merged.event_id == "ev65c" and set(absorbed) == {"evdcf", "ev78c", "ev719"}
    assert (merged.size, merged.negative, merged.city) == (32, 28, "郑州")
    assert merged.first_seen == T0 and merged.last_seen == bili.last_seen
    assert merged.keywords[:2] == ("断网", "电信宽带") and merged.title.startswith("中国电信·郑州：断网 电信宽带")
    assert consolidate([merged, wuhan, guangzhou, mobile]) == []


def test_the_city_name_alone_does_not_make_two_events_one_and_far_apart_events_stay_apart() -> None:
    a = ev("a", "郑州", ("郑州", "断网", "客服"))
    b = ev("b", "郑州", ("郑州", "断网", "套餐"))
    assert consolidate([a, b]) == []  # one shared word besides the city
    c = ev("c", "郑州", ("郑州", "断网", "客服"), minutes=60 * 30)
    assert consolidate([a, ev("a2", "郑州", ("断网", "客服")), c])[0][1] == ("a2",)  # c is a day later
    no_city = [ev("x", "", ("营销", "短信", "退订")), ev("y", "", ("营销", "短信", "骚扰"))]
    assert consolidate(no_city) == []  # without a place, three shared words are needed
    assert len(consolidate([*no_city, ev("z", "", ("营销", "短信", "骚扰", "退订"))])) == 1


def test_one_city_s_events_on_one_touchpoint_within_the_hour_need_one_shared_word() -> None:
    tieba = replace(ev("t", "郑州", ("断网", "宽带", "歇菜", "办公")), touchpoints=("家庭宽带",))
    weibo = replace(ev("w", "郑州", ("电信宽带", "断网", "工信部", "郑州"), minutes=20), touchpoints=("家庭宽带",))
    assert [a for _, a in consolidate([tieba, weibo])] == [("w",)]
    assert consolidate([tieba, replace(weibo, touchpoints=("资费账单",))]) == []  # another touchpoint
    assert consolidate([tieba, replace(weibo, first_seen=T0 + timedelta(hours=3),
                                       last_seen=T0 + timedelta(hours=4))]) == []  # two hours later
    assert consolidate([replace(tieba, city=""), replace(weibo, city="")]) == []  # no city: three words
