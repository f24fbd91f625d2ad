"""`yuqing sentiment train|eval|export-corrections`."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser("sentiment", help="sentiment models: evaluate, export corrections")
    ssub = parser.add_subparsers(dest="sentiment_command", required=True)

    tr = ssub.add_parser("train", help="rebuild the model files from the shared labelled data, reproducibly")
    tr.add_argument("--data-dir", default="",
                    help="folder holding sentiment/*.csv (default: ../shared/data beside the project root)")
    tr.add_argument("--out", default="", help="where to write model files (default: the shipped sentiment/models/)")
    tr.add_argument("--holdout-dir", default="",
                    help="hold back 20%% of each set: write them here as label,text CSVs and train without them")
    tr.set_defaults(func=train_command)

    ev = ssub.add_parser("eval", help="accuracy, macro-F1 and posts/s on a label,text CSV (1 positive, 0 negative; "
                                      "or negative/neutral/positive, scored with each model's neutral band)")
    ev.add_argument("--data", required=True, help="CSV with header label,text")
    ev.add_argument("--model", default="", help="model name (default: [sentiment] model in the settings, "
                                                 "which defaults to the best measured)")
    ev.add_argument("--compare", action="store_true", help="run every model on the same file and print a table")
    ev.add_argument("--model-dir", default="", help="read model files from here (default: the shipped ones)")
    ev.set_defaults(func=eval_command)

    re_ = ssub.add_parser("reanalyze", help="analyze stored posts again with the configured model: those stored "
                                           "without analysis, or analyzed by another model version")
    re_.add_argument("--days", type=_positive_days, default=None,
                     help="only posts published in the last N days (default: every post)")
    re_.add_argument("--only-missing", action="store_true",
                     help="only posts stored without analysis (e.g. while the analyzer could not be loaded)")
    re_.add_argument("--dry-run", action="store_true",
                     help="analyze and count what would change (labels_changed too), write nothing")
    re_.set_defaults(func=reanalyze_command)

    ex = ssub.add_parser("export-corrections", help="write human label corrections as CSV label,text")
    ex.add_argument("--out", default="-", help="output file (default: stdout)")
    ex.set_defaults(func=export_corrections_command)


def train_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sentiment.models import MODEL_DIR
    from sentiment.training import train_all

    try:
        data_dir = Path(args.data_dir) if args.data_dir else Path(__file__).resolve().parents[2] / "shared" / "data"
        report = train_all(data_dir, Path(args.out) if args.out else MODEL_DIR,
                           holdout_dir=Path(args.holdout_dir) if args.holdout_dir else None)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, ensure_ascii=False))
    return 0


def eval_command(args: argparse.Namespace) -> int:
    from sentiment.evaluate import evaluate, read_labelled
    from sentiment.models import REGISTRY, resolve
    from yuqing.config import ConfigError

    try:
        if not args.model:
            from yuqing.commands import settings_from

            args.model = settings_from(args).sentiment.model
        labels, texts, skipped = read_labelled(args.data)
        names = list(REGISTRY) if args.compare else [resolve(args.model)]
        if not labels and skipped:
            return _eval_three(args, names)
    except (OSError, ValueError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    if skipped:
        others = sorted(_label_values(args.data) - {"0", "1"})
        classes = [v for v in others if v.lstrip("-").isdigit()]
        if classes:  # 2, 3, -1 ...: another labelling scheme, whose 0 and 1 may not mean negative and positive
            print(f"error: {args.data} has labels {', '.join(classes[:8])} besides 0/1: not a binary sentiment "
                  "file (1 positive, 0 negative), nor negative/neutral/positive", file=sys.stderr)
            return 2
        print(f"skipped {skipped} rows without a 0/1 label or text (other labels: {', '.join(others[:8]) or 'none'})",
              file=sys.stderr)
    if not labels:
        print(f"error: {args.data} has no labelled rows", file=sys.stderr)
        return 2
    if not args.model_dir:
        _warn_training_overlap(texts)
    results = [evaluate(model, labels, texts) for _, model in _models(names, args.model_dir)]
    print(f"{'model':16} {'n':>7} {'accuracy':>9} {'macro_f1':>9} {'posts/s':>10}")
    for r in results:
        print(f"{r.model:16} {r.n:>7} {r.accuracy:>9.4f} {r.macro_f1:>9.4f} {r.posts_per_s:>10.1f}")
    if args.compare:
        print(json.dumps({"data": str(args.data), "results": [r.as_json() for r in results]}, ensure_ascii=False))
    elif results:
        print(json.dumps(results[0].as_json(), ensure_ascii=False))
    return 0 if results else 2


def _label_values(path: str) -> set[str]:
    """The distinct values of the label column (for the message about a file that is not binary)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return {str(row.get("label", "")).strip() for row in csv.DictReader(fh)}


def _warn_training_overlap(texts: list[str]) -> None:
    """Say so on stderr when posts being scored are in the shared data the shipped models were trained on."""
    from pathlib import Path

    from sentiment.evaluate import read_labelled
    from sentiment.training import SETS

    data = Path(__file__).resolve().parents[2] / "shared" / "data" / "sentiment"
    trained: set[str] = set()
    for filename in SETS.values():
        if (data / filename).exists():
            trained.update(read_labelled(data / filename)[1])
    seen = sum(1 for t in texts if t in trained)
    if seen:
        print(f"warning: {seen} of {len(texts)} posts are in the data the shipped models were trained on "
              f"({data}): their accuracy is not a held-out measure. For one, run `yuqing sentiment train --out DIR "
              "--holdout-dir H` and evaluate H's files with --model-dir DIR.", file=sys.stderr)


