"""Telecom-domain sentiment cues (sentiment/telecom_lexicon.toml) with negation and intensifiers.

`evidence(text)` is the post's cue weight sum in log-odds units, squashed to at most `cap`; the default model
adds a fitted multiple of it to its logit (see sentiment/models/linear.py).
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

LEXICON_FILE = Path(__file__).resolve().parent / "telecom_lexicon.toml"
_CLAUSE = re.compile(r"[，。！？；、,.!?;:：~…\s]")
_LOOKBACK = 8  # characters before a cue searched for negators and intensifiers (then cut at the clause start)


def _alternation(words: Sequence[str]) -> re.Pattern[str] | None:
    """One regex of the words, longest first, so a longer word wins over a shorter one it contains."""
    words = sorted(set(words), key=lambda w: (-len(w), w))
    return re.compile("|".join(map(re.escape, words))) if words else None


@dataclass(frozen=True)
class Cue:
    weight: float
    praise: bool


class Lexicon:
    """Weighted complaint and praise cues; `evidence` scores one normalised text."""

    def __init__(self, cues: dict[str, Cue], *, negators: Sequence[str], not_negators: Sequence[str] = (),
                 intensifiers: Sequence[str] = (), cap: float = 4.0, negation_window: int = 3,
                 negated_complaint: float = -0.25, negated_praise: float = -1.0, intensifier_factor: float = 1.5,
                 intensifier_window: int = 2, domain: Sequence[str] = (), digest: str = "") -> None:
        self.cues = cues
        self.cap = float(cap)
        self.negation_window = int(negation_window)
        self.negated_complaint = float(negated_complaint)
        self.negated_praise = float(negated_praise)
        self.intensifier_factor = float(intensifier_factor)
        self.intensifier_window = int(intensifier_window)
        self.digest = digest
        self._cue_re = _alternation(list(cues))
        self._neg_re = _alternation(negators)
        self._int_re = _alternation(intensifiers)
        self._mask_re = _alternation(not_negators)
        self._domain_re = _alternation(domain)  # None: every text is in the domain

    @classmethod
    def load(cls, path: Path | str = LEXICON_FILE) -> Lexicon:
        """The lexicon in a TOML file; a malformed file is an error that names it."""
        path = Path(path)
        raw = path.read_bytes()
        try:
            data = tomllib.loads(raw.decode("utf-8"))
            cues = {w: Cue(float(v), False) for w, v in data.get("complaint", {}).items()}
            for w, v in data.get("praise", {}).items():
                if w in cues:
                    raise ValueError(f"{w!r} is both a complaint and a praise cue")
                cues[w] = Cue(float(v), True)
            options = {k: data[k] for k in ("cap", "negation_window", "negated_complaint", "negated_praise",
                                            "intensifier_factor", "intensifier_window") if k in data}
            return cls(cues, negators=list(data.get("negators", [])), not_negators=list(data.get("not_negators", [])),
                       intensifiers=list(data.get("intensifiers", [])), domain=list(data.get("domain", [])),
                       digest=hashlib.sha1(raw).hexdigest()[:8],
                       **options)
        except (tomllib.TOMLDecodeError, TypeError, ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: bad sentiment lexicon: {exc}") from None

    def matches(self, text: str) -> list[tuple[str, float]]:
        """(cue, weight after negation and intensifiers) for each cue found in the text, in order."""
        if self._cue_re is None or not text:
            return []
        found = [(m.start(), m.end(), m.group()) for m in self._cue_re.finditer(text)]
        if not found:
            return []
        masked = text
        if self._mask_re is not None:  # 不得不 / 没想到 do not negate; nor does a negator inside an earlier cue
            masked = self._mask_re.sub(lambda m: "#" * len(m.group()), masked)
        chars = list(masked)
        for start, end, _ in found:
            chars[start:end] = "#" * (end - start)
        masked = "".join(chars)
        out = []
        for start, _, cue_text in found:
            cue = self.cues[cue_text]
            before = _CLAUSE.split(masked[max(0, start - _LOOKBACK):start])[-1]
            raw = text[start - len(before):start]  # intensifiers are read unmasked: 非常 is not 非 but is 很
            weight = cue.weight
            if self._int_re is not None and self._int_re.search(raw[-self.intensifier_window:] if
                                                                 self.intensifier_window else ""):
                weight *= self.intensifier_factor
            if self._neg_re is not None and self._neg_re.search(before[-self.negation_window:] if
                                                                self.negation_window else ""):
                weight *= self.negated_praise if cue.praise else self.negated_complaint
            out.append((cue_text, weight))
        return out

    def in_domain(self, text: str) -> bool:
        """Whether the text names something telecom (an operator, a service, a bill): the cues count only there."""
        return self._domain_re is None or self._domain_re.search(text) is not None

    def evidence(self, text: str) -> float:
        """Sum of the text's cue weights, squashed into (-cap, cap); 0.0 when no cue occurs or outside the domain."""
        if not self.in_domain(text):
            return 0.0
        total = sum(w for _, w in self.matches(text))
        return self.cap * math.tanh(total / self.cap) if total else 0.0

    def evidences(self, texts: Sequence[str]) -> np.ndarray:
        return np.fromiter((self.evidence(t) for t in texts), dtype=np.float64, count=len(texts))


@cache
def default_lexicon() -> Lexicon:
    """The shipped telecom lexicon, loaded once per process."""
    return Lexicon.load(LEXICON_FILE)
