"""Full-text tokens shared by both stores, so both find the same posts.

Two token streams per post:
- `words`: jieba `lcut_for_search` with a telecom dictionary, for relevance;
- `grams`: for every run of CJK characters its character bigrams plus its last character,
  and every ASCII word lower-cased. A query is turned into the same grams and matched as a
  phrase, so every post that contains the searched string is found (jieba alone split 断网
  into 断/网 and swallowed 宽带 into 电信宽带, losing 30-40% of matches).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from importlib import resources

_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")
_lock = threading.Lock()


_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


def _fold(s: str) -> str:
    """Full-width ASCII to half-width, lower-case."""
    return s.translate(_FULL_WIDTH).lower()


def _is_cjk(run: str) -> bool:
    return "\u3400" <= run[0] <= "\ufaff"


@lru_cache(maxsize=1)
def _tokenizer():  # type: ignore[no-untyped-def]
    import jieba

    with _lock:
        tok = jieba.Tokenizer()
        tok.initialize()
        words = resources.files("yuqing").joinpath("data/search_words.txt")
        with resources.as_file(words) as path:
            tok.load_userdict(str(path))
    return tok


def gram_tokens(text: str, *, trailing: bool = True) -> list[str]:
    out: list[str] = []
    for run in _RUN.findall(_fold(text)):
        if _is_cjk(run):
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
            if trailing or len(run) == 1:
                out.append(run[-1])
        else:
            out.append(run)
    return out


def word_tokens(text: str) -> list[str]:
    tok = _tokenizer()
    match = _RUN.fullmatch
    return [w for w in tok.lcut_for_search(_fold(text), HMM=False) if match(w)]


def index_tokens(text: str) -> tuple[str, str]:
    """(words, grams) as space-separated strings for the full-text index."""
    return " ".join(word_tokens(text)), " ".join(gram_tokens(text))


def query_phrases(query: str) -> list[tuple[list[str], bool]]:
    """The query as phrases that must all match: (tokens, last token is a prefix).

    Each whitespace-separated term becomes one phrase of grams in document order. Within a
    term every CJK run keeps its trailing character except the term's last run, which may end
    mid-run in the document; a last run of one character is matched as a prefix.
    """
    phrases: list[tuple[list[str], bool]] = []
    for term in query.split():
        runs = _RUN.findall(_fold(term))
        if not runs:
            continue
        tokens: list[str] = []
        prefix = False
        for i, run in enumerate(runs):
            last = i == len(runs) - 1
            if _is_cjk(run):
                if len(run) == 1:
                    tokens.append(run)
                    prefix = last
                else:
                    tokens.extend(run[j : j + 2] for j in range(len(run) - 1))
                    if not last:
                        tokens.append(run[-1])
            else:
                tokens.append(run)
                prefix = last  # "iph" finds "iphone"
        phrases.append((tokens, prefix))
    return phrases


def fts5_match(query: str) -> str:
    """An FTS5 MATCH expression over the `grams` column; '' when the query has no searchable text."""
    parts = []
    for tokens, prefix in query_phrases(query):
        phrase = '"' + " ".join(tokens) + '"' + (" *" if prefix else "")
        parts.append(f"grams : {phrase}")
    return " AND ".join(parts)
