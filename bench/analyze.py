"""Benchmark: full analysis (normalise, segment, sentiment, touchpoints, region, risk, keywords, events) over
20,000 realistic posts on one core, beside stock `SnowNLP(text).sentiments` on a sample of the same posts.

    python bench/analyze.py [--posts 20000] [--snownlp-sample 500] [--batch 256] [--rounds 3]

Posts: real Weibo texts from ../shared/data/sentiment (when present) mixed with telecom complaints and praise
in Weibo's HTML (emoticon images, @mentions, links, #topics#), with copies and reposts as real bursts have.
Peak memory is the process's maximum RSS measured before SnowNLP is imported (it adds about 420 MB).
Rates are given in wall time and in CPU time (the machine may be shared; CPU time is what one core did). The two
are timed in turns, `--rounds` times (the pipeline from a cold segmentation cache each time, then SnowNLP), and the
medians are compared: on a shared machine one stall would otherwise decide the ratio.
The last line is one JSON object.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from yuqing.records import Post  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "sentiment"
OPERATORS = ["中国电信", "电信", "中国移动", "移动", "中国联通", "联通", "10086", "10000号"]
CITIES = ["广州", "深圳", "北京", "上海", "成都", "武汉", "杭州", "南京", "西安", "长沙", "郑州", "济南", "沈阳", "昆明",
          "福州", "合肥", "南宁", "贵阳", "兰州", "太原", "石家庄", "哈尔滨", "乌鲁木齐", "呼和浩特", "东莞", "佛山"]
PROVINCES = ["广东", "北京", "上海", "四川", "湖北", "浙江", "江苏", "陕西", "湖南", "河南", "山东", "辽宁", "云南", "福建"]
COMPLAINTS = [
    "{op}宽带又断网了，光猫一直闪红灯，打客服说48小时内上门，到现在也没人来{emo}",
    "{city}{op}信号太差了，家里一格都没有，电话都打不出去{emo}",
    "这个月话费莫名其妙多扣了{n}块，查账单全是没订过的增值业务，{op}给个说法{emo}",
    "打{op}客服转人工排了{n}分钟，最后还是没解决，再这样我就投诉到工信部{emo}",
    "营业厅的营业员态度太差了，办个{op}的套餐推三阻四{emo}",
    "装维师傅约好上午上门，结果下午{n}点才来，{op}的服务真的服了{emo}",
    "每天都收到{op}的营销短信，退订了还发，骚扰电话也不断{emo}",
    "合约期没到想改套餐，{op}说要交{n}元违约金，太坑了{emo}",
    "办了{op}的5G套餐，结果5G信号时有时无，还不如4G{emo}",
    "受够了，准备携号转网，{op}还不给授权码，必须去营业厅销户{emo}",
    "{op}掌上营业厅App一直闪退，登录不了，充值也充不进去{emo}",
    "出国前开了{op}国际漫游，一天就扣了{n}元，太离谱{emo}",
]
PRAISE = [
    "{city}{op}的装维师傅很专业，半小时就把宽带修好了，点赞{emo}",
    "{op}客服小姐姐态度很好，耐心帮我改了套餐，每个月省了{n}块{emo}",
    "换了{op}的千兆宽带，网速飞快，打游戏一点都不卡{emo}",
    "{op}5G信号在{city}地铁里也很稳，开心{emo}",
]
NEG_EMO = ["[怒]", "[抓狂]", "[怒骂]", "[泪]", "[生病]", "[衰]", "", "!!!", "……"]
POS_EMO = ["[赞]", "[哈哈]", "[心]", "[鼓掌]", "[嘻嘻]", "", "!"]


def _html(rng: random.Random, text: str) -> str:
    """Weibo's HTML: emoticon images, an @mention, a topic, sometimes a link."""
    text = text.replace("[", '<img alt="[').replace("]", ']" src="//h5.sinaimg.cn/e.png">')
    if rng.random() < 0.4:
        text = f'<a href="https://m.weibo.cn/n/{rng.choice(OPERATORS)}">@{rng.choice(OPERATORS)}客服</a> ' + text
    if rng.random() < 0.3:
        text += f' <a href="https://m.weibo.cn/search?containerid=231522">#{rng.choice(OPERATORS)}#</a>'
    if rng.random() < 0.2:
        text += ' <a href="http://t.cn/A6abcdEf">网页链接</a>'
    return text


