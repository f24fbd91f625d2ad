"""`yuqing sentiment train|eval|analyze|reanalyze|export-corrections`."""

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
    tr.add_argument("--models", default="all",
                    help="which models to rebuild: all (default), or a comma list of linear3, heads (the learned "
                         "touchpoint/churn heads), complaint (the telecom complaint detector), linear, snownlp-weibo "
                         "(linear and snownlp-weibo are rebuilt together); none with --splits-dir")
    tr.add_argument("--splits-dir", default="",
                    help="write the three-way model's dev and final splits here as label,text CSVs (for eval)")
    tr.set_defaults(func=train_command)

    ev = ssub.add_parser("eval", help="accuracy, macro-F1 and posts/s on a label,text CSV (1 positive, 0 negative; "
                                      "or negative/neutral/positive, scored with each model's neutral band)")
    ev.add_argument("--data", required=True, help="CSV with header label,text; or a telecom label file "
                                                  "(sentiment/dev/telecom_dev_labels.jsonl: ids joined with --texts) "
                                                  "for the whole analysis: complaints, touchpoints, escalation, churn")
    ev.add_argument("--texts", default="", help="with a telecom label file: the CSV of id,customer_first_turn "
                                                "(default: ../shared/data/telecom/stc3_test_operator_threads.csv)")
    ev.add_argument("--model", default="", help="model name (default: [sentiment] model in the settings, "
                                                 "which defaults to the best measured)")
    ev.add_argument("--compare", action="store_true", help="run every model on the same file and print a table")
    ev.add_argument("--model-dir", default="", help="read model files from here (default: the shipped ones)")
    ev.set_defaults(func=eval_command)

    an = ssub.add_parser("analyze", help="the whole analysis of each row of your own file, one JSON object per row "
                                         "in input order (label, score, touchpoints, operators, province, city, "
                                         "risk_flags, keywords)")
    an.add_argument("--input", required=True, help="a CSV with a `text` column, JSON lines with `text`, or plain "
                                                   "lines (one post a line); - reads standard input")
    an.add_argument("--format", choices=("auto", "csv", "jsonl", "lines"), default="auto",
                    help="input format (default: by the file name, else by the first line)")
    an.add_argument("--model", default="", help="model name (default: [sentiment] model in the settings)")
    an.set_defaults(func=analyze_command)

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
    from sentiment.training3 import train_linear3

    wanted = {m.strip() for m in args.models.split(",") if m.strip()}
    unknown = wanted - {"all", "linear3", "heads", "complaint", "linear", "snownlp-weibo", "none"}
    if unknown:
        print(f"error: --models: unknown {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    try:
        from sentiment.devset import shared_data

        data_dir = Path(args.data_dir) if args.data_dir else shared_data()
        out = Path(args.out) if args.out else MODEL_DIR
        report: dict = {}
        if args.splits_dir:
            from sentiment.training3 import write_splits

            report["splits"] = [str(p) for p in write_splits(data_dir, Path(args.splits_dir))]
        if wanted & {"all", "linear3"}:
            report["linear3"] = train_linear3(data_dir, out)
        if wanted & {"all", "heads"}:
            from sentiment.training_heads import train_heads

            report["heads"] = train_heads(out, data_dir)
        if wanted & {"all", "complaint"}:
            from sentiment.training_complaint import train_complaint

            report["complaint"] = train_complaint(out, data_dir)
        if wanted & {"all", "linear", "snownlp-weibo"}:
            report.update(train_all(data_dir, out, holdout_dir=Path(args.holdout_dir) if args.holdout_dir else None))
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
        names = list(REGISTRY) if args.compare else [resolve(args.model)]
        from sentiment.devset import is_label_file

        if is_label_file(args.data):
            return _eval_telecom(args, names)
        labels, texts, skipped = read_labelled(args.data)
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
    from sentiment.devset import shared_data
    from sentiment.text import normalize
    from sentiment.training import SETS
    from sentiment.training3 import split_of

    data = shared_data() / "sentiment"
    trained: set[str] = set()
    for filename in SETS.values():  # linear and snownlp-weibo learnt from all of these, linear3 from 80%
        if (data / filename).exists():
            trained.update(_texts(data / filename))
    # linear3 learnt from the train splits of the three-way sets too (never from their dev and final splits)
    for filename, salt in (("nlpcc2013_emotion.csv", "nl"), ("smp2020_virus_train.csv", "")):
        if (data / filename).exists():
            trained.update(t for t in _texts(data / filename) if not salt or split_of(normalize(t), salt) < 0.8)
    seen = sum(1 for t in texts if t in trained)
    if seen:
        print(f"warning: {seen} of {len(texts)} posts are in the data the shipped models were trained on "
              f"({data}): their accuracy is not a held-out measure. For one, run `yuqing sentiment train --out DIR "
              "--holdout-dir H` and evaluate H's files with --model-dir DIR; for linear3, evaluate the files "
              "`train --splits-dir D` writes.", file=sys.stderr)


def _texts(path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [(row.get("text") or "").strip() for row in csv.DictReader(fh)]


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
    for r in results:
        _print_classes(r["model"], r["per_class"], r["confusion"])
    print(json.dumps({"data": str(args.data), "results": results}, ensure_ascii=False))
    return 0 if results else 2


def _print_classes(model: str, per_class: dict, confusion: dict) -> None:
    """Per-label precision/recall/F1 and the confusion matrix (rows: true label, columns: predicted)."""
    labels = list(per_class)
    print(f"\n{model}: per label")
    print(f"  {'label':10} {'precision':>9} {'recall':>7} {'F1':>7} {'n':>6}")
    for lab, m in per_class.items():
        print(f"  {lab:10} {m['precision']:>9.4f} {m['recall']:>7.4f} {m['f1']:>7.4f} {m['support']:>6}")
    print("  confusion (rows true, columns predicted)")
    print("  " + " " * 10 + "".join(f"{lab:>10}" for lab in labels))
    for gold in labels:
        print(f"  {gold:10}" + "".join(f"{confusion[gold][p]:>10}" for p in labels))


def _eval_telecom(args: argparse.Namespace, names: list[str]) -> int:
    """The whole analysis of each model on a telecom label file joined with its texts: sentiment, complaints,
    touchpoints (micro and per touchpoint), escalation and churn."""
    from sentiment import devset
    from sentiment.analyze import Analyzer
    from sentiment.topics import load_taxonomy

    try:
        rows = devset.load(args.data, args.texts or None)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results = []
    for name, model in _models(names, args.model_dir):
        band = _band(name, args.model_dir)
        analyzer = Analyzer(model, load_taxonomy(), band=band)
        figures = devset.analyze_rows(rows, analyzer)
        results.append({"model": name, "version": analyzer.version, **figures})  # with the heads' and rules'

    print(f"{'model':16} {'n':>4} {'F1_3':>6} {'neg_rec':>7} {'compl->neg':>10} {'other->neg':>10} {'touch_F1':>8} "
          f"{'esc_P':>6} {'esc_R':>6} {'churn_P':>7} {'churn_R':>7}")
    for r in results:
        c, t = r["complaints"], r["touchpoints"]["micro"]
        print(f"{r['model']:16} {r['n']:>4} {r['sentiment']['macro_f1']:>6.3f} {r['sentiment']['negative_recall']:>7.3f} "
              f"{c['labelled_negative']:>10.3f} {c['non_complaints_labelled_negative']:>10.3f} {t['f1']:>8.3f} "
              f"{r['escalation']['precision']:>6.3f} {r['escalation']['recall']:>6.3f} "
              f"{r['churn']['precision']:>7.3f} {r['churn']['recall']:>7.3f}")
    for r in results:
        _print_classes(r["model"], r["sentiment"]["per_class"], r["sentiment"]["confusion"])
        print("  touchpoints (precision / recall / F1 / n)")
        for tp, m in r["touchpoints"]["per_touchpoint"].items():
            print(f"    {tp:12} {m['precision']:.3f} / {m['recall']:.3f} / {m['f1']:.3f} / {m['support']}")
    print(json.dumps({"data": str(args.data), "results": results}, ensure_ascii=False))
    return 0 if results else 2


def analyze_command(args: argparse.Namespace) -> int:
    """Rows of a user's file -> JSON lines on stdout; a bad row gets an error object on its line (exit 0)."""
    from sentiment.analyze import Analyzer
    from sentiment.analyze_file import run
    from yuqing.commands import settings_from
    from yuqing.config import ConfigError

    try:
        settings = settings_from(args)
        if args.model:
            settings = settings.replace(sentiment={"model": args.model})
        analyzer = Analyzer.from_settings(settings)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        errors = run(args.input, args.format, analyzer, sys.stdout, sys.stdin)
    except FileNotFoundError:
        print(f"error: {args.input}: no such file", file=sys.stderr)
        return 2
    except (ValueError, UnicodeDecodeError) as exc:
        print(f"error: {args.input}: {exc}", file=sys.stderr)
        return 2
    if errors:
        print(f"{errors} rows could not be analysed (their lines hold an error object)", file=sys.stderr)
    return 0


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
    version = analyzer.version
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
