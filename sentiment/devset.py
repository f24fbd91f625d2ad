"""Real posts to operators labelled with data/telecom/LABELLING.md, joined by id with their text, and the figures
of a whole analysis on them (sentiment, complaints, touchpoints, escalation, churn).

The labels (ids and labels only) are committed in sentiment/dev/: `telecom_dev_labels.jsonl` chooses models,
thresholds and keywords; `telecom_final_labels.jsonl` is looked at once, at the end. The texts are third-party
(`customer_first_turn` of ../shared/data/telecom/stc3_test_operator_threads.csv) and are never committed. An id
`<thread>:<turn index>` is a later turn of a thread, read from ../shared/data/telecom/stc3_test_dialogues_cn.json
(the follow-up files, and the customer-service turns of other companies).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABEL_FILES = {"dev": HERE / "dev" / "telecom_dev_labels.jsonl", "final": HERE / "dev" / "telecom_final_labels.jsonl",
               "dev_followups": HERE / "dev" / "telecom_dev_followups.jsonl",
               "final_followups": HERE / "dev" / "telecom_final_followups.jsonl"}
OTHER = "其他"


def shared_data() -> Path:
    """../shared/data beside the project root, or $YUQING_SHARED_DATA when set (a checkout elsewhere)."""
    return Path(os.environ.get("YUQING_SHARED_DATA") or HERE.parents[1] / "shared" / "data")


def threads_file() -> Path:
    return shared_data() / "telecom" / "stc3_test_operator_threads.csv"


def is_label_file(path: str | Path) -> bool:
    """A JSON-lines file of {"id", "sentiment", ...} rows (a telecom label file) rather than a labelled CSV."""
    path = Path(path)
    if path.suffix not in (".jsonl", ".json"):
        return False
    with path.open(encoding="utf-8") as fh:
        first = fh.readline().strip()
    try:
        row = json.loads(first)
    except json.JSONDecodeError:
        return False
    return isinstance(row, dict) and "id" in row and "sentiment" in row


def load(labels: str | Path = "dev", texts: str | Path | None = None) -> list[dict]:
    """Label rows (a split name or a label file) with their `text` joined by id (a thread's first post, or with
    `:<turn>` a later turn of it); FileNotFoundError names a missing texts file, ValueError an id without a text."""
    path = LABEL_FILES.get(str(labels), Path(labels))
    with Path(path).open(encoding="utf-8") as fh:
        rows = [(n, json.loads(line)) for n, line in enumerate(fh, 1) if line.strip()]
    if any(":" in str(row["id"]) for _, row in rows):
        return _turn_rows(path, rows, None)
    texts = Path(texts) if texts else threads_file()
    if not texts.exists():
        raise FileNotFoundError(f"{texts} is absent: the label file holds ids only, the texts are read from "
                                "../shared/data/telecom/stc3_test_operator_threads.csv")
    csv.field_size_limit(2**31 - 1)
    with texts.open(encoding="utf-8-sig", newline="") as fh:
        by_id = {row["id"]: row["customer_first_turn"] for row in csv.DictReader(fh)}
    out = []
    for n, row in rows:
        if str(row["id"]) not in by_id:
            raise ValueError(f"{path}:{n}: id {row['id']} has no text in {texts}")
        out.append({**row, "id": str(row["id"]), "text": by_id[str(row["id"])]})
    return out


WRITTEN = {name: HERE / "data" / f"telecom_written_{name}.jsonl" for name in ("e", "f")}
CUSTOMER_SERVICE = HERE / "dev" / "customer_service_labels.jsonl"


def written(name: str) -> list[dict]:
    """Telecom posts written for training by one writer (`e` or `f`), with full labels (committed: ours)."""
    with WRITTEN[name].open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def customer_service(labels: str | Path = CUSTOMER_SERVICE, data_dir: Path | None = None) -> list[dict]:
    """Labelled customer turns of STC-3 threads with other companies, text joined from
    ../shared/data/telecom/stc3_test_dialogues_cn.json (id `<thread>:<turn index>`, utterances joined by a space);
    FileNotFoundError names the missing dialogues file, ValueError an id without a turn."""
    with Path(labels).open(encoding="utf-8") as fh:
        rows = [(n, json.loads(line)) for n, line in enumerate(fh, 1) if line.strip()]
    return _turn_rows(labels, rows, data_dir)


def _turn_rows(labels: str | Path, rows: list[tuple[int, dict]], data_dir: Path | None) -> list[dict]:
    dialogues = (data_dir or shared_data()) / "telecom" / "stc3_test_dialogues_cn.json"
    if not dialogues.exists():
        raise FileNotFoundError(f"{dialogues} is absent: the label file {labels} holds ids only")
    turns = {d["id"]: d["turns"] for d in json.loads(dialogues.read_text(encoding="utf-8"))}
    out = []
    for n, row in rows:
        thread, _, index = str(row["id"]).partition(":")
        try:
            turn = turns[thread][int(index)]
        except (KeyError, IndexError, ValueError):
            raise ValueError(f"{labels}:{n}: id {row['id']} has no turn in {dialogues}") from None
        out.append({**row, "text": " ".join(u for u in turn["utterances"] if u)})
    return out


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
            "support": tp + fn}


def score(rows: Sequence[dict], labels: Sequence[str], touchpoints: Sequence[Sequence[str]],
          risks: Sequence[Sequence[str]]) -> dict:
    """Figures of one analysis of the rows: three-label sentiment, complaints labelled negative and non-complaints
    labelled negative, touchpoint micro P/R/F1 and per touchpoint (an empty gold list is 其他), escalation and churn."""
    from sentiment.evaluate import per_class, three_label_metrics

    gold = [r["sentiment"] for r in rows]
    from sentiment.evaluate import confusion

    out: dict = {"n": len(rows), "sentiment": {**three_label_metrics(gold, list(labels)),
                                               "per_class": per_class(gold, list(labels)),
                                               "confusion": confusion(gold, list(labels))}}
    comp = [lab == "negative" for r, lab in zip(rows, labels, strict=True) if r["complaint"]]
    other = [lab == "negative" for r, lab in zip(rows, labels, strict=True) if not r["complaint"]]
    out["complaints"] = {"n": len(comp), "labelled_negative": round(sum(comp) / len(comp), 4) if comp else 0.0,
                         "non_complaints": len(other),
                         "non_complaints_labelled_negative": round(sum(other) / len(other), 4) if other else 0.0}
    counts: dict[str, list[int]] = {}
    for r, pred in zip(rows, touchpoints, strict=True):
        g, p = set(r["touchpoints"]) or {OTHER}, set(pred) or {OTHER}
        for t in g | p:
            c = counts.setdefault(t, [0, 0, 0])
            c[0 if t in g and t in p else 1 if t in p else 2] += 1
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    out["touchpoints"] = {"micro": _prf(tp, fp, fn),
                          "per_touchpoint": {t: _prf(*c) for t, c in sorted(counts.items(), key=lambda kv: -sum(kv[1]))}}
    for flag in ("escalation", "churn"):
        g = [bool(r[flag]) for r in rows]
        p = [flag in rs for rs in risks]
        out[flag] = _prf(sum(a and b for a, b in zip(g, p, strict=True)), sum(b and not a for a, b in zip(g, p, strict=True)),
                         sum(a and not b for a, b in zip(g, p, strict=True)))
    return out


def analyze_rows(rows: Sequence[dict], analyzer) -> dict:
    """Run the analyzer over the rows as Weibo posts and score the result (see `score`)."""
    from datetime import UTC, datetime

    from yuqing.records import Post

    posts = [Post(platform="weibo", post_id=r["id"], text=r["text"], published_at=datetime(2016, 1, 1, tzinfo=UTC))
             for r in rows]
    analyses, _ = analyzer.analyze(posts)
    return score(rows, [a.label for a in analyses], [a.touchpoints for a in analyses],
                 [a.risk_flags for a in analyses])
