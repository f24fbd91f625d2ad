"""The operator's terms for a post: touchpoints, operators, risk flags, influence and keywords."""

from __future__ import annotations

import hashlib
import json
import marshal
import math
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sentiment.segment import content_words
from sentiment.text import mentions
from yuqing.vocab import OTHER as OTHER  # the touchpoint of a post that matches none

HERE = Path(__file__).resolve().parent
DEFAULT_TOUCHPOINTS = HERE / "touchpoints.toml"

# Canonical operator names and the ways posts name them. 移动/电信 are everyday words too
# (移动硬盘, 电信诈骗), so their bare forms exclude the common compounds.
OPERATOR_PATTERNS = {
    "中国电信": r"中国电信|中国电信|(?<![可位平推挪滑拖])电信(?!诈骗|网络诈骗|条例)|天翼|翼支付|10000号|china\s?telecom",
    "中国移动": r"中国移动|(?<![可位平推挪滑拖走运转启流])移动(?!硬盘|支付|端|电源|互联|应用|设备|办公|电话|终端|版|开发|游戏|平台|"
                r"物体|速度|鼠标|互联网|式)|10086|和包|咪咕|动感地带|全球通|神州行|china\s?mobile",
    "中国联通": r"中国联通|联通|10010|沃派|沃家|china\s?unicom",
}

# Words that mean a customer is taking it further (regulator, consumer body, media, court) or leaving. Measured
# on real posts to operators (sentiment/dev/telecom_dev_labels.jsonl): escalation there is mostly an appeal for
# public exposure by @-mentioning a newspaper, TV, local-news or regulator account, so mentions are read too.
RISK_PATTERNS = {
    "escalation": r"工信部(?!(?:允许|同意|批准|准许|规定)[^，,。！？!?]{0,30}[吗么])|工信微报|通管局|通信管理局|(?<!\d)12300(?!\d)|(?<!\d)12315(?!\d)|(?<!\d)12321(?!\d)|"
                  r"(?<![\d.])315(?![\d元块])|消协|消费者协会|消委会|消费者委员会|消保委|市场监管|工商局|黑猫投诉|"
                  r"曝光|(?<!网友)爆料|媒体|记者|上新闻|电视台|报社|律师|起诉|法院|打官司|诉讼|仲裁|求转发|求扩散|帮忙转发|"
                  r"投诉到(?:工信|消协|12|通管|工商|市场)|申诉到",
    "churn": r"携号转网|转网|携号转出|携转|销户|销号|消号|销卡|消卡|弃号|退网|注销(?:号码|手机号|账号|账户|宽带|了|掉)?|"
             r"换(?:个|家)?(?:虚拟)?运营商|换(?:成|到|去)?(?:移动|联通|电信|广电|别家|别的)|(?:投奔|改用|转投|去办)(?:移动|联通|电信|广电)|"
             r"(?:就|我就|要)去(?:办)?(?:移动|联通|电信)|转(?:到|去|回|成)(?:移动|联通|电信|广电)|(?<!被)(?<!被人)(?<!给我)(?<!把我)转走(?!了?的)|都转了|逼(?:着)?我(?:换|转|走|销)|"
             r"不用你们|大不了(?:就)?(?:不用|换|转|销|退)|再也不用|不会再用|再也不会用|再也不办|不再使用|不再用|"
             r"拒绝(?:移动|联通|电信)|早知道|后悔|不幸(?:接入|办了|选了|用了)|到期就换|到期不续|不续约|不再续|"
             r"(?:到期|期满|到了|一到期)(?:就|马上|立刻|立马|我就)?(?:走|退|转|换|拆|销)|走人|我就走|就走了|"
             r"号(?:码)?(?:我)?(?:也|就)?不要了|不要这个号|(?:马上|明天|立刻|这就)(?:就)?(?:去)?(?:退|拆|销)|非销不可|"
             r"拆机|退掉|弃用|废掉|退订宽带|退宽带|不想用了|不打算用了|(?:准备|考虑)换(?![^，,。 ]{0,4}手机)|换掉|用别家|去别家|改用别家|"
             r"以后(?:再也|打死)?(?:都)?不(?:会|敢|想)?(?:再)?(?:买|用|办|订|在|去)|打死(?:我)?都不|再也不(?:买|用|办|订|来|去)|"
             r"放弃(?:这家|你们|你家)|列为黑名单|抵制|不陪你们玩|拜拜了?|再见了?(?:电信|移动|联通)|(?:电信|移动|联通)再见|"
             # a conditional threat to go elsewhere (如果这周装不好,我就继续歌华了; 再不修好我就换), returning what was bought
             r"(?:如果|要是|再不|不然|否则)[^，,。！？!?]{0,12}[,，]?我?就(?:继续|还是用|回|换|改用|选)|退货",
}
# The operator advertising porting is not a customer leaving.
_PORTING_NEWS = re.compile(r"欢迎您|横幅|广告|宣传|推出|上线|推行|正式|政策|新规|宣布|将于|指南|流程|办理条件|活动|全国范围|试点")
# Churn words that are not the writer leaving (see _author_leaving): how-to questions, someone else, relief,
# a customer kept. Written from the labelling guide and the written training posts' hard negatives.
_CHURN_HOWTO = re.compile(r"请问|怎么|如何|需要|多久|什么条件|有什么区别|能不能|可不可以|是否|流程|手续|能否")
_CHURN_INTENT = re.compile(r"我(?:要|就|想|准备|打算|决定|已经|必须)|一定要|坚决|非.{0,4}不可|受够|再这样|不给.{0,4}说法|"
                           r"故意|刁难|不让|拖着|为什么|凭什么|逼|难道")
