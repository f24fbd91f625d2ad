"""One jieba Tokenizer with the telecom user dictionary and stopwords, loaded once per process.

`cut` gives exactly jieba's accurate mode without HMM (`Tokenizer.lcut(text, HMM=False)`) over the same
dictionary, computed faster: log-probabilities are taken once at start-up instead of per lookup, and the
segmentation of each run of Chinese/alphanumeric text is cached, since reposts and copied complaints repeat them.
"""

from __future__ import annotations

import logging
import math
import threading
from functools import lru_cache
from pathlib import Path

from sentiment.text import EMOTICON

HERE = Path(__file__).resolve().parent
USER_DICT = HERE / "telecom_dict.txt"
STOPWORDS_FILE = HERE / "stopwords.txt"
_lock = threading.Lock()


class _Segmenter:
    """jieba's prefix dictionary with precomputed log-probabilities."""

    def __init__(self, tok) -> None:
        import jieba

        self.tok = tok
        self.freq = tok.FREQ
        logtotal = math.log(tok.total)
        self.logp = {w: math.log(f) - logtotal for w, f in tok.FREQ.items() if f}
        self.unknown = math.log(1) - logtotal
        self.re_han = jieba.re_han_default
        self.re_eng = jieba.re_eng

    def cut_block(self, sentence: str) -> tuple[str, ...]:
        """jieba's __cut_DAG_NO_HMM for one run of Chinese/alphanumeric characters (same DAG, scores and ties)."""
        freq, logp, n = self.freq, self.logp, len(sentence)
        scores = [0.0] * (n + 1)
        ends = [0] * (n + 1)
        unknown = self.unknown
        for idx in range(n - 1, -1, -1):
            best, best_end = 0.0, -1
            i = idx
            frag = sentence[idx]
            while frag in freq:
                if freq[frag]:
                    score = logp[frag] + scores[i + 1]
                    if best_end < 0 or score > best or (score == best and i > best_end):
                        best, best_end = score, i
                i += 1
                if i >= n:
                    break
                frag = sentence[idx:i + 1]
            if best_end < 0:
                best, best_end = unknown + scores[idx + 1], idx
            scores[idx] = best
            ends[idx] = best_end
        words: list[str] = []
        buf = ""
        x = 0
        eng = self.re_eng.match
        while x < n:
            y = ends[x] + 1
            word = sentence[x:y]
            if y - x == 1 and eng(word):
                buf += word
            else:
                if buf:
                    words.append(buf)
                    buf = ""
                words.append(word)
            x = y
        if buf:
            words.append(buf)
        return tuple(words)

    def cut(self, text: str) -> list[str]:
        """Words of text without whitespace, as jieba's lcut(text, HMM=False) minus its whitespace tokens."""
        out: list[str] = []
        for block in self.re_han.split(text):
            if not block:
                continue
            if self.re_han.match(block):
                out.extend(_cached_block(block))
            else:
                out.extend(ch for ch in block if not ch.isspace())
        return out


@lru_cache(maxsize=1)
def tokenizer():
    """The process-wide jieba Tokenizer with the telecom dictionary (about a second to build, once)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _lock:
        tok = jieba.Tokenizer()
        tok.initialize()
        tok.load_userdict(str(USER_DICT))
    return tok


@lru_cache(maxsize=1)
def segmenter() -> _Segmenter:
    return _Segmenter(tokenizer())


@lru_cache(maxsize=100_000)
def _cached_block(block: str) -> tuple[str, ...]:
    return segmenter().cut_block(block)


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Function words, platform chatter and URL debris that say nothing about a post's subject."""
    words = STOPWORDS_FILE.read_text(encoding="utf-8").split()
    return frozenset(words)


def cut(text: str) -> list[str]:
    """Words of normalised text; emoticons stay whole (`[怒]`), whitespace is dropped."""
    seg = segmenter()
    out: list[str] = []
    pos = 0
    for m in EMOTICON.finditer(text):
        if m.start() > pos:
            out.extend(seg.cut(text[pos:m.start()]))
        out.append(m.group())
        pos = m.end()
    if pos < len(text):
        out.extend(seg.cut(text[pos:]))
    return out


def cache_info():
    """Hits and misses of the block cache (for benchmarks)."""
    return _cached_block.cache_info()


def clear_cache() -> None:
    """Forget cached segmentations, so a timing does not profit from an earlier pass over the same texts."""
    _cached_block.cache_clear()


def content_words(words: list[str]) -> list[str]:
    """Words worth counting as keywords: not stopwords, not emoticons, not punctuation or numbers alone."""
    return [w for w in words if _is_content(w)]


@lru_cache(maxsize=200_000)
def _is_content(word: str) -> bool:
    if len(word) < 2 or word.startswith("[") or word.isdigit() or word in stopwords():
        return False
    return any("\u4e00" <= ch <= "\u9fff" or ch.isalpha() for ch in word)
