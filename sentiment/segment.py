"""One jieba Tokenizer with the telecom user dictionary and stopwords, loaded once per process."""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path

from sentiment.text import EMOTICON

HERE = Path(__file__).resolve().parent
USER_DICT = HERE / "telecom_dict.txt"
STOPWORDS_FILE = HERE / "stopwords.txt"
_lock = threading.Lock()


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
def stopwords() -> frozenset[str]:
    """Function words, platform chatter and URL debris that say nothing about a post's subject."""
    words = STOPWORDS_FILE.read_text(encoding="utf-8").split()
    return frozenset(words)


def cut(text: str) -> list[str]:
    """Words of normalised text; emoticons stay whole (`[怒]`), whitespace is dropped."""
    tok = tokenizer()
    out: list[str] = []
    pos = 0
    for m in EMOTICON.finditer(text):
        if m.start() > pos:
            out.extend(w for w in tok.lcut(text[pos:m.start()], HMM=False) if not w.isspace())
        out.append(m.group())
        pos = m.end()
    if pos < len(text):
        out.extend(w for w in tok.lcut(text[pos:], HMM=False) if not w.isspace())
    return out


def content_words(words: list[str]) -> list[str]:
    """Words worth counting as keywords: not stopwords, not emoticons, not punctuation or numbers alone."""
    stop = stopwords()
    return [w for w in words if len(w) > 1 and w not in stop and not w.startswith("[") and _wordlike(w)]


def _wordlike(word: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or ch.isalpha() for ch in word) and not word.isdigit()