_CHURN_NOT_AUTHOR = re.compile(r"朋友|同事|家人|邻居|有人|别人|他们?|她们?|(?<!老)用户|客户|欢迎|师傅|小哥|工作人员|人家")
# someone else told the writer to cancel (客服让我注销账号): not the writer's decision
_CHURN_TOLD = re.compile(r"(?:让|叫|要|劝|建议)我$")
# the writer already took another operator's plan or card (a post to 联通: 开了电信的无限流量套餐)
_SWITCHED = re.compile(r"(?:开了|办了|换了|用上了|改用了)(?:一张|个)?(?:中国)?(移动|联通|电信)的?")
_OPERATOR_WORD = re.compile(r"移动|联通|电信")
_CHURN_RETAINED = re.compile(r"不转了|不走了|不换了|续了|再用|留下|本来(?:想|要|打算)")
_CHURN_RELIEF = re.compile(r"(?:担心|跑|打电话|发短信|排队|等|去营业厅|操心|查)")
# @-mentioned accounts that are an audience outside the operator: media, regulators, consumer bodies, police.
_OUTSIDE_ACCOUNT = re.compile(r"报$|日报|晚报|早报|都市报|商报|青年报|法制|周末|周刊|新闻|电视|卫视|(?<![A-Za-z])TV|CCTV|央视|广电|"
                              r"广播|电台|频道|第一现场|头条|财经|新浪科技|腾讯科技|网易科技|人民网|新华|凤凰|澎湃|记者|媒体|"
                              r"消费|消协|消委|投诉|工信|工商|12315|315|市场监管|政府|发布$|曝光|爆料|维权|"
                              r"身边事|那些事|不知道的|事儿")
_OPERATOR_ACCOUNT = re.compile(r"电信|移动|联通|客服|营业厅|10086|10010|10000|天翼|沃|和包")