def _models(names: list[str], model_dir: str) -> Iterator[tuple[str, Any]]:
    """Each named model that has its files; a missing one is reported on stderr and skipped."""
    from sentiment.models import get_model

    for name in names:
        try:
            yield name, get_model(name, model_dir or None)
        except FileNotFoundError as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)


def _band(name: str, model_dir: str) -> tuple[float, float]:
    """The model's neutral band from thresholds.json in model_dir (default: the shipped one)."""
    from pathlib import Path

    from sentiment.analyze import DEFAULT_BAND, neutral_band

    if not model_dir:
        return neutral_band(name)
    path = Path(model_dir) / "thresholds.json"
    band = json.loads(path.read_text(encoding="utf-8")).get(name, {}).get("band") if path.exists() else None
    return (float(band[0]), float(band[1])) if band else DEFAULT_BAND


def _eval_three(args: argparse.Namespace, names: list[str]) -> int:
    """Three-label evaluation (negative/neutral/positive) of each named model with its own neutral band."""
    from sentiment.evaluate import evaluate_three, read_three_labels

    labels, texts, skipped = read_three_labels(args.data)
    if skipped:
        print(f"skipped {skipped} rows without a negative/neutral/positive label or text", file=sys.stderr)
    if not labels:
        print(f"error: {args.data} has no labelled rows", file=sys.stderr)
        return 2
    results = [evaluate_three(model, _band(name, args.model_dir), labels, texts)
               for name, model in _models(names, args.model_dir)]
    print(f"{'model':16} {'n':>5} {'acc3':>7} {'F1_3':>7} {'acc_neg':>8} {'F1_neg':>7} {'neg_rec':>8} {'pos->neg':>8}")
    for r in results:
        print(f"{r['model']:16} {r['n']:>5} {r['accuracy']:>7.4f} {r['macro_f1']:>7.4f} {r['binary_accuracy']:>8.4f} "
              f"{r['binary_macro_f1']:>7.4f} {r['negative_recall']:>8.4f} {r['positive_as_negative']:>8}")
    print(json.dumps({"data": str(args.data), "results": results}, ensure_ascii=False))
    return 0 if results else 2


def _positive_days(value: str) -> float:
    try:
        days = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {value!r}") from None
    if days <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {value}")
    return days


def reanalyze_command(args: argparse.Namespace) -> int:
    """Stored posts analyzed again in batches through yuqing.ingest (the model loads once); human corrections are
    kept, events grow."""
    from datetime import timedelta

    from yuqing.commands import settings_from
    from yuqing.config import ConfigError
    from yuqing.errors import StoreError
    from yuqing.ingest import Ingest
    from yuqing.records import now_utc
    from yuqing.wiring import analyzer as shared_analyzer
    from yuqing.wiring import open_index

    try:
        settings = settings_from(args)
        analyzer = shared_analyzer(settings)
    except (ConfigError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    since = now_utc() - timedelta(days=args.days) if args.days else None
    version = analyzer.model.version
    totals = {"posts_seen": 0, "reanalyzed": 0, "labels_changed": 0, "unchanged": 0}
    index = open_index(settings)  # unusable: the CLI says 存储不可用 store unavailable (exit 1)
    try:
        try:
            ingest = Ingest(index, analyzer=lambda: analyzer)
            for page in index.iter_posts(batch=max(settings.sentiment.batch_size, 1)):
                totals["posts_seen"] += len(page)
                todo = [sp for sp in page if (since is None or sp.post.published_at >= since) and (
                    sp.analysis is None or (not args.only_missing and sp.analysis.model_version != version))]
                totals["unchanged"] += len(page) - len(todo)
                if not todo:
                    continue
                # a dry run analyzes too, so its counts are the real run's; it writes nothing
                report = ingest.write([sp.post for sp in todo], reanalyze=True, dry_run=bool(args.dry_run))
                if report.problem:
                    print(f"error: {report.problem}", file=sys.stderr)
                    return 1
                if report.written.failed:
                    print(f"error: {report.written.failed} posts not written: {'; '.join(report.written.errors[:3])}",
                          file=sys.stderr)
                    return 1
                totals["reanalyzed"] += len(todo)
                totals["labels_changed"] += report.labels_changed
        finally:
            index.close()
    except StoreError as exc:
        print(f"error: store unavailable: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({**totals, "model_version": version, "dry_run": bool(args.dry_run)}, ensure_ascii=False))
    return 0


def export_corrections_command(args: argparse.Namespace) -> int:
    from yuqing.commands import settings_from
    from yuqing.wiring import open_index

    settings = settings_from(args)
    store = open_index(settings)
    try:
        rows = store.list_corrections()
    finally:
        store.close()
    written, skipped = _write_corrections(rows, args.out)
    print(f"wrote {written} corrections to {args.out}; skipped {skipped} neutral or empty", file=sys.stderr)
    return 0


def _write_corrections(rows: list[dict[str, Any]], out: str) -> tuple[int, int]:
    """label,text rows for retraining: positive -> 1, negative -> 0; neutral and empty texts are counted and left out."""
    fh = sys.stdout if out == "-" else open(out, "w", encoding="utf-8", newline="")
    written = skipped = 0
    try:
        writer = csv.writer(fh)
        writer.writerow(["label", "text"])
        for row in rows:
            label = {"positive": "1", "negative": "0"}.get(str(row.get("label", "")))
            text = str(row.get("text") or "").strip()
            if label is None or not text:
                skipped += 1
                continue
            writer.writerow([label, text])
            written += 1
    finally:
        if fh is not sys.stdout:
            fh.close()
    return written, skipped
