"""The operator's terms for a post: touchpoints, operators, risk flags, influence and keywords."""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sentiment.segment import content_words
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

# Words that mean a customer is taking it further (regulator, media, lawyer) or leaving.
RISK_PATTERNS = {
    "escalation": r"工信部|(?<!\d)12300(?!\d)|(?<!\d)12315(?!\d)|(?<!\d)315(?!\d)|投诉到|投诉至|申诉到|媒体曝光|曝光|"
                  r"律师|起诉|法院|消协|通管局|黑猫投诉|找记者|上新闻|举报",
    "churn": r"携号转网|转网|销户|换运营商|换个运营商|注销号码|注销手机号|退网|销号|不用你们|再也不用|换移动|换联通|换电信",
}


@dataclass(frozen=True)
class Taxonomy:
    """Touchpoint names in display order and one regex that finds any of their words."""

    names: tuple[str, ...]
    pattern: re.Pattern[str]
    word_to_touchpoints: dict[str, tuple[str, ...]]

    def match(self, text: str) -> tuple[str, ...]:
        """Every touchpoint whose words appear in `text`, in taxonomy order; (其他,) when none does."""
        found: set[str] = set()
        for m in self.pattern.finditer(text.lower()):
            found.update(self.word_to_touchpoints[m.group()])
        if not found:
            return (OTHER,)
        return tuple(n for n in self.names if n in found)


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
    for name, spec in table.items():
        words = spec.get("words") if isinstance(spec, dict) else None
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
            raise ValueError(f"{path}: [touchpoints.{name}] needs a non-empty list of words")
        for w in words:
            word_map.setdefault(w.lower(), []).append(name)
    names = tuple(table) + ((OTHER,) if OTHER not in table else ())
    alternation = "|".join(re.escape(w) for w in sorted(word_map, key=len, reverse=True))
    return Taxonomy(names, re.compile(alternation), {w: tuple(v) for w, v in word_map.items()})


_OPERATOR_RE = re.compile("|".join(f"(?P<op{i}>{p})" for i, p in enumerate(OPERATOR_PATTERNS.values())), re.I)
_OPERATOR_NAMES = tuple(OPERATOR_PATTERNS)
_RISK_RE = {flag: re.compile(p, re.I) for flag, p in RISK_PATTERNS.items()}


def detect_operators(text: str) -> tuple[str, ...]:
    """Canonical operators named in the text (中国电信, 中国移动, 中国联通), in canonical order."""
    found = set()
    for m in _OPERATOR_RE.finditer(text):
        found.add(_OPERATOR_NAMES[int(m.lastgroup[2:])])
    return tuple(n for n in _OPERATOR_NAMES if n in found)


def risk_flags(text: str) -> tuple[str, ...]:
    """("escalation",) when the author threatens regulator, media or court; ("churn",) when they are leaving."""
    return tuple(flag for flag, rx in _RISK_RE.items() if rx.search(text))


def influence(followers: int, verified: bool, reposts: int, comments: int, likes: int) -> float:
    """Reach on a 0-100 scale: log-scaled audience and engagement, plus a bonus for verified accounts.

    10 followers -> 8, 10k -> 32, 1M -> 48 before engagement; 1,000 reposts add 27; verified adds 10.
    """
    score = (8 * math.log10(1 + max(followers, 0)) + 9 * math.log10(1 + max(reposts, 0))
             + 6 * math.log10(1 + max(comments, 0)) + 3 * math.log10(1 + max(likes, 0)) + (10 if verified else 0))
    return round(min(score, 100.0), 1)


@lru_cache(maxsize=1)
def idf_table() -> tuple[dict[str, float], float]:
    """jieba's IDF table (word -> idf) and its median, for TF-IDF keywords without jieba.analyse's overhead."""
    import jieba.analyse

    path = Path(jieba.analyse.__file__).with_name("idf.txt")
    idf: dict[str, float] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            word, _, value = line.rstrip("\n").partition(" ")
            if value:
                idf[word] = float(value)
    values = sorted(idf.values())
    return idf, values[len(values) // 2]


# Operator names are stored on the post already; as keywords they would top every list and say nothing.
OPERATOR_WORDS = frozenset({"电信", "移动", "联通", "中国电信", "中国移动", "中国联通", "运营商", "天翼", "10000号",
                            "10086", "10010"})


# Words that rank high by TF-IDF but name nothing a PR team can act on (seen as event "hot words" in the demo);
# kept apart from stopwords.txt, which the snownlp-weibo model was trained with.
VAGUE_WORDS = frozenset("""不了 好多 越来越 好像 这么 那么 不能 不会 没法 只能 终于 每次 一次 有人 有些 这次 那次 一天 一年
这种 那种 这些 那些 之后 之前 以后 以前 今年 去年 最近 刚刚 马上 总是 老是 一起 而已 居然 竟然 简直 到底 实在 肯定 其他
别的 还要 还得 得了 算了 这边 那边 这里 那里 多久 几天 好几 一会 不行 不用 出来 起来 下来 过来 一遍 多次 几次 很多""".split())
_COUNTED = re.compile(r"^第?[0-9零一二两三四五六七八九十百千万几]+[个次天条年月日号块元分秒周回遍趟家位人多]?$")


def _keyword_worthy(word: str) -> bool:
    return word not in OPERATOR_WORDS and word not in VAGUE_WORDS and not _COUNTED.match(word)


def keywords(words: list[str], k: int = 5) -> tuple[str, ...]:
    """Top-k TF-IDF words (jieba's IDF; telecom stopwords, operator names, vague words and counts such as 第六个
    removed); ties keep first occurrence."""
    idf, median = idf_table()
    counts = Counter(w for w in content_words(words) if _keyword_worthy(w))
    if not counts:
        return ()
    order = {w: i for i, w in reversed(list(enumerate(words)))}
    ranked = sorted(counts, key=lambda w: (-counts[w] * idf.get(w, median), order[w]))
    return tuple(ranked[:k])