@dataclass(frozen=True)
class Taxonomy:
    """Touchpoint names in display order and one regex that finds any of their words.

    A weak word (`weak` in the file) names its touchpoints only when none of their `unless` touchpoints is
    named by a word of its own in the same post."""

    names: tuple[str, ...]
    pattern: re.Pattern[str]
    word_to_touchpoints: dict[str, tuple[str, ...]]
    weak: dict[str, tuple[str, ...]] = field(default_factory=dict)  # weak word -> touchpoints
    unless: dict[str, frozenset[str]] = field(default_factory=dict)  # touchpoint -> touchpoints that silence its weak words
    version: str = ""  # "rules-<digest>" of the words and of the risk patterns (rules_version); "" when built by hand

    def match(self, text: str) -> tuple[str, ...]:
        """Every touchpoint whose words appear in `text`, in taxonomy order; (其他,) when none does."""
        found: set[str] = set()
        weak: set[str] = set()
        for m in self.pattern.finditer(text.lower()):
            word = m.group()
            found.update(self.word_to_touchpoints.get(word, ()))
            weak.update(self.weak.get(word, ()))
        found.update(t for t in weak if not self.unless.get(t, frozenset()) & found)
        if not found:
            return (OTHER,)
        return tuple(n for n in self.names if n in found)


def _word_list(path: Path, name: str, spec: dict, key: str, required: bool) -> list[str]:
    words = spec.get(key, [] if not required else None)
    if not isinstance(words, list) or (required and not words) or not all(isinstance(w, str) and w for w in words):
        raise ValueError(f"{path}: [touchpoints.{name}] needs a {'non-empty ' if required else ''}list of {key}")
    return words