def _real_texts(limit: int) -> list[str]:
    texts: list[str] = []
    for name in ("weibo2018_train.csv", "weibo_senti_100k_train.csv"):
        path = SHARED / name
        if path.exists():
            with path.open(encoding="utf-8-sig", newline="") as fh:
                texts.extend(row["text"] for row in csv.DictReader(fh) if row.get("text"))
    random.Random(7).shuffle(texts)
    return texts[:limit]


def make_posts(n: int, seed: int = 2026) -> list[Post]:
    """n posts: about 40% real Weibo text, 50% telecom complaints/praise, 10% copies and reposts of those."""
    rng = random.Random(seed)
    real = _real_texts(int(n * 0.4))
    t0 = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    posts: list[Post] = []
    for i in range(n):
        roll = rng.random()
        if posts and roll < 0.1:
            src = posts[rng.randrange(max(0, len(posts) - 300), len(posts))]
            if rng.random() < 0.5:
                text, parent, kind = "转发微博 //" + src.text, src.post_id, "repost"
            else:
                text, parent, kind = src.text + rng.choice(NEG_EMO), "", "post"
        elif real and roll < 0.5:
            text, parent, kind = real.pop(), "", "post"
        else:
            template = rng.choice(COMPLAINTS if rng.random() < 0.8 else PRAISE)
            emo = rng.choice(NEG_EMO if template in COMPLAINTS else POS_EMO)
            text = _html(rng, template.format(op=rng.choice(OPERATORS), city=rng.choice(CITIES),
                                              n=rng.randint(2, 300), emo=emo))
            parent, kind = "", "post"
        posts.append(Post(
            platform="weibo", post_id=str(4_900_000_000_000_000 + i), text=text,
            published_at=t0 + timedelta(seconds=3 * i), kind=kind, parent_id=parent,
            author_followers=int(rng.paretovariate(1.1) * 50), author_verified=rng.random() < 0.03,
            reposts=int(rng.paretovariate(1.5)) - 1, comments=int(rng.paretovariate(1.4)) - 1,
            likes=int(rng.paretovariate(1.2)) - 1, ip_region=rng.choice(PROVINCES),
        ))
    return posts


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--snownlp-sample", type=int, default=500)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3, help="pipeline and SnowNLP timed in turns this many times")
    parser.add_argument("--no-segment-cache", action="store_true",
                        help="segment every text afresh (the templated posts here repeat more than a real stream)")
    args = parser.parse_args()
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    except (AttributeError, OSError):
        pass

    posts = make_posts(args.posts)
    rss_before = peak_rss_mb()

    from sentiment import segment
    from sentiment.analyze import Analyzer
    from yuqing.config import Settings

    if args.no_segment_cache:
        segment._cached_block = lambda block: segment.segmenter().cut_block(block)
        segment._cached_block.cache_info = lambda: segment.lru_cache()(lambda: None).cache_info()

    t_load = time.perf_counter()
    analyzer = Analyzer.from_settings(Settings().replace(sentiment={"batch_size": args.batch}))
    analyzer.analyze(posts[:1])  # load the jieba dictionary, IDF table and model before timing
    load_s = time.perf_counter() - t_load

    def pipeline() -> tuple[float, float, list, dict]:
        if hasattr(segment._cached_block, "cache_clear"):
            segment._cached_block.cache_clear()  # every round segments the same texts afresh
        known: dict[str, object] = {}
        analyses = []
        cpu0, start = time.process_time(), time.perf_counter()
        for i in range(0, len(posts), args.batch):
            recent = sorted(known.values(), key=lambda e: e.last_seen, reverse=True)[:500]
            batch_analyses, events = analyzer.analyze(posts[i:i + args.batch], recent)
            analyses.extend(batch_analyses)
            known.update((e.event_id, e) for e in events)
        return len(posts) / (time.perf_counter() - start), len(posts) / (time.process_time() - cpu0), analyses, known

    rng = random.Random(1)
    sample = [posts[i] for i in sorted(rng.sample(range(len(posts)), min(args.snownlp_sample, len(posts))))]

    def stock() -> tuple[float, float]:
        cpu0, start = time.process_time(), time.perf_counter()
        for p in sample:
            _ = SnowNLP(p.text).sentiments
        return len(sample) / (time.perf_counter() - start), len(sample) / (time.process_time() - cpu0)

    rounds: list[tuple[float, float, float, float]] = []
    import_s, peak, stock_rss = 0.0, 0.0, 0.0
    for r in range(max(1, args.rounds)):
        rate, cpu_rate, analyses, known = pipeline()
        if r == 0:
            peak = peak_rss_mb()  # before SnowNLP is imported
            cache = segment.cache_info()
            t_imp = time.perf_counter()
            from snownlp import SnowNLP

            import_s = time.perf_counter() - t_imp
            stock_rss = peak_rss_mb()
        rounds.append((rate, cpu_rate, *stock()))
        print(f"round {r + 1}: pipeline {rounds[-1][0]:.0f} posts/s wall, {rounds[-1][1]:.0f} CPU; stock SnowNLP "
              f"{rounds[-1][2]:.0f} wall, {rounds[-1][3]:.0f} CPU", flush=True)
    rate, cpu_rate, stock_rate, stock_cpu_rate = (statistics.median(col) for col in zip(*rounds, strict=True))

    labels = {lab: sum(a.label == lab for a in analyses) for lab in ("negative", "neutral", "positive")}
    in_events = sum(1 for a in analyses if a.event_id)
    biggest = max(known.values(), key=lambda e: e.size, default=None)
    print(f"pipeline ({analyzer.version}): {len(posts)} posts, median of {len(rounds)} rounds {rate:.0f} posts/s wall, "
          f"{cpu_rate:.0f} posts/s CPU on one core (load {load_s:.1f}s); peak RSS {peak:.0f} MB (posts alone "
          f"{rss_before:.0f} MB); segmentation cache hit rate {cache.hits / max(1, cache.hits + cache.misses):.0%}")
    print(f"labels {labels}; {in_events} posts in {len(known)} events; largest: "
          f"{biggest.title if biggest else '-'} ({biggest.size if biggest else 0} posts)")
    print(f"stock SnowNLP(text).sentiments: {len(sample)} of the same posts, median {stock_rate:.0f} posts/s wall, "
          f"{stock_cpu_rate:.0f} posts/s CPU (import {import_s:.1f}s, RSS after import {stock_rss:.0f} MB)")
    print(f"speed-up: {rate / stock_rate:.1f}x wall, {cpu_rate / stock_cpu_rate:.1f}x CPU (per round, CPU: "
          f"{', '.join(f'{r[1] / r[3]:.1f}x' for r in rounds)})")
    print(json.dumps({
        "posts": len(posts), "model": analyzer.model.name, "model_version": analyzer.version,
        "rounds": len(rounds),
        "pipeline_posts_per_s": round(rate, 1), "snownlp_posts_per_s": round(stock_rate, 1),
        "pipeline_cpu_posts_per_s": round(cpu_rate, 1), "snownlp_cpu_posts_per_s": round(stock_cpu_rate, 1),
        "snownlp_sample": len(sample), "speedup": round(rate / stock_rate, 1),
        "speedup_cpu": round(cpu_rate / stock_cpu_rate, 1), "peak_rss_mb": round(peak, 1),
        "segment_cache": not args.no_segment_cache,
        "segment_cache_hit_rate": round(cache.hits / max(1, cache.hits + cache.misses), 3),
        "events": len(known), "posts_in_events": in_events, "labels": labels,
    }, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