def load_taxonomy(path: str | Path = DEFAULT_TOUCHPOINTS) -> Taxonomy:
    """Read the touchpoint taxonomy; a malformed file raises ValueError naming the file and touchpoint."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: cannot read touchpoints: {exc}") from None
    table = data.get("touchpoints")
    if not isinstance(table, dict) or not table:
        raise ValueError(f"{path}: no [touchpoints.<name>] tables")
    word_map: dict[str, list[str]] = {}
    weak_map: dict[str, list[str]] = {}
    unless: dict[str, frozenset[str]] = {}
    for name, spec in table.items():
        if not isinstance(spec, dict):
            raise ValueError(f"{path}: [touchpoints.{name}] needs a non-empty list of words")
        for w in _word_list(path, name, spec, "words", True):
            word_map.setdefault(w.lower(), []).append(name)
        for w in _word_list(path, name, spec, "weak", False):
            weak_map.setdefault(w.lower(), []).append(name)
        others = _word_list(path, name, spec, "unless", False)
        if unknown := [o for o in others if o not in table]:
            raise ValueError(f"{path}: [touchpoints.{name}] unless names unknown touchpoints {unknown}")
        unless[name] = frozenset(others)
    names = tuple(table) + ((OTHER,) if OTHER not in table else ())
    alternation = "|".join(re.escape(w) for w in sorted(set(word_map) | set(weak_map), key=len, reverse=True))
    return Taxonomy(names, re.compile(alternation), {w: tuple(v) for w, v in word_map.items()},
                    {w: tuple(v) for w, v in weak_map.items()}, unless, rules_version(table))


def rules_version(table: dict) -> str:
    """A digest of the touchpoint words and of this module's risk and operator patterns: an analysis records it, so
    changed rules relabel stored posts (`yuqing sentiment reanalyze`) as a changed model does."""
    digest = hashlib.sha1(json.dumps(table, ensure_ascii=False, sort_keys=True).encode())
    for value in sorted((k, v.pattern) for k, v in globals().items() if isinstance(v, re.Pattern)):
        digest.update(repr(value).encode())
    for flag, compiled in sorted(_RISK_RE.items()):
        digest.update(f"{flag}={compiled.pattern}".encode())
    return f"rules-{digest.hexdigest()[:10]}"


_OPERATOR_RE = re.compile("|".join(f"(?P<op{i}>{p})" for i, p in enumerate(OPERATOR_PATTERNS.values())), re.I)
_OPERATOR_NAMES = tuple(OPERATOR_PATTERNS)
_RISK_RE = {flag: re.compile(p, re.I) for flag, p in RISK_PATTERNS.items()}


def detect_operators(text: str) -> tuple[str, ...]:
    """Canonical operators named in the text (中国电信, 中国移动, 中国联通), in canonical order."""
    found = set()
    for m in _OPERATOR_RE.finditer(text):
        found.add(_OPERATOR_NAMES[int(m.lastgroup[2:])])
    return tuple(n for n in _OPERATOR_NAMES if n in found)


# Services only an operator sells: a post naming one of these is about an operator even when it names none.
# (套餐, 流量 and 信号 are left out: restaurants sell 套餐, celebrities have 流量.)
TELECOM_TERMS = re.compile(r"宽带|光猫|光纤|话费|营业厅|携号转网|基站|运营商|装维|机顶盒|iptv|手机卡|电话卡|副卡|流量包|流量费|"
                           r"手机信号|没信号|无信号|信号差|销号|停机|彩铃|漫游|10086|10010|10000号|12300", re.I)


def about_operator(text: str, raw: str = "") -> bool:
    """Whether a post is about an operator: one is named in the normalised text or @-mentioned in the raw text,
    or it names a service only operators sell. The telecom layer of the default model decides these posts."""
    if TELECOM_TERMS.search(text) or _OPERATOR_RE.search(text):
        return True
    return any(_OPERATOR_RE.search(name) for name in mentions(raw)) if raw else False


def risk_flags(text: str, names: Sequence[str] = ()) -> tuple[str, ...]:
    """("escalation",) when the author threatens or calls on a regulator, consumer body, media or court (in the text
    or by @-mentioning such an account, `names`); ("churn",) when they are leaving, switching or regret joining."""
    flags = []
    if _RISK_RE["escalation"].search(text) or any(
            _OUTSIDE_ACCOUNT.search(n) and not _OPERATOR_ACCOUNT.search(n) for n in names):
        flags.append("escalation")
    churn = [m for m in _RISK_RE["churn"].finditer(text) if _author_leaving(text, m)]
    churn += [m for m in _SWITCHED.finditer(text) if _other_operator(text, m, names) and _author_leaving(text, m)]
    if churn and not (all("转网" in m.group() for m in churn) and _PORTING_NEWS.search(text)):
        flags.append("churn")
    return tuple(flags)


def _other_operator(text: str, m: re.Match[str], names: Sequence[str]) -> bool:
    """Whether the post also names an operator other than the one the writer took (in its text or @-mentions)."""
    rest = text[:m.start()] + text[m.end():] + " ".join(names)
    return any(op != m.group(1) for op in _OPERATOR_WORD.findall(rest))


def _sentence(text: str, m: re.Match[str]) -> tuple[str, str, str]:
    """(sentence before the match, the match, sentence after it): the sentence is cut at 。！？!? and newlines."""
    start = max(text.rfind(c, 0, m.start()) for c in "。！？!?\n") + 1
    ends = [i for i in (text.find(c, m.end()) for c in "。！？!?\n") if i >= 0]
    end = min(ends) + 1 if ends else len(text)
    return text[start:m.start()], m.group(), text[m.end():end]


def _author_leaving(text: str, m: re.Match[str]) -> bool:
    """Whether a churn word is the writer leaving: not a how-to question about porting or cancelling, not someone
    else, not relief (再也不用排队), not a retention (本来想转网…不转了), not 不后悔."""
    before, word, after = _sentence(text, m)
    if _CHURN_NOT_AUTHOR.search(before[-8:]) or _CHURN_TOLD.search(before) or _CHURN_RETAINED.search(after) or _CHURN_RETAINED.search(before[-4:]):
        return False
    if word.startswith("再也不用") and _CHURN_RELIEF.match(after):
        return False
    if word == "后悔" and before.endswith(("不", "不会", "没")):
        return False
    if word in ("换号", "换号码") and (before.endswith("不") or after.startswith(("码打", "打"))):
        return False
    question = after.rstrip().endswith(("?", "？")) or "吗" in after or _CHURN_HOWTO.search(before + word + after)
    return not (question and not _CHURN_INTENT.search(before + word + after))


def influence(followers: int, verified: bool, reposts: int, comments: int, likes: int) -> float:
    """Reach on a 0-100 scale: log-scaled audience and engagement, plus a bonus for verified accounts.

    10 followers -> 8, 10k -> 32, 1M -> 48 before engagement; 1,000 reposts add 27; verified adds 10.
    """
    score = (8 * math.log10(1 + max(followers, 0)) + 9 * math.log10(1 + max(reposts, 0))
             + 6 * math.log10(1 + max(comments, 0)) + 3 * math.log10(1 + max(likes, 0)) + (10 if verified else 0))
    return round(min(score, 100.0), 1)


def _cache_dir() -> Path:
    """Where derived data is cached: $YUQING_CACHE_DIR, else $XDG_CACHE_HOME/yuqing, else ~/.cache/yuqing."""
    if os.environ.get("YUQING_CACHE_DIR"):
        return Path(os.environ["YUQING_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "yuqing"


def _write_cache(path: Path, data: bytes) -> None:
    """Write a cache file atomically; a cache that cannot be written is only slower."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        pass


@lru_cache(maxsize=1)
def idf_table() -> tuple[dict[str, float], float]:
    """jieba's IDF table (word -> idf) and its median, for TF-IDF keywords without jieba.analyse's overhead (importing
    it loads jieba's part-of-speech tables and its own IDF copy: half a second in every crawl process)."""
    import importlib.util

    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("jieba")
    path = Path(spec.origin).parent / "analyse" / "idf.txt"
    stat = path.stat()
    cache = _cache_dir() / f"jieba-idf-{stat.st_size}-{int(stat.st_mtime)}.marshal"
    try:  # parsing the text costs every crawl process half a second; the cache a tenth of that
        idf, median = marshal.loads(cache.read_bytes())
        if isinstance(idf, dict) and isinstance(median, float):
            return idf, median
    except (OSError, ValueError, EOFError, TypeError):
        pass
    idf = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, value = line.partition(" ")
        if value:
            idf[word] = float(value)
    values = sorted(idf.values())
    median = values[len(values) // 2]
    _write_cache(cache, marshal.dumps((idf, median)))
    return idf, median


# Operator names are stored on the post already; as keywords they would top every list and say nothing.
OPERATOR_WORDS = frozenset({"电信", "移动", "联通", "中国电信", "中国移动", "中国联通", "运营商", "天翼", "10000号",
                            "10086", "10010"})


# Words that rank high by TF-IDF but name nothing a PR team can act on (seen as event "hot words" in the demo);
# kept apart from stopwords.txt, which the snownlp-weibo model was trained with.
VAGUE_WORDS = frozenset("""不了 好多 越来越 好像 这么 那么 不能 不会 没法 只能 终于 每次 一次 有人 有些 这次 那次 一天 一年
这种 那种 这些 那些 之后 之前 以后 以前 今年 去年 最近 刚刚 马上 总是 老是 一起 而已 居然 竟然 简直 到底 实在 肯定 其他
别的 还要 还得 得了 算了 这边 那边 这里 那里 多久 几天 好几 一会 不行 不用 出来 起来 下来 过来 一遍 多次 几次 很多""".split())
_COUNTED = re.compile(r"^第?[0-9零一二两三四五六七八九十百千万几]+[个次天条年月日号块元分秒周回遍趟家位人多]?$")


@lru_cache(maxsize=200_000)
def _keyword_worthy(word: str) -> bool:
    """A content word (sentiment.segment.content_words) that is not an operator's name, vague or a count."""
    return (bool(content_words([word])) and word not in OPERATOR_WORDS and word not in VAGUE_WORDS
            and not _COUNTED.match(word))


def keywords(words: list[str], k: int = 5) -> tuple[str, ...]:
    """Top-k TF-IDF words (jieba's IDF; telecom stopwords, operator names, vague words and counts such as 第六个
    removed); ties keep first occurrence."""
    idf, median = idf_table()
    counts: dict[str, int] = {}  # in order of first occurrence, so the stable sort keeps ties in that order
    for w in words:
        if w in counts:
            counts[w] += 1
        elif _keyword_worthy(w):
            counts[w] = 1
    if not counts:
        return ()
    ranked = sorted(counts, key=lambda w: -counts[w] * idf.get(w, median))
    return tuple(ranked[:k])
